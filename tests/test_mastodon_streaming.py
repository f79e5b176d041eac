"""The Mastodon streaming API over real HTTP: a reader's stream hears of posts of their home
timeline, their deletion and their notifications, each under the visibility rule for that
reader; tokens and scopes decide who may stream, and a stream ends with its token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service import live
from service.domain import accounts, blocks, follows, oauth, posts, profiles
from service.security import token_hash
from tests.oauth import bearer
from tests.support import submit

EVENT_WITHIN_SECONDS = 5.0
# The database's announcement ends a stream well under the periodic check.
END_WITHIN_SECONDS = 3.0
USER_STREAM = "/api/v1/streaming/user"


class StreamEnded(Exception):
    pass


class Events:
    """The events of an open stream, read as an app reads them: comments (the opening
    line, heartbeats) skipped, each event its name and its data."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, within: float = EVENT_WITHIN_SECONDS) -> tuple[str, str]:
        deadline = time.monotonic() + within
        name = data = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no event within {within} s")
            line = await asyncio.wait_for(self.response.content.readline(), remaining)
            if not line:
                raise StreamEnded
            text_line = line.decode().rstrip("\n")
            if text_line.startswith(":"):
                continue
            if text_line.startswith("event: "):
                name = text_line[len("event: ") :]
            elif text_line.startswith("data: "):
                data = text_line[len("data: ") :]
            elif text_line == "" and name is not None and data is not None:
                return name, data

    async def until_the_end(self, within: float) -> list[str]:
        """The names of the events still sent before the stream ends; fails if it is still
        open after ``within`` seconds."""
        names: list[str] = []
        deadline = time.monotonic() + within
        while True:
            try:
                name, _ = await self.next(max(deadline - time.monotonic(), 0.01))
            except (StreamEnded, aiohttp.ClientPayloadError, ConnectionError):
                return names
            except AssertionError:
                raise AssertionError(f"the stream was still open after {within} s") from None
            names.append(name)


@contextlib.asynccontextmanager
async def streaming(
    client: TestClient, path: str = USER_STREAM, **request: object
) -> AsyncIterator[Events]:
    response = await client.get(path, **request)
    try:
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        # Mastodon's opening comment: from here on the stream hears every event.
        assert await asyncio.wait_for(response.content.readline(), EVENT_WITHIN_SECONDS) == b":)\n"
        yield Events(response)
    finally:
        response.close()


async def token_for(db, account, granted: set[str]) -> str:
    async with db.begin() as session:
        issued = await oauth.personal_token(session, account.id, "streaming", frozenset(granted))
    return issued.token


async def status_id_of(db, post_id: int) -> str:
    async with db() as session:
        found = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": post_id}
        )
    return str(found)


async def test_a_followers_stream_tells_of_posts_deletions_likes_and_follows(client, factory, db):
    reader, author = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    token = await token_for(db, reader, {"read"})
    author_token = await token_for(db, author, {"read", "write"})
    async with streaming(client, headers=bearer(token)) as events:
        await factory.post(author, "fresh from the author")
        name, data = await events.next()
        assert name == "update"
        update = json.loads(data)
        assert update["account"]["id"] == str(author.id)
        assert "fresh from the author" in update["content"]
        # The same Status the home timeline shows.
        home = await client.get("/api/v1/timelines/home", headers=bearer(token))
        assert (await home.json())[0] == update

        own_post = await factory.post(reader, "my own words")
        name, data = await events.next()
        own = json.loads(data)
        assert name == "update" and own["account"]["id"] == str(reader.id)
        assert "my own words" in own["content"]
        assert own["id"] == await status_id_of(db, own_post)

        liked = await client.post(
            f"/api/v1/statuses/{own['id']}/favourite", headers=bearer(author_token)
        )
        assert liked.status == 200
        name, data = await events.next()
        notification = json.loads(data)
        assert name == "notification" and notification["type"] == "favourite"
        assert notification["account"]["id"] == str(author.id)
        assert notification["status"]["id"] == own["id"]

        followed = await client.post(
            f"/api/v1/accounts/{reader.id}/follow", headers=bearer(author_token)
        )
        assert followed.status == 200
        name, data = await events.next()
        notification = json.loads(data)
        assert name == "notification" and notification["type"] == "follow"
        assert notification["account"]["id"] == str(author.id)

        deleted = await client.delete(
            f"/api/v1/statuses/{update['id']}", headers=bearer(author_token)
        )
        assert deleted.status == 200
        assert await events.next() == ("delete", update["id"])


