"""Leaving with one's data: an archive of everything one posted, built in the background and
mailed as a link that works for its owner only until it expires; and deleting one's
account, which hides it at once, comes back with a login during the grace period, and then
leaves no row and no stored object behind, its name never to be taken again."""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text, update

from service import housekeeping
from service.domain import exports
from service.models import AccountJob, Export, Photo, User
from tests.api import Api
from tests.oauth import bearer, personal_token
from tests.support import csrf_for, message_link, submit
from tests.test_admin_cli import upload_avatar
from tests.test_uploads import (
    api_upload,
    encoded,
    photo_form,
    picture,
    wait_for_jobs,
    wait_for_status,
)

WAIT_SECONDS = 20.0
JSON = {"Accept": "application/json"}


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def grace_seconds() -> int:
    """The grace period before an account is deleted; tests of its end shorten it."""
    return 30 * 24 * 3600


@pytest.fixture
def settings(base_settings, media_root, grace_seconds):
    return base_settings.replace(
        storage={"local_path": str(media_root)},
        accounts={"deletion_grace_seconds": grace_seconds},
    )


def stored(media_root: Path) -> set[str]:
    return {path.relative_to(media_root).as_posix() for path in media_root.rglob("*.*")}


async def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_until_gone(db, user_id: int) -> None:
    async def removed() -> bool:
        async with db() as session:
            return await session.scalar(select(User.id).where(User.id == user_id)) is None

    await wait_until(removed, "the account's removal")


async def upload(client, db, photos: list[tuple[str, bytes, str]], body: str, alts: list[str]):
    response = await api_upload(client, photo_form(photos, body, alts))
    assert response.status == 202, await response.text()
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    return post_id


async def ask_for_archive(client) -> str:
    response = await submit(client, "/settings/export", page="/settings/export")
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    return page


async def archive_link(client, mailbox, account) -> str:
    """Ask for an archive and follow the mail to its link."""
    page = await ask_for_archive(client)
    assert "We are making your archive" in page
    [message] = await mailbox.wait_for(account.email, within_seconds=WAIT_SECONDS)
    assert message["Subject"] == "Your Snapline archive is ready"
    return message_link(message)


async def test_an_archive_holds_every_post_comment_and_photo_at_its_largest(
    client, make_client, factory, login, db, mailbox, media_root
):
    me, friend = await factory.user(), await factory.user()
    await login(client, me)
    landscape = encoded(picture(1200, 900), "JPEG", quality=90)
    drawing = encoded(picture(800, 600), "PNG")
    two = await upload(
        client,
        db,
        [("a.jpg", landscape, "image/jpeg"), ("b.png", drawing, "image/png")],
        "Two photos",
        ["A gradient", "A drawing"],
    )
    one = await upload(client, db, [("c.jpg", landscape, "image/jpeg")], "", ["The same, again"])
    words = (await Api(client).post_text("Just words"))["id"]
    theirs = await factory.post(friend, "A friend's post")
    await Api(client).call(
        "POST", f"/api/snapline/v1/posts/{theirs}/comments", {"body": "Nice one"}, expect=201
    )
    await factory.comment(friend, words, "Thanks for the words")
    moderator = await factory.user(role="moderator")
    async with db.begin() as session:
        await session.execute(
            text(
                "INSERT INTO account_warnings (user_id, moderator_id, message, acknowledged_at)"
                " VALUES (:me, :moderator, 'Mind the rules', now()),"
                " (:me, :moderator, 'Second time', NULL)"
            ),
            {"me": me.id, "moderator": moderator.id},
        )

    link = await archive_link(client, mailbox, me)
    response = await client.get(link)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert archive.testzip() is None

    profile = json.loads(archive.read("profile.json"))
    assert (profile["username"], profile["email"]) == (me.username, me.email)
    posts = {post["id"]: post for post in json.loads(archive.read("posts.json"))}
    assert set(posts) == {two, one, words}
    assert posts[words]["text"] == "Just words" and posts[words]["photos"] == []
    assert posts[two]["text"] == "Two photos" and posts[two]["published_at"]
    assert [photo["alt"] for photo in posts[two]["photos"]] == ["A gradient", "A drawing"]
    warnings = json.loads(archive.read("warnings.json"))
    assert [(w["message"], w["acknowledged_at"] is None) for w in warnings] == [
        ("Mind the rules", False),
        ("Second time", True),
    ]
    assert moderator.username not in archive.read("warnings.json").decode()
    assert all(set(w) == {"message", "created_at", "acknowledged_at"} for w in warnings)
    comments = json.loads(archive.read("comments.json"))
    assert [(c["text"], c["post_id"], c["post_author"]) for c in comments] == [
        ("Nice one", theirs, friend.username)
    ]

    # Every photo uploaded is there once, named in posts.json, byte for byte the largest
    # rendition stored, at the size it was uploaded (none was wider than the widest width).
    named = [photo["file"] for post in posts.values() for photo in post["photos"]]
    photo_files = sorted(name for name in archive.namelist() if name.startswith("photos/"))
    assert sorted(named) == photo_files and len(photo_files) == 3
    async with db() as session:
        rows = (
            await session.execute(
                select(Photo.post_id, Photo.position, Photo.key_prefix, Photo.renditions).where(
                    Photo.post_id.in_([two, one])
                )
            )
        ).all()
    sizes = {}
    for post_id, position, prefix, renditions in rows:
        widest = max(renditions, key=lambda item: item["width"])
        name = f"photos/{post_id}-{position + 1}.{widest['format']}"
        data = archive.read(name)
        key = f"{prefix}/w{widest['width']}.{widest['format']}"
        assert data == (media_root / key).read_bytes(), name
        sizes[(post_id, position)] = Image.open(io.BytesIO(data)).size
    assert sizes == {(two, 0): (1200, 900), (two, 1): (800, 600), (one, 0): (1200, 900)}

    # Only its owner may have it: someone else finds nothing, a stranger is asked to log in.
    other = await make_client(client)
    assert (await other.get(link, allow_redirects=False)).status == 303
    await login(other, friend)
    assert (await other.get(link)).status == 404


