"""Every mutation racing the deletion of what it points at, over HTTP, pages and API alike.

The mutations are liking, unliking, commenting (each with the notification it writes),
deleting a comment, and finishing a photo; the deletions are a post deleted by its author
or by a moderator, through the page's form or the API. Whoever loses a race gets the 404 of
the thing that is gone, never a 5xx, and afterwards every counter equals its COUNT(*) and
no row (notification, like, comment, photo, stored file) outlives what it belonged to.

Following points at accounts, which the product cannot delete yet; the follow test removes
one the way an operator would, in SQL, to hold following to the same rule."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from tests.api import Api
from tests.support import csrf_for
from tests.test_uploads import api_upload, camera_jpeg, photo_form, stored_files, wait_for_jobs

# Each round starts every request of the race at once; a few rounds give each
# interleaving a chance without making the suite slow.
ROUNDS = 6
ACTORS = 6
# Delays (seconds) between an upload and its deletion, to land the deletion before,
# during and after the photo's processing.
PHOTO_DELETE_DELAYS_SECONDS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)


class Browser:
    """One signed-in browser with its CSRF token fetched once, so each request of a race
    is a single round trip that starts when the race does."""

    def __init__(self, client: TestClient, token: str, user_id: int) -> None:
        self.client = client
        self.id = user_id
        self.token = token
        self.api = Api(client)
        self.api._token = token

    async def form(self, path: str, data: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        fields = {**(data or {}), "csrf_token": self.token}
        return await self.client.post(path, data=fields, allow_redirects=False)

    async def json(self, method: str, path: str, body: dict | None = None):
        return await self.api.call(method, path, body)


async def browser(make_client, client, login, account) -> Browser:
    signed_in = await make_client(client)
    await login(signed_in, account)
    return Browser(signed_in, await csrf_for(signed_in), account.id)


async def outcome(response: aiohttp.ClientResponse, *, api: bool, won: set[int]) -> int:
    """The status, after checking it is a win or the 404 of a vanished post or comment, in
    the error envelope for the API and an error page for forms."""
    body = await response.text()
    assert response.status < 500, (response.status, body[:500])
    assert response.status in won | {404}, (response.status, body[:500])
    if response.status == 404:
        if api:
            assert response.content_type == "application/json", body[:500]
            error = (await response.json())["error"]
            assert error["code"] and error["message"].startswith("There is no "), error
        else:
            assert response.content_type == "text/html", body[:500]
            assert "There is no " in body
    return response.status


async def assert_consistent(db, users: list[int], prefixes: list[str] = ()) -> None:
    """Counters equal COUNT(*), and nothing points at what is gone, for these users and
    the media jobs of these stored prefixes."""
    checks = {
        "like counts": """SELECT p.id FROM posts p
             WHERE p.author_id = ANY(:users)
               AND p.like_count <> (SELECT count(*) FROM likes l WHERE l.post_id = p.id)""",
        "comment counts": """SELECT p.id FROM posts p
             WHERE p.author_id = ANY(:users)
               AND p.comment_count <> (SELECT count(*) FROM comments c
                                        WHERE c.post_id = p.id)""",
        "post counts": """SELECT u.id FROM users u
             WHERE u.id = ANY(:users)
               AND u.post_count <> (SELECT count(*) FROM posts p
                                     WHERE p.author_id = u.id AND p.published_at IS NOT NULL)""",
        "follow counts": """SELECT u.id FROM users u
             WHERE u.id = ANY(:users)
               AND (u.followers_count <> (SELECT count(*) FROM follows f
                                           WHERE f.followed_id = u.id)
                    OR u.following_count <> (SELECT count(*) FROM follows f
                                              WHERE f.follower_id = u.id))""",
        "like notifications without their like": """SELECT n.id FROM notifications n
             WHERE n.user_id = ANY(:users) AND n.kind = 'like' AND NOT EXISTS (
                   SELECT FROM likes l JOIN posts p ON p.id = l.post_id
                    WHERE l.post_id = n.post_id AND l.user_id = n.actor_id
                      AND p.author_id = n.user_id)""",
        "comment notifications without their comment": """SELECT n.id FROM notifications n
             WHERE n.user_id = ANY(:users) AND n.kind = 'comment' AND NOT EXISTS (
                   SELECT FROM comments c WHERE c.id = n.comment_id AND c.post_id = n.post_id
                      AND c.author_id = n.actor_id)""",
        "follow notifications without their follow": """SELECT n.id FROM notifications n
             WHERE n.user_id = ANY(:users) AND n.kind = 'follow' AND NOT EXISTS (
                   SELECT FROM follows f
                    WHERE f.follower_id = n.actor_id AND f.followed_id = n.user_id)""",
        "likes of missing posts": """SELECT l.post_id FROM likes l
             WHERE l.user_id = ANY(:users)
               AND NOT EXISTS (SELECT FROM posts p WHERE p.id = l.post_id)""",
        "comments of missing posts": """SELECT c.id FROM comments c
             WHERE c.author_id = ANY(:users)
               AND NOT EXISTS (SELECT FROM posts p WHERE p.id = c.post_id)""",
        "photos of missing posts": """SELECT f.id FROM photos f
             WHERE NOT EXISTS (SELECT FROM posts p WHERE p.id = f.post_id)""",
        "media jobs that failed": """SELECT id FROM media_jobs
             WHERE failed_at IS NOT NULL AND key_prefix = ANY(:prefixes)""",
    }
    async with db() as session:
        found = {
            name: list(
                await session.scalars(text(statement), {"users": users, "prefixes": list(prefixes)})
            )
            for name, statement in checks.items()
        }
    assert not any(found.values()), {name: ids for name, ids in found.items() if ids}


async def post_gone(db, post_id: int) -> None:
    async with db() as session:
        left = await session.scalar(
            text(
                "SELECT (SELECT count(*) FROM posts WHERE id = :id)"
                " + (SELECT count(*) FROM likes WHERE post_id = :id)"
                " + (SELECT count(*) FROM comments WHERE post_id = :id)"
                " + (SELECT count(*) FROM notifications WHERE post_id = :id)"
                " + (SELECT count(*) FROM photos WHERE post_id = :id)"
            ),
            {"id": post_id},
        )
    assert left == 0, f"post {post_id} left {left} row(s) behind"


async def delete_post(deleter: Browser, post_id: int, round_number: int) -> None:
    """Through the API or the page's form, alternately."""
    if round_number % 2:
        response = await deleter.json("DELETE", f"/api/snapline/v1/posts/{post_id}")
        assert response.status == 204, await response.text()
    else:
        response = await deleter.form(f"/p/{post_id}/delete")
        assert response.status == 303, await response.text()