async def test_a_reader_hears_nothing_of_whom_they_blocked_or_muted_or_the_suspended(
    client, factory, db
):
    reader, friend = await factory.user(), await factory.user()
    blocked, blocker, muted, suspended = [await factory.user() for _ in range(4)]
    for person in (friend, blocked, blocker, muted, suspended):
        await factory.follow(reader, person)
    reader_post = await factory.post(reader, "something to like")
    async with db.begin() as session:
        await blocks.block(session, reader.id, blocked.id)
        await blocks.block(session, blocker.id, reader.id)
        await blocks.mute(session, reader.id, muted.id)
        # Put the follows back by hand: the rule alone must keep their posts away.
        for followed in (blocked, blocker):
            await session.execute(
                text("INSERT INTO follows (follower_id, followed_id) VALUES (:a, :b)"),
                {"a": reader.id, "b": followed.id},
            )
        await accounts.suspend(session, suspended.id)
    token = await token_for(db, reader, {"read"})
    async with streaming(client, headers=bearer(token)) as events:
        hidden = [
            await factory.post(p, "hidden words") for p in (blocked, blocker, muted, suspended)
        ]
        shown = await factory.post(friend, "words of a friend")
        # Events reach a stream in the order they happened: the first it hears is the
        # friend's post.
        name, data = await events.next()
        friends = json.loads(data)
        assert name == "update" and "words of a friend" in friends["content"]

        for post_id in [*hidden, shown]:
            async with db.begin() as session:
                await posts.delete_post(session, post_id)
        assert await events.next() == ("delete", friends["id"])

        # The muted person's like of the reader's post is no news to the reader.
        await factory.like(muted, reader_post)
        await factory.like(friend, reader_post)
        name, data = await events.next()
        assert name == "notification" and json.loads(data)["account"]["id"] == str(friend.id)


async def test_streaming_needs_a_token_with_a_read_scope(client, factory, db):
    reader = await factory.user()
    for path in (USER_STREAM, "/api/v1/streaming?stream=user"):
        refused = await client.get(path)
        assert refused.status == 401
        assert await refused.json() == {"error": "Missing access token"}
        invalid = await client.get(path, headers=bearer("no-such-token"))
        assert invalid.status == 401
        assert await invalid.json() == {"error": "The access token is invalid"}

    writer = await token_for(db, reader, {"write"})
    outside = await client.get(USER_STREAM, headers=bearer(writer))
    assert outside.status == 403
    assert await outside.json() == {"error": "This action is outside the authorized scopes"}
    notifications_only = await token_for(db, reader, {"read:notifications"})
    for path in (USER_STREAM, "/api/v1/streaming?stream=user"):
        response = await client.get(path, headers=bearer(notifications_only))
        assert response.status == 403, path
    async with streaming(
        client, "/api/v1/streaming/user/notification", headers=bearer(notifications_only)
    ):
        pass

    reading_token = await token_for(db, reader, {"read"})
    unknown = await client.get(
        "/api/v1/streaming", params={"stream": "public"}, headers=bearer(reading_token)
    )
    assert unknown.status == 400
    assert await unknown.json() == {"error": "Unknown stream type"}

    health = await client.get("/api/v1/streaming/health")
    assert health.status == 200 and await health.text() == "OK"
    assert health.content_type == "text/plain"


