"""Mentions notify the people they name, through the notifications everyone has, never
across a block or a mute, and never of a post they cannot see (docs/discovery.md)."""

from __future__ import annotations

import secrets

from sqlalchemy import text

from service.discovery import MAX_MENTIONS
from service.domain import blocks
from service.domain import posts as post_commands
from service.domain.mentions import record_post
from tests.support import submit


async def _mentions_of(db, user_id: int) -> list[tuple[int, int | None, int]]:
    """The user's mention notifications: (post, comment, actor), oldest first."""
    async with db() as session:
        rows = await session.execute(
            text(
                "SELECT post_id, comment_id, actor_id FROM notifications"
                " WHERE user_id = :id AND kind = 'mention' ORDER BY id"
            ),
            {"id": user_id},
        )
        return [tuple(row) for row in rows]


async def test_a_mention_in_a_post_notifies_once_and_shows_on_the_notifications_page(
    client, factory, login, db
):
    author, named = await factory.user(), await factory.user()
    await login(client, author)
    body = f"coffee with @{named.username} and @{named.username.upper()} and @no_such_one"
    response = await submit(client, "/posts", {"body": body})
    assert response.status == 303
    async with db() as session:
        post_id = await session.scalar(
            text("SELECT id FROM posts WHERE author_id = :id"), {"id": author.id}
        )
    assert await _mentions_of(db, named.id) == [(post_id, None, author.id)]
    await login(client, named)
    page = await (await client.get("/notifications")).text()
    assert f'mentioned you in <a href="/p/{post_id}">a post</a>:' in page
    assert "coffee with @" in page
    api = await (await client.get("/api/snapline/v1/notifications")).json()
    assert [(n["kind"], n["post_id"], n["comment_id"]) for n in api["items"]] == [
        ("mention", post_id, None)
    ]
    post = await (await client.get(f"/api/snapline/v1/posts/{post_id}")).json()
    assert post["mentions"] == [
        {"id": named.id, "username": named.username, "url": f"/@{named.username}"}
    ]
    # Deleting the post takes its mention and notification with it.
    async with db.begin() as session:
        await post_commands.delete_post(session, post_id)
    assert await _mentions_of(db, named.id) == []


async def test_no_mention_notification_across_a_block_or_from_someone_muted(factory, db):
    author = await factory.user()
    blocker, blocked, muter, fan = [await factory.user() for _ in range(4)]
    async with db.begin() as session:
        await blocks.block(session, blocker.id, author.id)
        await blocks.block(session, author.id, blocked.id)
        await blocks.mute(session, muter.id, author.id)
    names = " ".join(f"@{person.username}" for person in (blocker, blocked, muter, fan, author))
    post_id = await factory.post(author, f"hello {names}")
    for person in (blocker, blocked, muter, author):
        assert await _mentions_of(db, person.id) == [], person.username
    assert await _mentions_of(db, fan.id) == [(post_id, None, author.id)]
    # The mentions are still linked: the text names them all the same.
    async with db() as session:
        linked = await session.scalar(
            text("SELECT mention_names FROM posts WHERE id = :id"), {"id": post_id}
        )
    assert linked == [p.username for p in (blocker, blocked, muter, fan, author)]


async def test_a_photo_post_notifies_only_once_published(factory, db):
    """Nobody but its author may see a post while its photos are processed: those it
    mentions are told when it is published."""
    author, named = await factory.user(), await factory.user()
    async with db.begin() as session:
        post_id = await session.scalar(
            text(
                "INSERT INTO posts (author_id, body, status) VALUES (:author, :body,"
                " 'processing') RETURNING id"
            ),
            {"author": author.id, "body": f"soon @{named.username} #later"},
        )
        await record_post(session, post_id, f"soon @{named.username} #later")
        photo_id = await session.scalar(
            text(
                "INSERT INTO photos (post_id, owner_id, position, key_prefix)"
                " VALUES (:post, :owner, 0, :prefix) RETURNING id"
            ),
            {"post": post_id, "owner": author.id, "prefix": f"photos/{secrets.token_hex(16)}"},
        )
    assert await _mentions_of(db, named.id) == []
    async with db.begin() as session:
        assert await post_commands.photo_ready(session, photo_id, "jpg", 10, 10)
    assert await _mentions_of(db, named.id) == [(post_id, None, author.id)]
    async with db() as session:
        status_id = await session.scalar(
            text("SELECT status_id FROM post_tags WHERE post_id = :id"), {"id": post_id}
        )
    assert status_id is not None  # the tag page lists it from now on


async def test_a_comment_mention_notifies_but_not_the_post_author_twice(client, factory, login, db):
    author, commenter, named = [await factory.user() for _ in range(3)]
    post_id = await factory.post(author, "a post")
    comment_id = await factory.comment(
        commenter, post_id, f"@{named.username} look, and @{author.username} too"
    )
    assert await _mentions_of(db, named.id) == [(post_id, comment_id, commenter.id)]
    assert await _mentions_of(db, author.id) == []  # told of the comment itself
    await login(client, named)
    page = await (await client.get("/notifications")).text()
    assert f'mentioned you in <a href="/p/{post_id}#comment-{comment_id}">a comment</a>:' in page


async def test_a_comment_mention_of_someone_who_cannot_see_the_post_tells_nobody(factory, db):
    author, commenter, blocker = [await factory.user() for _ in range(3)]
    async with db.begin() as session:
        await blocks.block(session, blocker.id, author.id)
    post_id = await factory.post(author, "a post")
    await factory.comment(commenter, post_id, f"@{blocker.username} see this")
    assert await _mentions_of(db, blocker.id) == []


async def test_too_many_mentions_are_refused(client, factory, login):
    author = await factory.user()
    await login(client, author)
    body = " ".join(f"@someone_{n}" for n in range(MAX_MENTIONS + 1))
    response = await submit(client, "/posts", {"body": body})
    assert response.status == 422
    assert f"Mention at most {MAX_MENTIONS} people (this has 21)." in await response.text()