async def test_the_link_expires_with_410_and_housekeeping_removes_the_archive(
    client, factory, login, db, mailbox, media_root
):
    me = await factory.user()
    await login(client, me)
    await Api(client).post_text("Something to take away")
    link = await archive_link(client, mailbox, me)
    assert (await client.get(link)).status == 200
    async with db() as session:
        prefix = await session.scalar(
            select(Export.key_prefix).where(Export.user_id == me.id, Export.ready_at.is_not(None))
        )
    assert f"{prefix}/archive.zip" in stored(media_root)

    # A week later (as the database sees it):
    async with db.begin() as session:
        await session.execute(
            update(Export)
            .where(Export.user_id == me.id)
            .values(expires_at=func.now() - text("interval '1 second'"))
        )
    gone = await client.get(link, headers={"Accept": "text/html"})
    assert gone.status == 410 and "expired" in await gone.text()
    assert (await client.get(link, headers=JSON)).status == 410
    page = await (await client.get("/settings/export")).text()
    assert "expired." in page

    await housekeeping.sweep(client.server.app)
    await wait_for_jobs(db)
    assert not any(key.startswith(prefix) for key in stored(media_root))
    assert (await client.get(link)).status == 410


async def test_one_archive_at_a_time(client, factory, login, db):
    me = await factory.user()
    await login(client, me)
    async with db.begin() as session:
        # One in the making, behind a busy worker.
        await exports.request_export(session, me.id)
        await session.execute(
            update(AccountJob)
            .where(AccountJob.user_id == me.id)
            .values(next_attempt_at=func.now() + text("interval '1 hour'"))
        )
    page = await (await client.get("/settings/export")).text()
    assert "Your archive is being made" in page
    page = await ask_for_archive(client)
    assert "Your archive is still being made" in page
    async with db() as session:
        made = await session.scalar(select(func.count()).where(Export.user_id == me.id))
    assert made == 1


async def _delete(client, password: str):
    token = await csrf_for(client, "/settings/delete")
    return await client.post(
        "/settings/delete",
        data={"csrf_token": token, "password": password},
        allow_redirects=False,
    )


async def test_a_wrong_password_deletes_nothing(client, factory, login, db):
    me = await factory.user()
    await login(client, me)
    refused = await _delete(client, "not my password at all")
    assert refused.status == 422
    assert "That is not your password. Nothing was changed." in await refused.text()
    assert (await _delete(client, "")).status == 422
    async with db() as session:
        due = await session.scalar(select(User.deletion_due_at).where(User.id == me.id))
        jobs = await session.scalar(select(func.count()).where(AccountJob.user_id == me.id))
    assert (due, jobs) == (None, 0)
    assert (await client.get("/settings/profile", allow_redirects=False)).status == 200


async def test_logging_in_during_the_grace_period_cancels_the_deletion(
    client, make_client, factory, login, db, mailbox
):
    me, friend = await factory.user(), await factory.user()
    post = await factory.post(me, "Still here")
    await login(client, me)
    status, page = await personal_token(client, "script", ["read"])
    assert status == 201
    token = page.split("data-new-token>")[1].split("<")[0]

    asked = await _delete(client, me.password)
    assert asked.status == 303
    home = await (await client.get(asked.headers["Location"])).text()
    assert "Your account will be deleted on" in home
    [notice] = await mailbox.wait_for(me.email)
    assert notice["Subject"] == "Your Snapline account will be deleted"
    # Logged out everywhere, its token revoked, hidden from everyone.
    assert (await client.get("/settings/profile", allow_redirects=False)).status == 303
    revoked = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert revoked.status == 401
    reader = await make_client(client)
    await login(reader, friend)
    assert (await reader.get(f"/@{me.username}")).status == 404
    assert (await reader.get(f"/p/{post}")).status == 404

    back = await submit(
        client, "/login", {"login": me.username, "password": me.password}, page="/login"
    )
    assert back.status == 303
    welcome = await (await client.get(back.headers["Location"])).text()
    assert "Your account is no longer going to be deleted" in welcome
    assert (await reader.get(f"/@{me.username}")).status == 200
    assert (await reader.get(f"/p/{post}")).status == 200
    async with db() as session:
        due = await session.scalar(select(User.deletion_due_at).where(User.id == me.id))
        jobs = await session.scalar(select(func.count()).where(AccountJob.user_id == me.id))
    assert (due, jobs) == (None, 0)