async def test_likes_and_comments_racing_the_posts_deletion(
    client, make_client, factory, login, db
):
    author = await browser(make_client, client, login, await factory.user())
    moderator = await browser(make_client, client, login, await factory.user(role="moderator"))
    actors = [
        await browser(make_client, client, login, await factory.user()) for _ in range(ACTORS)
    ]
    statuses: list[int] = []

    async def act(actor: Browser, action: str, post_id: int) -> None:
        like_path = f"/p/{post_id}/like"
        comment_path = f"/p/{post_id}/comments"
        if action == "like-form":
            statuses.append(await outcome(await actor.form(like_path), api=False, won={303}))
        elif action == "unlike-form":
            response = await actor.form(f"/p/{post_id}/unlike")
            statuses.append(await outcome(response, api=False, won={303}))
        elif action == "comment-form":
            response = await actor.form(comment_path, {"body": "racing"})
            statuses.append(await outcome(response, api=False, won={303}))
        elif action == "like-api":
            response = await actor.json("POST", f"/api/snapline/v1/posts/{post_id}/like")
            statuses.append(await outcome(response, api=True, won={200}))
        elif action == "unlike-api":
            response = await actor.json("DELETE", f"/api/snapline/v1/posts/{post_id}/like")
            statuses.append(await outcome(response, api=True, won={200}))
        else:
            response = await actor.json(
                "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "racing"}
            )
            statuses.append(await outcome(response, api=True, won={201}))

    actions = itertools.cycle(
        ["like-api", "comment-api", "unlike-api", "like-form", "comment-form", "unlike-form"]
    )
    for round_number in range(ROUNDS):
        post_id = (await author.api.post_text(f"round {round_number}"))["id"]
        # Half the actors liked and commented already, so unliking has something to undo.
        for actor in actors[::2]:
            await actor.api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
            await actor.api.call(
                "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "early"}, expect=201
            )
        deleter = author if round_number % 3 else moderator
        await asyncio.gather(
            *(act(actor, next(actions), post_id) for actor in actors for _ in range(3)),
            delete_post(deleter, post_id, round_number),
        )
        await post_gone(db, post_id)
    assert len(statuses) == ROUNDS * ACTORS * 3
    await assert_consistent(db, [who.id for who in (author, moderator, *actors)])


