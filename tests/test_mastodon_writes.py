"""The Mastodon client API's writes, as apps send them with a bearer token: posting (a post,
or a reply, which is a comment), idempotent retries, deleting, favourites, follows, one's own
profile; every refusal a clean 4xx in Mastodon's shape, and each route open only to the
scope Mastodon documents for it."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, text

from service import housekeeping
from service.domain import accounts, oauth
from service.models import Comment, IdempotencyKey, Like, Photo, Post
from tests.oauth import bearer
from tests.test_uploads import camera_jpeg, spool_files

T = TypeVar("T")


async def token_for(db, account, scopes: str = "read write follow") -> dict[str, str]:
    async with db.begin() as session:
        issued = await oauth.personal_token(session, account.id, "app", frozenset(scopes.split()))
    return bearer(issued.token)


async def call(
    client: TestClient, method: str, path: str, auth: dict[str, str], status: int = 200, **kw
):
    response = await client.request(method, path, headers={**auth, **kw.pop("headers", {})}, **kw)
    body = await response.json()
    assert response.status == status, (method, path, response.status, body)
    if status >= 400:
        assert isinstance(body["error"], str) and body["error"], body
    return body


async def count(db, model, *where) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_status_is_posted_replied_to_and_deleted(client, factory, db):
    author, friend = await factory.user(), await factory.user()
    mine, theirs = await token_for(db, author), await token_for(db, friend)

    posted = await call(client, "POST", "/api/v1/statuses", mine, data={"status": "first light"})
    assert posted["content"] == "<p>first light</p>"
    assert posted["account"]["id"] == str(author.id) and posted["in_reply_to_id"] is None
    assert await call(client, "GET", f"/api/v1/statuses/{posted['id']}", theirs) == {
        **posted,
        "account": posted["account"],
    }

    # A reply to the post is a comment on it; a reply to that comment is another comment on
    # the same post (comments are flat here).
    reply = await call(
        client, "POST", "/api/v1/statuses", theirs,
        json={"status": "lovely", "in_reply_to_id": posted["id"], "visibility": "unlisted"},
    )  # fmt: skip
    assert reply["in_reply_to_id"] == posted["id"]
    assert reply["in_reply_to_account_id"] == str(author.id)
    again = await call(
        client, "POST", "/api/v1/statuses", mine,
        data={"status": "thanks", "in_reply_to_id": reply["id"]},
    )  # fmt: skip
    assert again["in_reply_to_id"] == posted["id"]
    context = await call(client, "GET", f"/api/v1/statuses/{posted['id']}/context", theirs)
    assert [s["id"] for s in context["descendants"]] == [reply["id"], again["id"]]
    shown = await call(client, "GET", f"/api/v1/statuses/{posted['id']}", theirs)
    assert shown["replies_count"] == 2

    # A comment is deleted by its author, answered with what it was.
    deleted = await call(client, "DELETE", f"/api/v1/statuses/{reply['id']}", theirs)
    assert deleted["id"] == reply["id"] and deleted["text"] == "lovely"
    await call(client, "GET", f"/api/v1/statuses/{reply['id']}", theirs, status=404)
    # Another's post is not theirs to delete; its author's is.
    await call(client, "DELETE", f"/api/v1/statuses/{posted['id']}", theirs, status=403)
    gone = await call(client, "DELETE", f"/api/v1/statuses/{posted['id']}", mine)
    assert gone["text"] == "first light"
    await call(client, "GET", f"/api/v1/statuses/{posted['id']}", mine, status=404)
    async with db() as session:
        assert await session.scalar(select(func.count()).where(Post.author_id == author.id)) == 0


async def test_refused_statuses_change_nothing(client, factory, db):
    author, suspended = await factory.user(), await factory.user()
    auth = await token_for(db, author)
    theirs = await call(
        client, "POST", "/api/v1/statuses", await token_for(db, suspended), data={"status": "x"}
    )
    async with db.begin() as session:
        await accounts.suspend(session, suspended.id)
    mine = [
        (Post, Post.author_id == author.id),
        (Comment, Comment.author_id == author.id),
        (Like, Like.user_id == author.id),
    ]
    before = [await count(db, model, where) for model, where in mine]
    refused = [
        ({"status": ""}, 422),
        ({"status": "x" * 2001}, 422),
        ({"status": "to you", "visibility": "direct"}, 422),
        ({"status": "to you", "visibility": "everyone"}, 422),
        ({"status": "hi", "in_reply_to_id": "12x"}, 404),
        ({"status": "hi", "in_reply_to_id": "99999999999"}, 404),
        # A suspended person's post is seen by nobody: nothing to reply to.
        ({"status": "hi", "in_reply_to_id": theirs["id"]}, 404),
    ]
    for form, status in refused:
        await call(client, "POST", "/api/v1/statuses", auth, data=form, status=status)
    for action in ("favourite", "unfavourite"):
        await call(client, "POST", f"/api/v1/statuses/{theirs['id']}/{action}", auth, status=404)
    await call(client, "DELETE", f"/api/v1/statuses/{theirs['id']}", auth, status=404)
    await call(client, "POST", "/api/v1/statuses", auth, json=[1], status=400)
    await call(
        client, "POST", "/api/v1/statuses", auth, data=b"\xff",
        headers={"Content-Type": "text/plain"}, status=415,
    )  # fmt: skip
    after = [await count(db, model, where) for model, where in mine]
    assert after == before


async def test_the_same_idempotency_key_makes_one_status(client, factory, db):
    author, other = await factory.user(), await factory.user()
    auth = await token_for(db, author)
    key = {"Idempotency-Key": "retry-7f3a"}
    first = await call(
        client, "POST", "/api/v1/statuses", auth, data={"status": "once"}, headers=key
    )
    second = await call(
        client, "POST", "/api/v1/statuses", auth, data={"status": "once"}, headers=key
    )
    assert second["id"] == first["id"]
    async with db() as session:
        assert await session.scalar(select(func.count()).where(Post.author_id == author.id)) == 1
    # Another key, or the same key from someone else, makes a status of its own.
    third = await call(
        client, "POST", "/api/v1/statuses", auth, data={"status": "once"},
        headers={"Idempotency-Key": "retry-other"},
    )  # fmt: skip
    assert third["id"] != first["id"]
    theirs = await call(
        client, "POST", "/api/v1/statuses", await token_for(db, other),
        data={"status": "once"}, headers=key,
    )  # fmt: skip
    assert theirs["id"] not in {first["id"], third["id"]}
    # A reply is idempotent too.
    reply = {"status": "re", "in_reply_to_id": first["id"]}
    reply_key = {"Idempotency-Key": "reply-1"}
    replies = [
        await call(client, "POST", "/api/v1/statuses", auth, data=reply, headers=reply_key)
        for _ in range(2)
    ]
    assert replies[0]["id"] == replies[1]["id"]
    async with db() as session:
        assert await session.scalar(select(func.count()).where(Comment.author_id == author.id)) == 1
    # Past its hour a key is free again: it makes a new status.
    async with db.begin() as session:
        await session.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '61 minutes'")
        )
    later = await call(
        client, "POST", "/api/v1/statuses", auth, data={"status": "once"}, headers=key
    )
    assert later["id"] != first["id"]
    assert await count(db, IdempotencyKey, IdempotencyKey.user_id == author.id) == 3
    long_key = {"Idempotency-Key": "k" * 201}
    await call(
        client, "POST", "/api/v1/statuses", auth, data={"status": "x"}, headers=long_key, status=422
    )


async def test_favourites_count_and_notify_and_hidden_posts_are_not_found(
    client, factory, db, tmp_path
):
    author, fan = await factory.user(), await factory.user()
    post_auth, fan_auth = await token_for(db, author), await token_for(db, fan)
    posted = await call(client, "POST", "/api/v1/statuses", post_auth, data={"status": "like me"})
    path = f"/api/v1/statuses/{posted['id']}"
    liked = await call(client, "POST", f"{path}/favourite", fan_auth)
    assert liked["favourited"] is True and liked["favourites_count"] == 1
    again = await call(client, "POST", f"{path}/favourite", fan_auth)
    assert again["favourites_count"] == 1
    by = await call(client, "GET", f"{path}/favourited_by", post_auth)
    assert [account["id"] for account in by] == [str(fan.id)]
    undone = await call(client, "POST", f"{path}/unfavourite", fan_auth)
    assert undone["favourited"] is False and undone["favourites_count"] == 0
    # Nobody favourites a comment; a status one may not see is not found.
    reply = await call(
        client, "POST", "/api/v1/statuses", fan_auth,
        data={"status": "hm", "in_reply_to_id": posted["id"]},
    )  # fmt: skip
    await call(client, "POST", f"/api/v1/statuses/{reply['id']}/favourite", fan_auth, status=422)
    for missing in ("0", "99999999998", "x"):
        await call(client, "POST", f"/api/v1/statuses/{missing}/favourite", fan_auth, status=404)
    async with db() as session:
        assert await session.scalar(select(func.count()).where(Like.user_id == fan.id)) == 0


async def test_follow_and_unfollow_answer_the_relationship(client, factory, db):
    reader, writer = await factory.user(), await factory.user()
    auth = await token_for(db, reader)
    followed = await call(client, "POST", f"/api/v1/accounts/{writer.id}/follow", auth)
    assert followed["id"] == str(writer.id) and followed["following"] is True
    account = await call(client, "GET", f"/api/v1/accounts/{writer.id}", auth)
    assert account["followers_count"] == 1
    # Following twice changes nothing; unfollowing ends it.
    await call(client, "POST", f"/api/v1/accounts/{writer.id}/follow", auth)
    unfollowed = await call(client, "POST", f"/api/v1/accounts/{writer.id}/unfollow", auth)
    assert unfollowed["following"] is False
    account = await call(client, "GET", f"/api/v1/accounts/{writer.id}", auth)
    assert account["followers_count"] == 0
    await call(client, "POST", f"/api/v1/accounts/{reader.id}/follow", auth, status=422)
    await call(client, "POST", "/api/v1/accounts/999999999/follow", auth, status=404)


async def test_update_credentials_changes_the_profile_and_the_avatar(client, factory, db):
    account = await factory.user()
    auth = await token_for(db, account)
    changed = await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", auth,
        data={"display_name": "Ann Example", "note": "I take pictures"},
    )  # fmt: skip
    assert changed["display_name"] == "Ann Example"
    assert changed["source"]["note"] == "I take pictures"
    assert "I take pictures" in changed["note"]
    # Only what is given changes.
    kept = await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", auth, json={"note": "new note"}
    )
    assert kept["display_name"] == "Ann Example" and kept["source"]["note"] == "new note"
    await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", auth,
        data={"display_name": "x" * 51}, status=422,
    )  # fmt: skip
    # The avatar goes through the same checks and jobs as the settings page's.
    form = aiohttp.FormData()
    form.add_field("display_name", "Ann")
    form.add_field(
        "avatar", io.BytesIO(camera_jpeg(600, 600, 1)), filename="me.jpg", content_type="image/jpeg"
    )
    answered = await call(client, "PATCH", "/api/v1/accounts/update_credentials", auth, data=form)
    assert answered["display_name"] == "Ann"

    async def avatar() -> str | None:
        me = await call(client, "GET", "/api/v1/accounts/verify_credentials", auth)
        return me["avatar"] if "/media/avatars/" in me["avatar"] else None

    assert re.search(r"/media/avatars/[0-9a-f]{32}/400\.jpg$", await eventually(avatar))
    bad = aiohttp.FormData()
    bad.add_field("avatar", io.BytesIO(b"<svg/>"), filename="me.svg", content_type="image/svg+xml")
    await call(client, "PATCH", "/api/v1/accounts/update_credentials", auth, data=bad, status=415)


async def test_each_write_needs_its_scope(client, factory, db):
    author, other = await factory.user(), await factory.user()
    read_only = await token_for(db, author, "read")
    media_only = await token_for(db, author, "write:media")
    statuses_only = await token_for(db, author, "write:statuses")
    await call(client, "POST", "/api/v1/statuses", read_only, data={"status": "no"}, status=403)
    await call(client, "POST", f"/api/v1/accounts/{other.id}/follow", media_only, status=403)
    posted = await call(client, "POST", "/api/v1/statuses", statuses_only, data={"status": "ok"})
    await call(
        client, "POST", f"/api/v1/statuses/{posted['id']}/favourite", statuses_only, status=403
    )
    await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", statuses_only,
        data={"note": "x"}, status=403,
    )  # fmt: skip
    await call(client, "DELETE", f"/api/v1/statuses/{posted['id']}", read_only, status=403)
    # "write" includes them all, "follow" the follows.
    await call(
        client, "POST", f"/api/v1/accounts/{other.id}/follow", await token_for(db, author, "follow")
    )


async def test_notifications_list_filter_page_dismiss_and_clear(client, factory, db):
    author, fan = await factory.user(), await factory.user()
    auth, fan_auth = await token_for(db, author), await token_for(db, fan)
    posted = await call(client, "POST", "/api/v1/statuses", auth, data={"status": "look"})
    await call(client, "POST", f"/api/v1/accounts/{author.id}/follow", fan_auth)
    await call(client, "POST", f"/api/v1/statuses/{posted['id']}/favourite", fan_auth)
    reply = await call(
        client, "POST", "/api/v1/statuses", fan_auth,
        data={"status": "nice", "in_reply_to_id": posted["id"]},
    )  # fmt: skip

    listed = await call(client, "GET", "/api/v1/notifications", auth)
    assert [n["type"] for n in listed] == ["mention", "favourite", "follow"]
    assert all(n["account"]["id"] == str(fan.id) for n in listed)
    mention, favourite, follow = listed
    assert mention["status"]["id"] == reply["id"]
    assert mention["status"]["in_reply_to_id"] == posted["id"]
    assert favourite["status"]["id"] == posted["id"] and follow["status"] is None
    assert int(mention["id"]) > int(favourite["id"]) > int(follow["id"])
    # The fan is told of nothing: one's own actions notify nobody.
    assert await call(client, "GET", "/api/v1/notifications", fan_auth) == []

    only = await call(client, "GET", "/api/v1/notifications?types[]=favourite", auth)
    assert [n["id"] for n in only] == [favourite["id"]]
    rest = await call(
        client, "GET", "/api/v1/notifications?exclude_types[]=follow&exclude_types[]=mention", auth
    )
    assert [n["id"] for n in rest] == [favourite["id"]]
    assert await call(client, "GET", "/api/v1/notifications?types[]=reblog", auth) == []
    # Mastodon's paging, with Link headers.
    first = await client.get("/api/v1/notifications?limit=1", headers=auth)
    assert [n["id"] for n in await first.json()] == [mention["id"]]
    assert f"max_id={mention['id']}" in first.headers["Link"]
    older = await call(client, "GET", f"/api/v1/notifications?max_id={mention['id']}", auth)
    assert [n["id"] for n in older] == [favourite["id"], follow["id"]]
    newer = await call(client, "GET", f"/api/v1/notifications?min_id={follow['id']}&limit=1", auth)
    assert [n["id"] for n in newer] == [favourite["id"]]
    await call(client, "GET", "/api/v1/notifications?max_id=x", auth, status=422)

    one = await call(client, "GET", f"/api/v1/notifications/{favourite['id']}", auth)
    assert one == favourite
    # Another's notification is not found, to read or to dismiss.
    await call(client, "GET", f"/api/v1/notifications/{favourite['id']}", fan_auth, status=404)
    await call(
        client, "POST", f"/api/v1/notifications/{favourite['id']}/dismiss", fan_auth, status=404
    )
    assert (
        await call(client, "POST", f"/api/v1/notifications/{favourite['id']}/dismiss", auth) == {}
    )
    await call(client, "GET", f"/api/v1/notifications/{favourite['id']}", auth, status=404)
    assert len(await call(client, "GET", "/api/v1/notifications", auth)) == 2
    # A notification of a comment goes with the comment.
    await call(client, "DELETE", f"/api/v1/statuses/{reply['id']}", fan_auth)
    assert [n["type"] for n in await call(client, "GET", "/api/v1/notifications", auth)] == [
        "follow"
    ]
    assert await call(client, "POST", "/api/v1/notifications/clear", auth) == {}
    assert await call(client, "GET", "/api/v1/notifications", auth) == []

    reading_only = await token_for(db, author, "read:notifications")
    await call(client, "GET", "/api/v1/notifications", reading_only)
    await call(client, "POST", "/api/v1/notifications/clear", reading_only, status=403)
    await call(
        client, "GET", "/api/v1/notifications", await token_for(db, author, "read:statuses"),
        status=403,
    )  # fmt: skip


def upload_form(data: bytes, filename: str = "river.jpg", **texts: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in texts.items():
        form.add_field(name, value)
    form.add_field("file", io.BytesIO(data), filename=filename, content_type="image/jpeg")
    return form


async def eventually(check: Callable[[], Awaitable[T | None]], seconds: float = 20.0) -> T:
    """The first true answer of ``check``, asked every 50 ms (background work: the media
    worker, other tests' jobs ahead of ours in the queue)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answer := await check():
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"{check} did not happen within {seconds} s")