# Every table with a column naming an account, and those columns.
USER_COLUMNS = {
    "users": ("id",),
    "posts": ("author_id",),
    "comments": ("author_id",),
    "likes": ("user_id",),
    "follows": ("follower_id", "followed_id"),
    "blocks": ("blocker_id", "blocked_id"),
    "mutes": ("muter_id", "muted_id"),
    "notifications": ("user_id", "actor_id"),
    "auth_sessions": ("user_id",),
    "access_tokens": ("user_id",),
    "oauth_codes": ("user_id",),
    "email_tokens": ("user_id",),
    "photos": ("owner_id",),
    "avatars": ("user_id",),
    "exports": ("user_id",),
    "account_jobs": ("user_id",),
    "idempotency_keys": ("user_id",),
}


async def rows_of(db, user_id: int, email: str) -> dict[str, int]:
    counts = {}
    async with db() as session:
        for table, columns in USER_COLUMNS.items():
            where = " OR ".join(f"{column} = :id" for column in columns)
            counts[table] = await session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE {where}"), {"id": user_id}
            )
        counts["outbox_mail"] = await session.scalar(
            text("SELECT count(*) FROM outbox_mail WHERE lower(recipient) = lower(:email)"),
            {"email": email},
        )
    return counts


@pytest.mark.parametrize("grace_seconds", [1])
async def test_after_the_grace_period_nothing_of_the_account_is_left_and_its_name_is_retired(
    client, make_client, factory, login, db, mailbox, media_root
):
    gone, ann, bob = await factory.user(), await factory.user(), await factory.user()
    await login(client, gone)
    gone_api = Api(client)
    ann_browser = await make_client(client)
    await login(ann_browser, ann)
    ann_api = Api(ann_browser)

    pictured = await upload(
        client, db, [("a.png", encoded(picture(400, 300), "PNG"), "image/png")], "", ["alt"]
    )
    await upload_avatar(client, db, gone.id)
    own = (await gone_api.post_text("my words"))["id"]
    anns = (await ann_api.post_text("ann's words"))["id"]
    await gone_api.follow(ann.username)
    await ann_api.follow(gone.username)
    await factory.follow(bob, gone)
    for api, post_id in ((gone_api, anns), (ann_api, own), (ann_api, pictured)):
        await api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
        await api.call(
            "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "hi"}, expect=201
        )
    await gone_api.call("POST", f"/api/snapline/v1/users/{bob.username}/mute", {}, expect=200)
    await ann_api.call("POST", f"/api/snapline/v1/users/{bob.username}/block", expect=200)
    await Api(await _logged_in(make_client, client, login, bob)).call(
        "POST", f"/api/snapline/v1/users/{gone.username}/block", expect=200
    )
    assert (await personal_token(client, "script", ["read"]))[0] == 201
    await archive_link(client, mailbox, gone)
    objects = stored(media_root)
    assert len([key for key in objects if key.startswith("photos/")]) > 1
    assert any(key.startswith("avatars/") for key in objects)
    assert any(key.startswith("archives/") for key in objects)
    before = await rows_of(db, gone.id, gone.email)
    # Something in every table, but for what no step here makes.
    unmade = {"oauth_codes", "email_tokens", "idempotency_keys"}
    assert [table for table, count in before.items() if not count] == sorted(
        unmade, key=list(before).index
    )

    assert (await _delete(client, gone.password)).status == 303

    await wait_until_gone(db, gone.id)
    await wait_for_jobs(db)
    assert await rows_of(db, gone.id, gone.email) == dict.fromkeys(
        [*USER_COLUMNS, "outbox_mail"], 0
    )
    assert stored(media_root) == set()
    async with db() as session:
        ann_counts = (
            await session.execute(
                select(User.followers_count, User.following_count, User.post_count).where(
                    User.id == ann.id
                )
            )
        ).one()
        likes, comments = (
            await session.execute(
                text("SELECT like_count, comment_count FROM posts WHERE id = :id"), {"id": anns}
            )
        ).one()
    assert tuple(ann_counts) == (0, 0, 1) and (likes, comments) == (0, 0)

    # Nobody may sign up as the one who left, in any case.
    stranger = await make_client(client)
    for name in (gone.username, gone.username.upper()):
        response = await submit(
            stranger,
            "/signup",
            {"username": name, "email": f"new-{name}@example.com", "password": "a fresh start 42"},
            page="/signup",
        )
        assert response.status == 422
        assert "That username is taken." in await response.text()
    async with db() as session:
        taken = await session.scalar(
            select(func.count()).where(func.lower(User.username) == gone.username.lower())
        )
    assert taken == 0


async def _logged_in(make_client, client, login, account):
    browser = await make_client(client)
    await login(browser, account)
    return browser