async def test_scopes_choose_the_events_and_the_query_may_carry_the_token(client, factory, db):
    reader, friend, fan = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(reader, friend)
    statuses_only = await token_for(db, reader, {"read:statuses"})
    notifications_only = await token_for(db, reader, {"read:notifications"})
    query = {"stream": "user", "access_token": statuses_only}
    async with (
        streaming(client, "/api/v1/streaming", params=query) as statuses,
        streaming(
            client,
            "/api/v1/streaming/user/notification",
            params={"access_token": notifications_only},
        ) as notified,
    ):
        await factory.follow(fan, reader)
        await factory.post(friend, "posted after the follow")
        name, data = await statuses.next()
        assert name == "update" and "posted after the follow" in json.loads(data)["content"]
        name, data = await notified.next()
        assert name == "notification" and json.loads(data)["type"] == "follow"
        await factory.follow(friend, reader)
        name, data = await notified.next()
        assert name == "notification" and json.loads(data)["account"]["id"] == str(friend.id)


async def test_a_revoked_tokens_stream_ends_within_seconds(client, factory, db, login):
    reader, author = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    token = await token_for(db, reader, {"read"})
    async with db() as session:
        token_id = await session.scalar(
            text("SELECT id FROM access_tokens WHERE token_hash = :hash"),
            {"hash": token_hash(token)},
        )
    await login(client, reader)
    async with streaming(client, headers=bearer(token)) as events:
        revoked = await submit(
            client, f"/settings/tokens/{token_id}/revoke", page="/settings/tokens"
        )
        assert revoked.status == 303
        await factory.post(author, "after the revocation")
        assert "update" not in await events.until_the_end(END_WITHIN_SECONDS)
    again = await client.get(USER_STREAM, headers=bearer(token))
    assert again.status == 401


async def test_a_suspended_users_stream_ends_within_seconds(client, factory, db):
    reader = await factory.user()
    token = await token_for(db, reader, {"read"})
    async with streaming(client, headers=bearer(token)) as events:
        async with db.begin() as session:
            await accounts.suspend(session, reader.id)
        await events.until_the_end(END_WITHIN_SECONDS)
    assert END_WITHIN_SECONDS < live.SESSION_CHECK_SECONDS  # the announcement ended it


async def test_the_instance_names_this_server_as_its_streaming_url(client, settings):
    v1 = await (await client.get("/api/v1/instance")).json()
    v2 = await (await client.get("/api/v2/instance")).json()
    assert v1["urls"]["streaming_api"] == settings.app.public_url
    assert v2["configuration"]["urls"]["streaming"] == settings.app.public_url


async def test_a_follow_request_is_streamed_to_the_owner_and_its_approval_is_not(
    client, factory, db
):
    """The owner hears `follow_request`; the requester's "accepted" notice has no Mastodon
    type, so their stream skips it and goes on with the next event."""
    owner, fan, friend = await factory.user(), await factory.user(), await factory.user()
    async with db.begin() as session:
        await profiles.set_locked(session, owner.id, True)
    owner_token = await token_for(db, owner, {"read"})
    fan_token = await token_for(db, fan, {"read"})
    async with (
        streaming(client, headers=bearer(owner_token)) as owners,
        streaming(client, headers=bearer(fan_token)) as fans,
    ):
        async with db.begin() as session:
            await follows.follow(session, fan.id, owner.id)
        name, data = await owners.next()
        assert name == "notification" and json.loads(data)["type"] == "follow_request"
        assert json.loads(data)["account"]["id"] == str(fan.id)
        async with db.begin() as session:
            await follows.approve(session, owner.id, fan.id)
        await factory.follow(friend, fan)
        name, data = await fans.next()
        assert name == "notification" and json.loads(data)["type"] == "follow"
        assert json.loads(data)["account"]["id"] == str(friend.id)
