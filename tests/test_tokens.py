"""Bearer tokens at work: scopes per route (deny by default), suspension, personal access
tokens and the "Connected apps" page, revocation seen at once by every process."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service import scopes
from service.app import create_app
from service.domain import accounts
from service.keys import route_scopes_key, token_cache_key
from service.reads.token_cache import TokenCache
from service.reads.views import SessionUser, TokenGrant
from service.routes import TOKEN_SCOPES
from tests.oauth import NEW_TOKEN, bearer, personal_token, user_token
from tests.support import submit
from tests.test_session_cache import eventually

OUTSIDE = {"error": "This action is outside the authorized scopes"}
INVALID = {"error": "The access token is invalid"}


@pytest.mark.unit
def test_broad_scopes_include_their_granular_ones_as_mastodon_has_it():
    assert scopes.grants(frozenset({"read"}), "read:statuses")
    assert not scopes.grants(frozenset({"read"}), "write:statuses")
    assert not scopes.grants(frozenset({"read:statuses"}), "read")
    assert not scopes.grants(frozenset({"read:statuses"}), "read:accounts")
    assert scopes.grants(frozenset({"follow"}), "write:follows")
    assert not scopes.grants(frozenset({"follow"}), "write:statuses")
    assert not scopes.grants(frozenset({"write:media"}), "write:follows")
    assert scopes.grants_any(frozenset({"profile"}), ("read:accounts", "profile"))
    assert scopes.grants_any(frozenset({"push"}), scopes.ANY_TOKEN)
    with pytest.raises(scopes.UnknownScope):
        scopes.parse("read admin:read")


@pytest.mark.unit
def test_a_token_lookup_that_raced_a_revocation_is_not_remembered():
    cache = TokenCache()
    cache.listening(True)
    grant = TokenGrant(1, 2, SessionUser(3, "ann", "", "a@example.com", "user", True), frozenset())
    before = cache.generation
    cache.revoked(b"t1")
    cache.put(b"t1", grant, before)
    assert cache.get(b"t1") is None
    cache.put(b"t1", grant, cache.generation)
    assert cache.get(b"t1") == grant
    cache.user_changed(3)
    assert cache.get(b"t1") is None


def test_every_declared_scope_names_a_route_and_a_known_scope(settings):
    app = create_app(settings)
    declared = app[route_scopes_key].declared()
    assert set(declared) == set(TOKEN_SCOPES)
    assert all(scope in scopes.KNOWN for needed in declared.values() for scope in needed)


async def test_scopes_are_enforced_per_route_and_deny_by_default(client, factory, login):
    account, friend = await factory.user(), await factory.user()
    post_id = await factory.post(friend, "a friend's post")
    await login(client, account)
    reader = await user_token(client, scope="read")
    media = await user_token(client, scope="write:media")
    follower = await user_token(client, scope="follow")

    async def call(method: str, path: str, token: str, **kwargs) -> tuple[int, object]:
        response = await client.request(method, path, headers=bearer(token), **kwargs)
        return response.status, await response.json()

    # A read token reads, and cannot post.
    status, _ = await call("GET", f"/api/snapline/v1/posts/{post_id}", reader)
    assert status == 200
    assert await call("POST", "/api/snapline/v1/posts", reader, json={"body": "no"}) == (
        403, OUTSIDE,
    )  # fmt: skip
    # A media token cannot follow; a follow token can, and cannot like.
    follow_path = f"/api/snapline/v1/users/{friend.username}/follow"
    assert await call("POST", follow_path, media) == (403, OUTSIDE)
    status, body = await call("POST", follow_path, follower)
    assert status == 200 and body["following"] is True
    like_path = f"/api/snapline/v1/posts/{post_id}/like"
    assert await call("POST", like_path, follower) == (403, OUTSIDE)
    # Routes no scope opens: pages, the live stream, account settings.
    for path in ("/", "/api/snapline/v1/stream", "/settings/tokens"):
        response = await client.get(path, headers=bearer(reader))
        assert (response.status, await response.json()) == (403, OUTSIDE), path
    # Invalid tokens, whatever the route.
    for token in ("made-up", "x" * 1000, ""):
        response = await client.get("/api/snapline/v1/explore", headers=bearer(token))
        assert (response.status, await response.json()) == (401, INVALID), token
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # An unknown path is still a 404.
    assert (await client.get("/api/snapline/v1/nothing", headers=bearer(reader))).status == 404


async def test_a_suspended_persons_tokens_stop_working(client, factory, login, db):
    account = await factory.user()
    await login(client, account)
    token = await user_token(client, scope="read")
    assert (await client.get("/api/snapline/v1/timeline", headers=bearer(token))).status == 200
    async with db.begin() as session:
        await accounts.suspend(session, account.id)
    cache = client.server.app[token_cache_key]

    async def refused() -> bool:
        response = await client.get("/api/snapline/v1/timeline", headers=bearer(token))
        return response.status == 401

    await eventually(refused, "the suspended person's token is refused")
    assert len(cache) == 0


async def test_a_personal_access_token_is_shown_once_and_works(client, factory, login):
    account = await factory.user()
    await factory.post(account, "scripted")
    await login(client, account)
    status, page = await personal_token(client, "", ["read"])
    assert status == 422 and "Give the token a name" in page
    status, page = await personal_token(client, "backup script", ["read", "admin:all"])
    assert status == 422
    status, page = await personal_token(client, "backup script", ["read:statuses"])
    assert status == 201
    [token] = NEW_TOKEN.findall(page)
    timeline = await client.get("/api/snapline/v1/timeline", headers=bearer(token))
    assert (await timeline.json())["items"][0]["body"] == "scripted"
    verified = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert (await verified.json())["name"] == "backup script"
    listed = await (await client.get("/settings/tokens")).text()
    assert "backup script" in listed and token not in listed
    # read:statuses is not read:notifications.
    notices = await client.get("/api/snapline/v1/notifications", headers=bearer(token))
    assert notices.status == 403


async def _revoke_from_page(client: TestClient, page: str, action_marker: str) -> None:
    html = await (await client.get(page)).text()
    start = html.index(action_marker)
    action = html[html.index('action="', start) + 8 :]
    action = action[: action.index('"')]
    response = await submit(client, action, page=page)
    assert response.status == 303, await response.text()


async def test_revoking_in_settings_ends_access_at_once_in_every_process(
    client, aiohttp_client, settings, factory, login
):
    other: TestClient = await aiohttp_client(create_app(settings))
    other.session._cookie_jar = aiohttp.DummyCookieJar()
    other_cache = other.server.app[token_cache_key]
    await eventually(lambda: asyncio.sleep(0, other_cache._listening), "the other listens")
    account = await factory.user()
    await login(client, account)
    app_token = await user_token(client, scope="read")
    _, page = await personal_token(client, "bot", ["read"])
    [personal] = NEW_TOKEN.findall(page)

    async def other_status(token: str) -> int:
        response = await other.get("/api/snapline/v1/timeline", headers=bearer(token))
        return response.status

    # The other process remembers both tokens after one request each.
    assert await other_status(app_token) == 200 and await other_status(personal) == 200
    assert len(other_cache) == 2

    apps_page = await (await client.get("/settings/apps")).text()
    assert "Test app" in apps_page
    await _revoke_from_page(client, "/settings/apps", "data-app=")
    assert (await client.get("/settings/apps")).status == 200
    assert "Test app" not in await (await client.get("/settings/apps")).text()
    # This process at once; the other as soon as the database tells it.
    response = await client.get("/api/snapline/v1/timeline", headers=bearer(app_token))
    assert response.status == 401
    await eventually(lambda: _is(other_status(app_token), 401), "the other forgets the app")
    assert await other_status(personal) == 200

    await _revoke_from_page(client, "/settings/tokens", "data-token=")
    response = await client.get("/api/snapline/v1/timeline", headers=bearer(personal))
    assert response.status == 401
    await eventually(lambda: _is(other_status(personal), 401), "the other forgets the token")


async def _is(status, expected: int) -> bool:
    return await status == expected


async def test_revoke_buttons_need_the_csrf_token_and_touch_only_ones_own(
    client, make_client, factory, login
):
    owner, stranger = await factory.user(), await factory.user()
    await login(client, owner)
    _, page = await personal_token(client, "mine", ["read"])
    [token] = NEW_TOKEN.findall(page)
    html = await (await client.get("/settings/tokens")).text()
    start = html.index("data-token=")
    action = html[html.index('action="', start) + 8 :]
    action = action[: action.index('"')]
    assert (await client.post(action, allow_redirects=False)).status == 403
    other = await make_client(client)
    await login(other, stranger)
    response = await submit(other, action, page="/settings/tokens")
    assert response.status == 303
    assert (await client.get("/api/snapline/v1/timeline", headers=bearer(token))).status == 200


async def test_bearer_requests_are_rate_limited_per_token_with_mastodons_headers(
    aiohttp_client, settings, factory, login, db
):
    async with db.begin() as session:
        await session.execute(text("DELETE FROM rate_limit_counters"))
    limited = settings.replace(security={"api_requests_per_token": 3})
    client = await aiohttp_client(create_app(limited))
    await login(client, await factory.user())
    token, other = await user_token(client, "read"), await user_token(client, "read")
    seen = []
    for _ in range(4):
        response = await client.get("/api/snapline/v1/explore", headers=bearer(token))
        seen.append((response.status, response.headers["X-RateLimit-Remaining"]))
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Reset"].endswith("Z")
    assert seen == [(200, "2"), (200, "1"), (200, "0"), (429, "0")]
    assert int(response.headers["Retry-After"]) >= 1
    assert await response.json() == {"error": "Too many requests"}
    # Another token is counted on its own; cookie requests are not counted at all.
    assert (await client.get("/api/snapline/v1/explore", headers=bearer(other))).status == 200
    assert "X-RateLimit-Limit" not in (await client.get("/api/snapline/v1/explore")).headers

    # A second process shares the count once the first has added its own (about a second).
    second = await aiohttp_client(create_app(limited))

    async def shared() -> bool:
        response = await second.get("/api/snapline/v1/explore", headers=bearer(token))
        return response.status == 429

    await eventually(shared, "the second process sees the first one's count")
