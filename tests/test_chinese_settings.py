"""A person's settings, their reports and leaving (docs/translating.md), for someone who
reads Simplified Chinese: every settings page, the report form and what they are told on
the way, in Chinese; and the language they read Snapline in, chosen on the profile page."""

from __future__ import annotations

import html
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import text

from service.domain import exports, registration
from tests.chinese import CHINESE, ENGLISH, english_words
from tests.support import csrf_for, submit

CHINESE_PAGE = '<html lang="zh-Hans"'


def _english(page: str, *user_content: str) -> list[str]:
    """The English words of a page that must be in Chinese (english_words)."""
    assert CHINESE_PAGE in page
    return english_words(page, *user_content)


async def _chinese_page(client, path: str) -> str:
    response = await client.get(path, headers=CHINESE)
    assert response.status == 200, path
    return await response.text()


async def _send(client, path: str, data: dict[str, str], page: str | None = None):
    form = dict(data) | {"csrf_token": await csrf_for(client, page or path)}
    return await client.post(path, data=form, headers=CHINESE, allow_redirects=False)


async def test_every_settings_page_is_in_chinese(client, factory, login, db) -> None:
    me = await factory.user(role="admin")
    await login(client, me)
    pages = {
        "/settings/profile": ["个人主页设置", "头像", "昵称", "私密账号", "保存", "语言"],
        "/settings/password": ["密码设置", "当前密码", "新密码", "修改密码"],
        "/settings/reports": ["我的举报", "你还没有举报过任何内容。"],
        "/settings/invites": ["你的邀请", "你还没有创建过邀请。", "可使用人数", "创建邀请链接"],
        "/settings/apps": ["已连接的应用", "目前没有应用可以使用你的账号。"],
        "/settings/tokens": ["个人访问令牌", "你还没有个人访问令牌。", "权限", "创建令牌"],
        "/settings/export": ["下载你的数据", "申请存档"],
        "/settings/delete": ["删除你的账号", "删除我的账号", "下载你的数据"],
    }
    for path, chinese in pages.items():
        page = await _chinese_page(client, path)
        for words in [*chinese, "设置", "个人主页", "已屏蔽", "话题标签", "删除账号"]:
            assert words in page, (path, words)
        assert _english(page, me.username, me.email) == [], path


async def test_what_a_chinese_speaker_made_is_listed_in_chinese(client, factory, login, db) -> None:
    me = await factory.user(role="admin")
    await login(client, me)
    form = {"name": "backup script", "scopes": "read", "csrf_token": await csrf_for(client)}
    made = await client.post("/settings/tokens", data=form, headers=CHINESE)
    assert made.status == 201
    page = await made.text()
    assert "这是你的新令牌。请立即复制：它不会再次显示。" in page
    assert "使用时请发送 <code>Authorization: Bearer</code> 加上这个令牌。" in page
    assert "权限：<code>read</code> &middot; 创建于 " in page and ">撤销<" in page
    assert _english(page, me.username, me.email, "backup script") == []

    async with db.begin() as session:
        week = await registration.create_invite(session, me.id, 1, timedelta(days=7))
        ever = await registration.create_invite(session, me.id, None, None)
        await exports.request_export(session, me.id)
    invites = await _chinese_page(client, "/settings/invites")
    assert "已使用：0 / 1 次" in invites and "已使用：0 次（不限次数）" in invites
    assert "永不过期" in invites and " 过期" in invites and "年" in invites  # the exact moment
    assert '>撤销<span class="visually-hidden">邀请 ' in invites
    assert _english(invites, me.username, me.email, week, ever) == []

    archives = await _chinese_page(client, "/settings/export")
    assert "正在生成你的存档，准备好后我们会发邮件通知你。" in archives
    assert "你最近的存档" in archives and "：正在生成。" in archives
    assert _english(archives, me.username, me.email) == []


