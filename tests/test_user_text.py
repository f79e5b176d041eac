"""Characters user text may not have, refused with a field message wherever text enters
(pages and API); and the bidi characters that post bodies and comments may keep, isolated
where they are shown."""

from __future__ import annotations

from html.parser import HTMLParser

import aiohttp
import pytest
from sqlalchemy import text

from service.domain import accounts
from service.text import text_error
from tests.api import Api
from tests.support import submit
from tests.test_uploads import api_upload, camera_jpeg, photo_form

# One or two of each class, in the middle of the text (the ends are trimmed as whitespace).
CONTROLS = {
    "C0": "\x1b",
    "C0 vertical tab": "\x0b",
    "DEL": "\x7f",
    "C1 next line": "\x85",
    "C1 control sequence introducer": "\x9b",
}
INVISIBLE = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "pop directional formatting": "\u202c",
    "first strong isolate": "\u2068",
    "right-to-left isolate": "\u2067",
    "zero width space": "\u200b",
    "right-to-left mark": "\u200f",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "mongolian vowel separator": "\u180e",
    "tag character": "\U000e0041",
    "hangul filler": "\u3164",
}
LONE_SURROGATE = "\ud800"


def spoiled(char: str) -> str:
    return f"ab{char}cd"


@pytest.mark.parametrize("char", [*CONTROLS.values(), LONE_SURROGATE, "\u2028"])
def test_controls_are_refused_everywhere(char: str) -> None:
    assert text_error(spoiled(char)) is not None
    if char != "\u2028":  # a line separator is a line break, allowed in multi-line text
        assert text_error(spoiled(char), multiline=True) is not None


def test_line_breaks_and_tabs_only_where_allowed() -> None:
    assert text_error("a\tb") is None
    assert text_error("a\nb") is not None
    assert text_error("a\r\nb\tc", multiline=True) is None


@pytest.mark.parametrize("char", INVISIBLE.values())
def test_invisible_formatting_is_refused_in_names_only(char: str) -> None:
    assert "U+" in text_error(spoiled(char), name=True)
    assert text_error(spoiled(char), multiline=True) is None


def test_ordinary_text_of_every_script_is_accepted() -> None:
    for value in ["Zoë", "Ľudmila", "محمد", "שלום", "李小龍", "Ιωάννης", "Иван", "😀 ok"]:
        assert text_error(value, name=True) is None


async def count(db, statement: str, **values) -> int:
    async with db() as session:
        return await session.scalar(text(statement), values)


async def test_sign_up_refuses_every_class_in_the_username(client, db, factory):
    for char in [*CONTROLS.values(), *INVISIBLE.values()]:
        username = spoiled(char)
        response = await submit(
            client,
            "/signup",
            {"username": username, "email": "x@example.com", "password": "password1"},
            page="/signup",
        )
        body = await response.text()
        assert response.status == 422, repr(char)
        assert 'id="error-username"' in body, repr(char)
        assert await count(db, "SELECT count(*) FROM users WHERE email = 'x@example.com'") == 0


async def test_profile_edit_refuses_controls_and_invisible_names(client, factory, login, db):
    account = await factory.user()
    await login(client, account)

    async def save(**fields: str):
        form = {"display_name": "Plain", "location": "", "bio": ""} | fields
        return await submit(client, "/settings/profile", form, page="/settings/profile")

    for char in [*CONTROLS.values(), *INVISIBLE.values()]:
        response = await save(display_name=spoiled(char))
        body = await response.text()
        assert response.status == 422, repr(char)
        assert 'id="error-display_name"' in body and "not allowed" in body, repr(char)
    for char in CONTROLS.values():
        for field in ("location", "bio"):
            response = await save(**{field: spoiled(char)})
            assert response.status == 422, (field, repr(char))
            assert f'id="error-{field}"' in await response.text()
    saved = "SELECT count(*) FROM users WHERE id = :id AND display_name <> ''"
    assert await count(db, saved, id=account.id) == 0
    response = await save(display_name="Ana María", bio="line one\nline two\ttabbed")
    assert response.status == 303


