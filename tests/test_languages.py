"""Languages (docs/translating.md): which one a page is in, the footer's switcher, the
account's choice, and catalogues that are complete and compiled from what the code marks."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import text

from service import i18n
from service.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from tests.oauth import NEW_TOKEN, bearer, personal_token
from tests.support import csrf_for, message_link, submit

CHINESE_PAGE = 'lang="zh-Hans"'
ENGLISH_PAGE = 'lang="en"'
# The footer's text in each language: a page in that language shows it.
CHINESE_FOOTER = "关于本站及其规则"
ENGLISH_FOOTER = "About this server and its rules"


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings.replace(app={"languages": ("en", "zh-Hans"), "default_language": "en"})


# --- choosing from what the browser asks for -------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-Hans-SG", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("en-GB,en;q=0.9", "en"),
        ("EN-us", "en"),
        ("fr,zh;q=0.1", "zh-Hans"),  # the first offered one asked for, however weakly
        ("fr;q=0.9,en;q=0.8,zh;q=0.85", "zh-Hans"),  # by weight, not by order
        ("en;q=0,zh;q=0.5", "zh-Hans"),  # q=0 means "not this one"
        # Traditional Chinese is another script: not offered, so the next choice or none.
        ("zh-TW", None),
        ("zh-HK,en;q=0.5", "en"),
        ("zh-Hant", None),
        ("fr", None),
        ("ja", None),
        ("", None),
        ("*", None),
        ("xx-@@,;;q=abc,;q=", None),
        ("zh;q=2", None),  # a weight above 1 is no weight
    ],
)
def test_negotiate_picks_the_offered_language_the_browser_prefers(
    header: str, expected: str | None
) -> None:
    assert i18n.negotiate(header, ("en", "zh-Hans")) == expected


def test_settings_refuse_languages_without_a_catalogue() -> None:
    defaults = load_settings(env={})
    with pytest.raises(SettingsError, match=r"app\.languages"):
        defaults.replace(app={"languages": ("en", "fr")})
    with pytest.raises(SettingsError, match=r"app\.default_language"):
        defaults.replace(app={"languages": ("en",), "default_language": "zh-Hans"})


async def test_a_visitor_gets_the_language_their_browser_asks_for(client) -> None:
    response = await client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = await response.text()
    assert CHINESE_PAGE in page and CHINESE_FOOTER in page
    assert ">登录<" in page and ">注册<" in page
    assert response.headers["Content-Language"] == "zh-Hans"
    assert "Accept-Language" in response.headers.getall("Vary", [])

    response = await client.get("/login", headers={"Accept-Language": "fr-FR, ja;q=0.5"})
    page = await response.text()
    assert ENGLISH_PAGE in page and ENGLISH_FOOTER in page  # the instance's default
    assert response.headers["Content-Language"] == "en"


async def test_the_instance_default_is_a_setting(aiohttp_client, base_settings) -> None:
    from service.app import create_app

    chinese = base_settings.replace(
        app={"languages": ("en", "zh-Hans"), "default_language": "zh-Hans"}
    )
    client = await aiohttp_client(create_app(chinese))
    page = await (await client.get("/login", headers={"Accept-Language": "de"})).text()
    assert CHINESE_PAGE in page and CHINESE_FOOTER in page


async def test_one_language_offered_shows_no_switcher(aiohttp_client, base_settings) -> None:
    from service.app import create_app

    english_only = base_settings.replace(app={"languages": ("en",)})
    client = await aiohttp_client(create_app(english_only))
    response = await client.get("/login", headers={"Accept-Language": "zh-CN"})
    page = await response.text()
    assert ENGLISH_PAGE in page and "language-switch" not in page
    assert "Content-Language" not in response.headers


async def test_error_pages_are_in_the_request_language(client) -> None:
    response = await client.get("/no/such/page", headers={"Accept-Language": "zh-CN"})
    assert response.status == 404
    page = await response.text()
    assert CHINESE_PAGE in page and CHINESE_FOOTER in page
    assert ">找不到页面<" in page and "这里什么都没有。" in page and ">返回首页<" in page
    assert "There is nothing here." not in page and "Back to the start" not in page


# --- the footer's switcher ----------------------------------------------------------------


async def test_the_switcher_keeps_a_visitors_choice_in_a_cookie(client) -> None:
    page = await (await client.get("/about")).text()
    assert 'action="/language"' in page and 'lang="zh-Hans"' in page  # the option's own name

    response = await submit(client, "/language", {"language": "zh-Hans", "next": "/about"})
    assert response.status == 303
    assert response.headers["Location"] == "/about"
    cookie = response.cookies["snapline_language"]
    assert cookie.value == "zh-Hans" and cookie["httponly"] and cookie["samesite"] == "Lax"

    # The cookie outweighs what the browser asks for.
    page = await (await client.get("/about", headers={"Accept-Language": "en"})).text()
    assert CHINESE_PAGE in page and CHINESE_FOOTER in page

    response = await submit(client, "/language", {"language": "en", "next": "/about"})
    page = await (await client.get("/about", headers={"Accept-Language": "zh-CN"})).text()
    assert ENGLISH_PAGE in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
async def test_the_switcher_goes_back_only_to_this_site(client, target: str) -> None:
    response = await submit(client, "/language", {"language": "zh-Hans", "next": target})
    assert response.status == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("language", ["fr", "", "zh_Hans", "zh-hans " * 10])
async def test_the_switcher_refuses_a_language_not_offered(client, db, language: str) -> None:
    response = await submit(client, "/language", {"language": language, "next": "/about"})
    assert response.status == 422
    assert "snapline_language" not in response.cookies
    page = await (await client.get("/about", headers={"Accept-Language": "en"})).text()
    assert ENGLISH_PAGE in page


async def test_the_switcher_needs_the_csrf_token(client) -> None:
    await client.get("/about")
    response = await client.post(
        "/language", data={"language": "zh-Hans", "next": "/"}, allow_redirects=False
    )
    assert response.status == 403
    assert "snapline_language" not in response.cookies


async def test_a_signed_in_choice_is_kept_on_the_account(
    client, make_client, factory, login, db
) -> None:
    account = await factory.user()
    await login(client, account)
    response = await submit(client, "/language", {"language": "zh-Hans", "next": "/"})
    assert response.status == 303
    async with db.begin() as session:
        stored = await session.scalar(
            text("SELECT language FROM users WHERE id = :id"), {"id": account.id}
        )
    assert stored == "zh-Hans"
    page = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    assert CHINESE_PAGE in page and ">首页<" in page

    # Another browser, without the cookie, asking for English: the account's choice wins
    # once they sign in.
    other = await make_client(client)
    page = await (await other.get("/login", headers={"Accept-Language": "en"})).text()
    assert ENGLISH_PAGE in page
    await login(other, account)
    page = await (await other.get("/", headers={"Accept-Language": "en"})).text()
    assert CHINESE_PAGE in page


async def test_an_apps_request_follows_the_devices_language(client, factory, login) -> None:
    """A bearer request's messages follow its Accept-Language before the account's choice."""
    account = await factory.user()
    await login(client, account)
    await submit(client, "/language", {"language": "zh-Hans", "next": "/"})
    status, page = await personal_token(client, "app", ["read"])
    assert status == 201
    [token] = NEW_TOKEN.findall(page)
    headers = bearer(token)
    verify = "/api/v1/accounts/verify_credentials"
    english = await client.get(verify, headers=headers | {"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"
    chinese = await client.get(verify, headers=headers)
    assert chinese.headers["Content-Language"] == "zh-Hans"  # none asked: the account's


# --- the catalogues --------------------------------------------------------------------------

LOCALE = PROJECT_ROOT / "service" / "locale"


def _catalogue(language: str):
    path = LOCALE / i18n.catalogue_name(language) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po)


def _marked_strings() -> set[str]:
    """Every string the code and templates mark, as `make messages` extracts them."""
    method_map = [
        ("service/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {"templates/**": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
    keywords["lazy_gettext"] = None
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        PROJECT_ROOT, method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", [tag for tag in i18n.LANGUAGES if tag != "en"])
def test_every_marked_string_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    translated = {
        (message.id if isinstance(message.id, str) else message.id[0])
        for message in catalogue
        if message.id
        and "fuzzy" not in message.flags
        and all(message.string if isinstance(message.string, tuple) else [message.string])
    }
    missing = sorted(_marked_strings() - translated)
    assert not missing, f"not translated into {language} (run `make messages`): {missing}"


def _tupled(value):
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("language", [tag for tag in i18n.LANGUAGES if tag != "en"])
def test_the_compiled_catalogue_is_the_current_one(language: str) -> None:
    def entries(catalogue) -> dict:
        # A plural's ids and forms are a tuple in a .po and a list in a .mo.
        return {
            _tupled(m.id): _tupled(m.string) for m in catalogue if m.id and "fuzzy" not in m.flags
        }

    source = entries(_catalogue(language))
    mo_path = LOCALE / i18n.catalogue_name(language) / "LC_MESSAGES" / "messages.mo"
    compiled = entries(read_mo(io.BytesIO(mo_path.read_bytes())))
    assert compiled == source, "the .mo is out of date: run `make messages`"


@pytest.mark.parametrize("language", [tag for tag in i18n.LANGUAGES if tag != "en"])
def test_translations_keep_their_placeholders(language: str) -> None:
    """A translation that drops or renames a %(name)s would fail when it is shown."""
    placeholder = re.compile(r"%\(\w+\)s")
    for message in _catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(ids[-1]))
        for string in strings:
            assert set(placeholder.findall(string)) == expected, (message.id, string)


# --- moments -------------------------------------------------------------------------------


def test_moments_are_worded_in_the_language_in_use() -> None:
    from datetime import UTC, datetime, timedelta

    from service.web import times

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    ago = [timedelta(seconds=10), timedelta(seconds=50), timedelta(minutes=3)]
    ago += [timedelta(hours=2), timedelta(days=3), timedelta(days=40), timedelta(days=400)]
    with i18n.using("en"):
        english = [times.relative_time(now - delta, now) for delta in ago]
        assert times.exact_time(now) == "2026-11-29 12:00 UTC"
    with i18n.using("zh-Hans"):
        chinese = [times.relative_time(now - delta, now) for delta in ago]
        assert times.exact_time(now) == "2026年11月29日 12:00:00 UTC"
        element = times.time_element(now, now)
    assert english == [
        "just now", "just now", "3 min ago", "2 h ago", "3 d ago", "5 w ago", "1 y ago"
    ]  # fmt: skip
    assert chinese == ["刚刚", "刚刚", "3分钟前", "2小时前", "3天前", "1个月前", "1年前"]
    assert 'title="2026年11月29日 12:00:00 UTC"' in element and element.endswith(">刚刚</time>")


# --- form errors, API errors and mails --------------------------------------------------------

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
# A mail's words once its links, addresses and the names in it are taken out: what is left
# must be Chinese (the product's name aside).
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
LINK_OR_ADDRESS = re.compile(r"https?://\S+|\S+@\S+")


async def _post(client, path: str, data: dict[str, str], headers: dict[str, str]):
    """A form sent by a browser that asks for ``headers``' language."""
    form = dict(data) | {"csrf_token": await csrf_for(client, path)}
    return await client.post(path, data=form, headers=headers, allow_redirects=False)