async def gone(client: TestClient, url: str) -> bool:
    return (await client.get(local(client, url))).status == 404


def local(client: TestClient, url: str) -> str:
    """The path of an absolute URL the app showed (from app.public_url)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


async def processed(client: TestClient, media_id: str, auth: dict[str, str]) -> dict:
    """Ask for the media as apps do until it is processed (206 until then)."""
    for _ in range(400):
        response = await client.get(f"/api/v1/media/{media_id}", headers=auth)
        assert response.status in {200, 206}, await response.text()
        if response.status == 200:
            return await response.json()
        await asyncio.sleep(0.05)
    raise AssertionError("the media was never processed")


async def unattached_row(db, owner_id: int, ready: bool) -> int:
    async with db.begin() as session:
        return await session.scalar(
            text(
                "INSERT INTO photos (post_id, owner_id, position, key_prefix, extension, width,"
                " height, ready_at) VALUES (NULL, :owner, 0, :prefix, 'jpg', 10, 10,"
                " CASE WHEN :ready THEN now() END) RETURNING id"
            ),
            {"owner": owner_id, "prefix": f"photos/{secrets.token_hex(16)}", "ready": ready},
        )


async def test_media_is_uploaded_processed_described_and_attached(client, factory, db):
    author, other = await factory.user(), await factory.user()
    auth, other_auth = await token_for(db, author), await token_for(db, other)
    uploaded = await call(
        client, "POST", "/api/v2/media", auth,
        data=upload_form(camera_jpeg(1600, 1200, 1), description="the river"), status=202,
    )  # fmt: skip
    assert uploaded["type"] == "image" and uploaded["url"] is None
    assert uploaded["description"] == "the river" and uploaded["blurhash"] is None
    ready = await processed(client, uploaded["id"], auth)
    assert re.search(r"/media/photos/[0-9a-f]{32}/display\.jpg$", ready["url"])
    assert ready["meta"]["original"] == {
        "width": 1080, "height": 810, "size": "1080x810", "aspect": 1080 / 810,
    }  # fmt: skip
    assert ready["meta"]["small"]["width"] == 320
    assert (await client.get(local(client, ready["url"]))).status == 200
    # Until it is attached, only its owner sees it; they may describe it again.
    await call(client, "GET", f"/api/v1/media/{uploaded['id']}", other_auth, status=404)
    described = await call(
        client, "PUT", f"/api/v1/media/{uploaded['id']}", auth, data={"description": "at dusk"}
    )
    assert described["description"] == "at dusk" and described["url"] == ready["url"]
    await call(
        client, "PUT", f"/api/v1/media/{uploaded['id']}", other_auth,
        data={"description": "mine"}, status=404,
    )  # fmt: skip

    # Only one's own, processed, unattached media can be attached, at most four.
    waiting = await unattached_row(db, author.id, ready=False)
    theirs = await unattached_row(db, other.id, ready=True)
    before = await count(db, Post, Post.author_id == author.id)
    for ids, status in (
        ([waiting], 422), ([theirs], 422), ([uploaded["id"]] * 1 + ["0"], 422),
        (["x"], 422), ([str(n) for n in range(1, 6)], 422),
    ):  # fmt: skip
        form = [("status", "hm"), *(("media_ids[]", str(i)) for i in ids)]
        await call(client, "POST", "/api/v1/statuses", auth, data=form, status=status)
    assert await count(db, Post, Post.author_id == author.id) == before

    posted = await call(
        client, "POST", "/api/v1/statuses", auth,
        json={"status": "evening", "media_ids": [uploaded["id"]]},
    )  # fmt: skip
    [attached] = posted["media_attachments"]
    assert attached["id"] == uploaded["id"] and attached["url"] == ready["url"]
    assert attached["description"] == "at dusk"
    # Published at once (its photo is ready): on the follower's timeline, and no longer
    # media waiting to be attached.
    await call(client, "POST", f"/api/v1/accounts/{author.id}/follow", other_auth)
    [shown] = await call(client, "GET", "/api/v1/timelines/home", other_auth)
    assert shown["id"] == posted["id"] and shown["media_attachments"] == [attached]
    # A photo post by attaching, as much as one made with its photos: in `only_media`.
    photo_posts = await call(
        client, "GET", f"/api/v1/accounts/{author.id}/statuses?only_media=true", other_auth
    )
    assert [status["id"] for status in photo_posts] == [posted["id"]]
    await call(client, "GET", f"/api/v1/media/{uploaded['id']}", auth, status=404)
    await call(
        client, "POST", "/api/v1/statuses", auth, data={"media_ids[]": uploaded["id"]}, status=422
    )
    # A reply is a comment: it carries no media.
    fresh = await unattached_row(db, author.id, ready=True)
    await call(
        client, "POST", "/api/v1/statuses", auth,
        data={"status": "re", "in_reply_to_id": posted["id"], "media_ids[]": str(fresh)},
        status=422,
    )  # fmt: skip
    # Deleting the post deletes its photo's files through the same durable jobs.
    await call(client, "DELETE", f"/api/v1/statuses/{posted['id']}", auth)
    assert await eventually(lambda: gone(client, ready["url"]))


async def test_refused_uploads_leave_nothing_and_old_uploads_are_removed(client, factory, db):
    account = await factory.user()
    auth = await token_for(db, account)
    before = await count(db, Photo, Photo.owner_id == account.id)
    await call(
        client, "POST", "/api/v2/media", auth,
        data=upload_form(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg"), status=415,
    )  # fmt: skip
    await call(
        client, "POST", "/api/v2/media", auth,
        data=upload_form(camera_jpeg(100, 100, 1)[:400]), status=422,
    )  # fmt: skip
    empty = aiohttp.FormData()
    empty.add_field("description", "nothing")
    await call(client, "POST", "/api/v2/media", auth, data=empty, status=422)
    await call(
        client, "POST", "/api/v2/media", auth,
        data=upload_form(camera_jpeg(100, 100, 1), description="x" * 1501), status=422,
    )  # fmt: skip
    await call(
        client, "POST", "/api/v2/media", await token_for(db, account, "read write:statuses"),
        data=upload_form(camera_jpeg(100, 100, 1)), status=403,
    )  # fmt: skip
    assert await count(db, Photo, Photo.owner_id == account.id) == before
    assert spool_files(client) == set()

    # An upload never attached is removed after a day, its files with it.
    kept = await call(
        client, "POST", "/api/v2/media", await token_for(db, account, "write:media"),
        data=upload_form(camera_jpeg(300, 200, 1)), status=202,
    )  # fmt: skip
    old = await call(
        client, "POST", "/api/v2/media", auth, data=upload_form(camera_jpeg(300, 200, 1)),
        status=202,
    )  # fmt: skip
    old_url = (await processed(client, old["id"], auth))["url"]
    await processed(client, kept["id"], auth)
    async with db.begin() as session:
        await session.execute(
            text("UPDATE photos SET created_at = now() - interval '25 hours' WHERE id = :id"),
            {"id": int(old["id"])},
        )
    await housekeeping.sweep(client.server.app)
    await call(client, "GET", f"/api/v1/media/{old['id']}", auth, status=404)
    await call(client, "GET", f"/api/v1/media/{kept['id']}", auth)
    assert await eventually(lambda: gone(client, old_url))
