"""Input no parser should choke on: JSON that is not quite JSON, numbers longer than Python
converts, header bytes that are not UTF-8. Each is a 4xx in the usual envelope, never a 500,
and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.support import csrf_for


async def count(db, table: str) -> int:
    async with db() as session:
        return await session.scalar(text(f"SELECT count(*) FROM {table}"))


async def signed_in(client, factory, login):
    account = await factory.user()
    await login(client, account)
    return account, await csrf_for(client)


async def a_post(client, token: str) -> int:
    response = await client.post(
        "/api/v1/posts", json={"body": "first"}, headers={"X-CSRF-Token": token}
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
    for path in ("/api/v1/posts", f"/api/v1/posts/{post_id}/comments"):
        response = await client.post(path, data=raw, headers=headers)
        assert response.status == 400, (path, await response.text())
        assert response.content_type == "application/json"
        assert_envelope(await response.json(), "invalid_json")
    assert (await count(db, "posts"), await count(db, "comments")) == (posts, comments)


async def test_moderate_nesting_inside_a_valid_body_is_accepted(client, factory, login):
    _, token = await signed_in(client, factory, login)
    body = b'{"body": "nested", "extra": ' + b"[" * 5 + b"]" * 5 + b"}"
    response = await client.post(
        "/api/v1/posts",
        data=body,
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status == 201