def _english_words(message, *user_content: str) -> list[str]:
    """The Latin-script words of a mail's subject and both bodies outside its links, its
    addresses, ``user_content`` and the name Snapline (markup and styles left out)."""
    html = message.get_body(("html",)).get_content()
    assert '<html lang="zh-Hans">' in html
    html = re.sub(r"<[^>]*>|&\w+;", " ", html)
    text = message.get_body(("plain",)).get_content()
    found = []
    for part in (message["Subject"], text, html):
        part = LINK_OR_ADDRESS.sub(" ", part)
        for content in (*user_content, "Snapline"):
            part = part.replace(content, " ")
        found += LATIN_WORD.findall(part)
    return found


async def test_a_chinese_speaker_signs_up_confirms_and_resets_in_chinese(
    client, mailbox, factory
) -> None:
    username = factory.unique()
    address = f"{username.lower()}@example.com"
    response = await _post(
        client,
        "/signup",
        {"username": username, "email": address, "password": "s3cret-pass"},
        CHINESE,
    )
    assert response.status == 303
    home = await (await client.get("/", headers=CHINESE)).text()
    assert f"欢迎你，{username}！请查收邮件验证邮箱地址，然后登录。" in home

    [confirm] = await mailbox.wait_for(address)
    assert confirm["Subject"] == "验证你的 Snapline 邮箱地址"
    text = confirm.get_body(("plain",)).get_content()
    assert f"{username}，你好：" in text
    assert "欢迎来到 Snapline！请打开这个链接验证你的邮箱地址：" in text
    assert "链接只能使用一次，48 小时内有效。" in text
    assert ">验证我的邮箱</a>" in confirm.get_body(("html",)).get_content()
    assert _english_words(confirm, username) == []
    for english in ("Welcome to Snapline", "Hello", "The link works once", "Confirm my"):
        assert english not in confirm.as_string()

    confirmed = await client.get(message_link(confirm), headers=CHINESE, allow_redirects=False)
    assert confirmed.status == 303
    login_page = await (await client.get(confirmed.headers["Location"], headers=CHINESE)).text()
    assert "你的邮箱地址已验证，登录即可开始使用。" in login_page

    response = await _post(client, "/password/forgot", {"email": address}, CHINESE)
    assert response.status == 303
    [_, reset] = await mailbox.wait_for(address, count=2)
    assert reset["Subject"] == "设置新的 Snapline 密码"
    text = reset.get_body(("plain",)).get_content()
    assert "有人请求重置你的 Snapline 账号密码。如需设置新密码，请打开：" in text
    assert "如果不是你本人操作，请忽略这封邮件：你的密码不会改变。" in text
    assert ">设置新密码</a>" in reset.get_body(("html",)).get_content()
    assert _english_words(reset, username) == []
    assert "Someone asked" not in reset.as_string()


