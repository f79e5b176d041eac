"""Input no parser should choke on: JSON that is not quite JSON, numbers longer than Python
converts, header bytes that are not UTF-8. Each is a 4xx in the usual envelope, never a 500,
and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.app import create_app
from service.cursor import MAX_ID
from tests.rawhttp import send
from tests.support import csrf_for, submit
from tests.test_login import is_logged_in

# Past Python's default limit for int() on a string (4,300 digits).
HUGE = "9" * 5000


async def count(db, table: str) -> int:
    async with db() as session:
        return await session.scalar(text(f"SELECT count(*) FROM {table}"))


async def signed_in(client, factory, login):
    account = await factory.user()
    await login(client, account)
    return account, await csrf_for(client)


async def a_post(client, token: str) -> int:
    response = await client.post(
        "/api/snapline/v1/posts", json={"body": "first"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 201
    return (await response.json())["id"]


def assert_envelope(body: dict, code: str) -> None:
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"body": "\\ud800"}', id="lone-high-surrogate"),
        pytest.param(b'{"body": "\\udfff x"}', id="lone-low-surrogate"),
        pytest.param(b'{"body": "a' + "\ud800".encode("utf-8", "surrogatepass") + b'"}', id="cesu"),
        pytest.param(b'{"body": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b'{"body": "x", "a": ' + b"[" * 1000 + b"]" * 1000 + b"}", id="deep-1000"),
        pytest.param(b'{"a": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", id="deep-30000"),
        pytest.param(b'{"a": ' + b'{"b": ' * 40 + b"1" + b"}" * 40 + b"}", id="deep-objects"),
        pytest.param(b'["body"]', id="array"),
        pytest.param(b'"body"', id="string"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"body": NaN}', id="nan"),
        pytest.param(b'{"body": 1' + b"0" * 400 + b"}", id="huge-number"),
    ],
)
async def test_malformed_json_is_400_and_creates_nothing(client, factory, login, db, raw):
    _, token = await signed_in(client, factory, login)
    post_id = await a_post(client, token)
    posts, comments = await count(db, "posts"), await count(db, "comments")
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    for path in ("/api/snapline/v1/posts", f"/api/snapline/v1/posts/{post_id}/comments"):
        response = await client.post(path, data=raw, headers=headers)
        assert response.status == 400, (path, await response.text())
        assert response.content_type == "application/json"
        assert_envelope(await response.json(), "invalid_json")
    assert (await count(db, "posts"), await count(db, "comments")) == (posts, comments)


async def test_moderate_nesting_inside_a_valid_body_is_accepted(client, factory, login):
    _, token = await signed_in(client, factory, login)
    body = b'{"body": "nested", "extra": ' + b"[" * 5 + b"]" * 5 + b"}"
    response = await client.post(
        "/api/snapline/v1/posts",
        data=body,
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status == 201


@pytest.mark.parametrize("post_id", [HUGE, str(MAX_ID + 1), "0" * 30 + "1", "0", "-1", "١٢"])
async def test_post_ids_out_of_range_are_404(client, factory, login, db, post_id):
    _, token = await signed_in(client, factory, login)
    page = await client.get(f"/p/{post_id}")
    assert page.status == 404
    assert "There is no such post" in await page.text()
    api = await client.get(f"/api/snapline/v1/posts/{post_id}")
    assert api.status == 404
    assert_envelope(await api.json(), "not_found")
    likes = await count(db, "likes")
    for method, path in [
        ("POST", f"/p/{post_id}/like"),
        ("POST", f"/p/{post_id}/comments"),
        ("POST", f"/p/{post_id}/delete"),
        ("POST", f"/api/snapline/v1/posts/{post_id}/like"),
        ("DELETE", f"/api/snapline/v1/posts/{post_id}"),
        ("GET", f"/api/snapline/v1/posts/{post_id}/comments"),
    ]:
        response = await client.request(
            method, path, data={"body": "hi"}, headers={"X-CSRF-Token": token}
        )
        assert response.status == 404, (method, path, response.status)
    assert await count(db, "likes") == likes


@pytest.mark.parametrize("comment_id", [HUGE, str(MAX_ID + 1)])
async def test_comment_ids_out_of_range_are_404(client, factory, login, comment_id):
    _, token = await signed_in(client, factory, login)
    form = await submit(client, f"/comments/{comment_id}/delete", token=token)
    assert form.status == 404
    api = await client.delete(
        f"/api/snapline/v1/comments/{comment_id}", headers={"X-CSRF-Token": token}
    )
    assert api.status == 404
    assert_envelope(await api.json(), "not_found")


@pytest.mark.parametrize("limit", ["1" * 5000, str(2**64), "0", "51", "+5", " 5", "٥"])
async def test_limits_out_of_range_are_400(client, limit):
    for path in ("/api/snapline/v1/explore", "/explore"):
        response = await client.get(path, params={"limit": limit})
        assert response.status == 400, (path, response.status)
    api = await client.get("/api/snapline/v1/explore", params={"limit": limit})
    assert_envelope(await api.json(), "invalid_limit")


def session_cookie(client) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["snapline_session"].value


async def test_unreadable_csrf_header_is_refused_as_missing(client, factory, login):
    await signed_in(client, factory, login)
    cookie = f"snapline_session={session_cookie(client)}"
    for accept in ("text/html", "application/json"):
        response = await send(
            client.server.port,
            "POST",
            "/logout",
            [("Cookie", cookie), ("X-CSRF-Token", b"\xff\xfe"), ("Accept", accept)],
        )
        assert response.status == 403, response.text
        assert "did not come from this site" in response.text
    assert await is_logged_in(client)


async def test_unreadable_session_cookie_is_anonymous(client, factory, login):
    for path in ("/", "/notifications", "/no-such-page", "/api/snapline/v1/timeline"):
        response = await send(
            client.server.port, "GET", path, [("Cookie", b"snapline_session=\xff\xfe")]
        )
        assert response.status in {200, 303, 401, 404}, (path, response.status)
        if response.status != 303:
            assert response.content_type in {"text/html", "application/json"}
    home = await send(client.server.port, "GET", "/", [("Cookie", b"snapline_session=\xff\xfe")])
    assert "Log in" in home.text


async def test_an_unreadable_neighbour_cookie_leaves_the_session_alone(client, factory, login):
    account, _ = await signed_in(client, factory, login)
    cookie = f"theme=\xff; snapline_session={session_cookie(client)}; x=\xfe\xff".encode("latin-1")
    response = await send(client.server.port, "GET", "/", [("Cookie", cookie)])
    assert response.status == 200
    assert f"@{account.username}" in response.text


@pytest.mark.parametrize(
    "name",
    [
        "Accept",
        "Accept-Language",
        "Last-Event-ID",
        "X-Requested-With",
        "Content-Type",
        "Host",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Origin",
        "Referer",
        "X-Request-Id",
        "If-None-Match",
        "If-Modified-Since",
        "Range",
    ],
)
async def test_unreadable_header_values_never_cause_a_server_error(
    client, factory, login, db, name
):
    await signed_in(client, factory, login)
    post_id = await a_post(client, await csrf_for(client))
    cookie = ("Cookie", f"snapline_session={session_cookie(client)}")
    likes = await count(db, "likes")
    for method, path in [
        ("GET", "/"),
        ("GET", f"/p/{post_id}"),
        ("GET", "/api/snapline/v1/explore"),
        ("GET", "/static/style.css"),
        ("GET", "/nowhere"),
        ("POST", f"/p/{post_id}/like"),
        ("POST", f"/api/snapline/v1/posts/{post_id}/like"),
    ]:
        response = await send(
            client.server.port, method, path, [cookie, (name, b"\xff\xfe\x80 \xc3(")]
        )
        assert response.status < 500, (method, path, response.status, response.text)
        # A file answers a Range it cannot read as aiohttp does any unsatisfiable one.
        if response.status >= 400 and (name, response.status) != ("Range", 416):
            assert response.content_type in {"text/html", "application/json"}
    # No token could be read, so no state-changing request got through.
    assert await count(db, "likes") == likes


def multipart(boundary: str, disposition: bytes, content: bytes) -> bytes:
    return (
        f"--{boundary}\r\n".encode()
        + b"Content-Disposition: form-data; "
        + disposition
        + b"\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize("with_header_token", [True, False], ids=["header-token", "form-token"])
async def test_multipart_part_headers_aiohttp_refuses_are_400(
    client, factory, login, db, with_header_token
):
    _, token = await signed_in(client, factory, login)
    posts = await count(db, "posts")
    boundary = "b0undary"
    body = multipart(boundary, b'name="body\x13"', b"hello")
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if with_header_token:
        headers["X-CSRF-Token"] = token
    for path in ("/posts", "/api/snapline/v1/posts"):
        response = await client.post(path, data=body, headers=headers)
        assert response.status == 400, (path, response.status)
    # Refused by the CSRF check's read of the first part, or by the upload's own reader.
    code = "bad_upload" if with_header_token else "invalid_body"
    assert_envelope(await response.json(), code)
    assert await count(db, "posts") == posts


async def test_a_missing_static_file_gets_the_404_page(client):
    response = await client.get("/static/no-such-file.css")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "There is nothing here" in await response.text()
    assert (await client.get("/static/style.css")).status == 200


@pytest.mark.parametrize(
    "name, value",
    [
        ("X-Forwarded-For", b"\xff\xfe"),
        ("X-Forwarded-For", b"not-an-address"),
        ("X-Forwarded-For", b"1.2.3.4, 5.6.7.8"),
        ("X-Forwarded-Proto", b"\xff"),
        ("X-Forwarded-Proto", b"gopher"),
        ("X-Forwarded-Host", b"\xff\xfe"),
        ("X-Forwarded-Host", b"a b<c>"),
        ("X-Forwarded-Host", b"[::1"),
        ("X-Forwarded-Host", b"host:99999"),
        ("Host", b"[::1"),
        ("Host", b"a b"),
    ],
)
async def test_forwarded_headers_from_a_trusted_proxy_never_cause_a_server_error(
    aiohttp_client, settings, name, value
):
    app = create_app(settings.replace(server={"trusted_proxies": ("127.0.0.1",)}))
    client = await aiohttp_client(app)
    for path in ("/", "/login", "/nowhere", "/api/snapline/v1/explore", "/p/1"):
        response = await send(client.server.port, "GET", path, [(name, value)])
        assert response.status < 500, (path, response.status, response.text)
        if response.status >= 400:
            assert response.content_type in {"text/html", "application/json"}