async def test_form_errors_and_confirmations_are_in_chinese(client, factory, login) -> None:
    me = await factory.user(role="admin")
    await login(client, me)
    refused = await _send(
        client, "/settings/password", {"current_password": "wrong", "new_password": "s3cret-new"}
    )
    assert refused.status == 422 and "当前密码不正确。" in await refused.text()
    changed = await _send(
        client,
        "/settings/password",
        {"current_password": me.password, "new_password": "an0ther-s3cret"},
    )
    assert changed.status == 303
    page = await _chinese_page(client, changed.headers["Location"])
    assert "密码已修改，其他地方的登录已被退出。" in page

    refused = await _send(client, "/settings/tokens", {"name": "", "scopes": "no-such"})
    page = await refused.text()
    assert refused.status == 422 and "请给令牌起个名字，方便以后辨认。" in page
    assert "请从列出的权限中选择。" in page
    assert _english(page, me.username, me.email) == []

    refused = await _send(client, "/settings/invites", {"max_uses": "7", "expires_in": "2"})
    page = await refused.text()
    assert refused.status == 422 and "请选择所提供的人数之一。" in page
    assert "请选择所提供的时长之一。" in page
    made = await _send(client, "/settings/invites", {"max_uses": "5", "expires_in": ""})
    assert made.status == 303
    assert "邀请链接已创建，请从列表中复制。" in await _chinese_page(client, "/settings/invites")

    refused = await _send(client, "/settings/profile", {"bio": "长" * 301})
    page = await refused.text()
    assert refused.status == 422 and "最多 300 个字符。" in page
    assert _english(page, me.username, me.email, "长" * 301) == []
    saved = await _send(client, "/settings/profile", {"bio": "你好", "language": "zh-Hans"})
    assert saved.status == 303
    assert "个人主页已保存。" in await _chinese_page(client, "/settings/profile")

    asked = await _send(client, "/settings/export", {})
    assert asked.status == 303
    assert "正在生成你的存档，准备好后我们会发邮件把链接发给你。" in await _chinese_page(
        client, "/settings/export"
    )
    again = await _send(client, "/settings/export", {})
    assert "你的存档仍在生成中" in await _chinese_page(client, again.headers["Location"])

    refused = await _send(client, "/settings/delete", {"password": "wrong"})
    page = await refused.text()
    assert refused.status == 422 and "密码不正确，未作任何更改。" in page
    assert _english(page, me.username, me.email) == []
    deleted = await _send(client, "/settings/delete", {"password": "an0ther-s3cret"})
    assert deleted.status == 303
    home = await _chinese_page(client, deleted.headers["Location"])
    assert "你的账号将于 " in home and "在此之前它对所有人隐藏；在此之前登录即可保留账号。" in home


async def test_a_report_is_made_and_followed_in_chinese(client, factory, login, make_client):
    me, them = await factory.user(), await factory.user()
    post_id = await factory.post(them, "a post in question")
    comment_id = await factory.comment(them, post_id, "a comment in question")
    await login(client, me)
    forms = {
        f"/p/{post_id}/report": f"举报 @{them.username} 的帖子",
        f"/comments/{comment_id}/report": f"举报 @{them.username} 的评论",
        f"/@{them.username}/report": f"举报 @{them.username}",
    }
    for path, heading in forms.items():
        page = await _chinese_page(client, path)
        assert f"<h1>{heading}</h1>" in page
        assert f"只有审核员能看到你的举报，@{them.username} 不会知道是谁举报的。" in page
        assert "有什么问题？" in page and ">提交举报<" in page and ">取消<" in page
        user_content = (me.username, me.email, them.username, "a post in question")
        assert _english(page, *user_content, "a comment in question") == [], path

    path = f"/p/{post_id}/report"
    refused = await _send(client, path, {"category": "nope"})
    assert refused.status == 422 and CHINESE_PAGE in await refused.text()
    sent = await _send(client, path, {"category": "spam", "comment": "看看这个"})
    assert sent.status == 303
    post_page = await _chinese_page(client, sent.headers["Location"])
    assert "谢谢！你的举报已提交给审核员。处理结果会显示在“设置”的“我的举报”中。" in post_page

    mine = await _chinese_page(client, "/settings/reports")
    assert f"<strong>@{them.username} 的帖子</strong>" in mine
    assert "处理中：审核员尚未作出决定。" in mine
    assert _english(mine, me.username, me.email, them.username) == []

    # Their own is refused in Chinese, by the page and by the API (its code stays English).
    theirs = await make_client(client)
    await login(theirs, them)
    refused = await theirs.get(path, headers=CHINESE)
    assert refused.status == 422 and "你不能举报自己或自己发布的内容。" in await refused.text()
    answer = await client.post(
        "/api/snapline/v1/reports",
        json={"category": "spam"},
        headers=CHINESE | {"X-CSRF-Token": await csrf_for(client)},
    )
    assert answer.status == 422
    assert (await answer.json())["error"] == {
        "code": "invalid_report",
        "message": "请指定 post_id、comment_id 或 username 中的一项。",
    }