async def test_posts_and_comments_refuse_controls_through_forms_and_api(client, factory, login, db):
    await login(client, await factory.user())
    api = Api(client)
    post_id = (await api.post_text("a post to comment on"))["id"]
    for char in CONTROLS.values():
        body = spoiled(char)
        response = await api.call("POST", "/api/snapline/v1/posts", {"body": body}, expect=422)
        error = (await response.json())["error"]
        assert error["code"] == "invalid_body" and "not allowed" in error["message"]
        response = await submit(client, "/posts", {"body": body})
        assert response.status == 422 and "not allowed" in await response.text()
        multipart = aiohttp.FormData()
        multipart.add_field("body", body, content_type="text/plain; charset=utf-8")
        response = await api_upload(client, multipart)
        assert response.status == 422, repr(char)
        assert (await response.json())["error"]["code"] == "invalid_body"
        response = await api_upload(
            client, photo_form([("a.jpg", camera_jpeg(64, 48), "image/jpeg")], alts=[body])
        )
        assert response.status == 422, repr(char)
        path = f"/api/snapline/v1/posts/{post_id}/comments"
        response = await api.call("POST", path, {"body": body}, expect=422)
        assert (await response.json())["error"]["code"] == "invalid_body"
        response = await submit(client, f"/p/{post_id}/comments", {"body": body})
        assert response.status == 422 and "not allowed" in await response.text()
    # A lone surrogate is refused too (as malformed JSON or as text), never stored.
    response = await api.call("POST", "/api/snapline/v1/posts", {"body": spoiled(LONE_SURROGATE)})
    assert response.status in (400, 422)
    response = await api.call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": spoiled(LONE_SURROGATE)}
    )
    assert response.status in (400, 422)
    assert await count(db, "SELECT count(*) FROM posts WHERE body LIKE 'ab%cd'") == 0
    assert await count(db, "SELECT count(*) FROM comments WHERE post_id = :id", id=post_id) == 0


# Controls that str.strip() counts as white space: at either end of a text they used to be
# cut off in silence before the check, so a post or bio with them was accepted.
STRIPPED_CONTROLS = ["\x85", "\x1c", "\x1f", "\x0b", "\x0c"]


@pytest.mark.parametrize("char", STRIPPED_CONTROLS, ids=repr)
async def test_controls_at_either_end_of_a_text_are_refused_not_trimmed(
    char, client, factory, login, db
):
    account = await factory.user()
    await login(client, account)
    api = Api(client)
    post_id = (await api.post_text("a post to comment on"))["id"]
    for value in (f"{char}text", f"text{char}"):
        response = await api.call("POST", "/api/snapline/v1/posts", {"body": value}, expect=422)
        assert (await response.json())["error"]["code"] == "invalid_body"
        response = await submit(client, "/posts", {"body": value})
        assert response.status == 422
        response = await api_upload(
            client, photo_form([("a.jpg", camera_jpeg(64, 48), "image/jpeg")], alts=[value])
        )
        assert response.status == 422
        path = f"/api/snapline/v1/posts/{post_id}/comments"
        await api.call("POST", path, {"body": value}, expect=422)
        response = await submit(client, f"/p/{post_id}/comments", {"body": value})
        assert response.status == 422
        form = {"display_name": "Plain", "location": value, "bio": value}
        response = await submit(client, "/settings/profile", form, page="/settings/profile")
        assert response.status == 422
    assert await count(db, "SELECT count(*) FROM posts WHERE author_id = :id", id=account.id) == 1
    assert await count(db, "SELECT count(*) FROM comments WHERE post_id = :id", id=post_id) == 0
    bios = "SELECT count(*) FROM users WHERE id = :id AND (bio <> '' OR location <> '')"
    assert await count(db, bios, id=account.id) == 0


class _TextParents(HTMLParser):
    """For each text node containing ``marker``: its element's tag and attributes, and the
    whole text of that element."""

    VOID = {"img", "input", "br", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.found: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, attrs, texts = self.stack.pop()
            content = "".join(texts)
            if self.marker in content:
                self.found.append((open_tag, attrs, content))
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def isolated_texts(html: str, marker: str) -> list[tuple[str, dict[str, str | None], str]]:
    parser = _TextParents(marker)
    parser.feed(html)
    parser.close()
    return parser.found


async def test_bidi_in_posts_and_comments_is_isolated_where_shown(client, factory, login):
    author = await factory.user()
    await login(client, author)
    api = Api(client)
    body = "price \u202e0.99 $\u202c and more \u202eunterminated"
    post_id = (await api.post_text(body))["id"]
    comment = "ok \u2067isolate never closed"
    await api.call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": comment}, expect=201
    )
    pages = [f"/p/{post_id}", "/", f"/@{author.username}", "/explore?sort=latest"]
    for path in pages:
        html = await (await client.get(path)).text()
        found = isolated_texts(html, "\u202e")
        assert found, path
        for tag, attrs, content in found:
            # The text's own element isolates it, and holds nothing but the user's text.
            assert tag == "bdi" or attrs.get("dir") == "auto", (path, tag, attrs)
            assert content == body
    html = await (await client.get(f"/p/{post_id}")).text()
    [(tag, attrs, content)] = isolated_texts(html, "\u2067")
    assert attrs.get("dir") == "auto" and content == comment


def test_a_username_with_a_final_newline_is_refused() -> None:
    # Also for the command line's create-admin, which checks only the username's pattern.
    assert accounts.username_error("admin_user\n") is not None
    assert accounts.username_error("admin_user") is None