async def test_a_mail_follows_the_recipients_choice_over_the_request(
    client, mailbox, factory, db
) -> None:
    """Someone signs up, in English, with the address of an account whose owner reads
    Chinese: the owner is told in Chinese. Without a choice, in the request's language."""
    owner = await factory.user()
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET language = 'zh-Hans' WHERE id = :id"), {"id": owner.id}
        )
    english = {"Accept-Language": "en"}
    form = {"username": factory.unique(), "email": owner.email, "password": "s3cret-pass"}
    assert (await _post(client, "/signup", form, english)).status == 303
    [notice] = await mailbox.wait_for(owner.email)
    assert notice["Subject"] == "有人尝试用你的邮箱地址注册 Snapline"
    assert (
        "有人尝试用这个邮箱地址注册新的 Snapline 账号。"
        in notice.get_body(("plain",)).get_content()
    )
    assert _english_words(notice, owner.username) == []

    other = await factory.user()
    assert (await _post(client, "/password/forgot", {"email": other.email}, english)).status == 303
    [reset] = await mailbox.wait_for(other.email)
    assert reset["Subject"] == "Choose a new Snapline password"


async def test_a_form_error_is_in_the_request_language(client) -> None:
    form = {"username": "no spaces", "email": "not-an-address", "password": "short"}
    response = await _post(client, "/signup", form, CHINESE)
    assert response.status == 422
    page = await response.text()
    assert CHINESE_PAGE in page
    assert "须为 3 到 30 个字符，仅限字母、数字和下划线。" in page
    assert "请输入有效的邮箱地址。" in page and "至少需要 8 个字符。" in page
    assert ">创建账号<" in page and ">用户名<" in page
    assert "Enter a valid email address." not in page and "Use at least" not in page


async def test_api_messages_follow_accept_language_and_codes_stay_english(client) -> None:
    response = await client.get("/api/snapline/v1/no-such-thing", headers=CHINESE)
    assert response.status == 404
    error = (await response.json())["error"]
    assert error == {"code": "not_found", "message": "这里什么都没有。"}
    response = await client.get("/api/snapline/v1/timeline", headers=CHINESE)
    assert response.status == 401
    error = (await response.json())["error"]
    assert error == {"code": "login_required", "message": "请登录后再操作。"}

    # The Mastodon API's {"error": ...} is shown by apps to their users as it is.
    verify = "/api/v1/accounts/verify_credentials"
    refused = await client.get(verify, headers=bearer("not-a-token") | CHINESE)
    assert refused.status == 401
    assert await refused.json() == {"error": "访问令牌无效"}
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    refused = await client.get(verify, headers=bearer("not-a-token") | {"Accept-Language": "en"})
    assert await refused.json() == {"error": "The access token is invalid"}