# --- the language of the account, chosen on the profile page --------------------------------


async def _language_of(db, account) -> str | None:
    async with db() as session:
        return await session.scalar(
            text("SELECT language FROM users WHERE id = :id"), {"id": account.id}
        )


async def test_the_profile_page_chooses_the_accounts_language(client, factory, login, db) -> None:
    me = await factory.user()
    await login(client, me)
    page = await (await client.get("/settings/profile", headers=ENGLISH)).text()
    assert '<select id="field-language" name="language"' in page
    assert '<option value="en" lang="en" selected>English</option>' in page
    assert '<option value="zh-Hans" lang="zh-Hans">简体中文</option>' in html.unescape(page)

    # Saved as it was shown, the page's language is no choice: the account keeps none.
    saved = await submit(client, "/settings/profile", {"language": "en"}, page="/settings/profile")
    assert saved.status == 303 and await _language_of(db, me) is None

    saved = await submit(
        client, "/settings/profile", {"language": "zh-Hans"}, page="/settings/profile"
    )
    assert saved.status == 303 and await _language_of(db, me) == "zh-Hans"
    # The next page is in the language chosen, whatever the browser asks for, and so is
    # what it says about the form just sent.
    page = await (await client.get(saved.headers["Location"], headers=ENGLISH)).text()
    assert CHINESE_PAGE in page and "个人主页已保存。" in page
    assert '<option value="zh-Hans" lang="zh-Hans" selected>简体中文</option>' in html.unescape(
        page
    )

    # As a browser sends the form: multipart, for the photo it may carry.
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_for(client, "/settings/profile"))
    form.add_field("language", "en")
    saved = await client.post("/settings/profile", data=form, allow_redirects=False)
    assert saved.status == 303 and await _language_of(db, me) == "en"
    page = await (await client.get(saved.headers["Location"], headers=CHINESE)).text()
    assert '<html lang="en"' in page and "Your profile has been saved." in page


@pytest.mark.parametrize("language", ["fr", "", "zh_Hans", "zh-hant"])
async def test_the_profile_page_refuses_a_language_not_offered(
    client, factory, login, db, language: str
) -> None:
    me = await factory.user()
    await login(client, me)
    refused = await submit(
        client,
        "/settings/profile",
        {"language": language, "bio": "kept"},
        page="/settings/profile",
    )
    assert refused.status == 422
    page = await refused.text()
    assert '<p class="field-error" id="error-language">Choose one of the languages offered.' in page
    assert await _language_of(db, me) is None
    async with db() as session:
        bio = await session.scalar(text("SELECT bio FROM users WHERE id = :id"), {"id": me.id})
    assert bio == ""


async def test_one_language_offered_shows_no_language_field(
    aiohttp_client, base_settings, factory, login, db
) -> None:
    from service.app import create_app

    english_only = await aiohttp_client(
        create_app(base_settings.replace(app={"languages": ("en",)}))
    )
    me = await factory.user()
    await login(english_only, me)
    page = await (await english_only.get("/settings/profile")).text()
    assert 'name="language"' not in page
    # Nor is a language that is not offered taken from a form.
    refused = await submit(
        english_only, "/settings/profile", {"language": "zh-Hans"}, page="/settings/profile"
    )
    assert refused.status == 422 and await _language_of(db, me) is None