async def test_comment_deletions_racing_the_posts_deletion(client, make_client, factory, login, db):
    author = await browser(make_client, client, login, await factory.user())
    moderator = await browser(make_client, client, login, await factory.user(role="moderator"))
    actors = [
        await browser(make_client, client, login, await factory.user()) for _ in range(ACTORS)
    ]

    async def delete_comment(who: Browser, comment_id: int, by_form: bool) -> None:
        if by_form:
            response = await who.form(f"/comments/{comment_id}/delete")
            await outcome(response, api=False, won={303})
        else:
            response = await who.json("DELETE", f"/api/snapline/v1/comments/{comment_id}")
            await outcome(response, api=True, won={204})

    for round_number in range(ROUNDS):
        post_id = (await author.api.post_text(f"round {round_number}"))["id"]
        comment_ids = []
        for actor in actors:
            for _ in range(2):
                response = await actor.api.call(
                    "POST",
                    f"/api/snapline/v1/posts/{post_id}/comments",
                    {"body": "to go"},
                    expect=201,
                )
                comment_ids.append((actor, (await response.json())["id"]))
        # Each comment is deleted by its author, the post's author or a moderator.
        deleters = itertools.cycle([None, author, moderator])
        await asyncio.gather(
            *(
                delete_comment(next(deleters) or actor, comment_id, by_form=index % 2 == 0)
                for index, (actor, comment_id) in enumerate(comment_ids)
            ),
            delete_post(author if round_number % 2 else moderator, post_id, round_number),
        )
        await post_gone(db, post_id)
    await assert_consistent(db, [who.id for who in (author, moderator, *actors)])


async def test_photo_processing_racing_the_posts_deletion(
    client, make_client, factory, login, db, settings
):
    author = await browser(make_client, client, login, await factory.user())
    moderator = await browser(make_client, client, login, await factory.user(role="moderator"))
    image = camera_jpeg(640, 480)

    async def upload_then_delete(index: int, delay: float) -> tuple[int, list[str]]:
        response = await api_upload(author.client, photo_form([("a.jpg", image, "image/jpeg")]))
        assert response.status == 202, await response.text()
        post_id = (await response.json())["id"]
        async with db() as session:
            prefixes = list(
                await session.scalars(
                    text("SELECT key_prefix FROM photos WHERE post_id = :id"), {"id": post_id}
                )
            )
        await asyncio.sleep(delay)
        await delete_post(author if index % 2 else moderator, post_id, index)
        return post_id, prefixes

    results = await asyncio.gather(
        *(
            upload_then_delete(index, delay)
            for index, delay in enumerate(PHOTO_DELETE_DELAYS_SECONDS * 2)
        )
    )
    await wait_for_jobs(db)
    root = settings.resolve_path(settings.storage.local_path)
    left = {
        str(path.relative_to(root))
        for path in stored_files(settings)
        if any(str(path.relative_to(root)).startswith(prefix) for _, ps in results for prefix in ps)
    }
    assert not left, f"renditions of deleted posts stayed: {sorted(left)}"
    for post_id, _ in results:
        await post_gone(db, post_id)
    prefixes = [prefix for _, post_prefixes in results for prefix in post_prefixes]
    await assert_consistent(db, [author.id, moderator.id], prefixes)


async def test_follows_racing_the_accounts_removal(client, make_client, factory, login, db):
    actors = [
        await browser(make_client, client, login, await factory.user()) for _ in range(ACTORS)
    ]

    async def change(actor: Browser, index: int, username: str) -> None:
        start = index % 2 == 0
        if index % 4 < 2:
            method = "POST" if start else "DELETE"
            response = await actor.json(method, f"/api/snapline/v1/users/{username}/follow")
            await outcome(response, api=True, won={200})
        else:
            response = await actor.form(f"/@{username}/{'follow' if start else 'unfollow'}")
            await outcome(response, api=False, won={303})

    async def remove(user_id: int) -> None:
        async with db.begin() as session:
            await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})

    for _ in range(ROUNDS):
        target = await factory.user()
        for actor in actors[::2]:
            await actor.api.follow(target.username)
        await asyncio.gather(
            *(change(actor, index, target.username) for index in range(3) for actor in actors),
            remove(target.id),
        )
        async with db() as session:
            left = await session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM follows"
                    "         WHERE followed_id = :id OR follower_id = :id)"
                    " + (SELECT count(*) FROM notifications WHERE user_id = :id OR actor_id = :id)"
                ),
                {"id": target.id},
            )
        assert left == 0
