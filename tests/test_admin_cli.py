"""The operator's toolkit, ``python -m service admin ...``, run as an operator runs it (a
process, its output and exit status) against the real test database and real storage:
local files in a directory of the test's own, and an S3 server for backup and restore."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest
from PIL import Image
from sqlalchemy import func, select, text

from service.app import create_app
from service.domain import posts
from service.embedded_pg import free_port
from service.models import AuthSession, Avatar, Comment, Follow, Like, MediaJob, Photo, Post, User
from tests import s3
from tests.api import Api
from tests.s3 import Bucket, s3_env
from tests.support import admin_execute, asyncpg_dsn, csrf_for, submit, with_database
from tests.test_cli import assert_one_line_error, run_command, service_env
from tests.test_uploads import api_upload, camera_jpeg, photo_form, profile_form, wait_for_status

moto_server = s3.moto_server
bucket = s3.bucket
PROCESSING_TIMEOUT_SECONDS = 20.0


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def settings(base_settings, media_root):
    """The app of these tests stores into this test's own directory."""
    return base_settings.replace(storage={"local_path": str(media_root)})


@pytest.fixture
def env(database_url: str, media_root: Path) -> dict[str, str]:
    return service_env(
        database_url,
        SNAPLINE_STORAGE_BACKEND="local",
        SNAPLINE_STORAGE_LOCAL_PATH=str(media_root),
    )


async def admin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m service admin ARGS``, off the event loop (the app under test keeps
    serving meanwhile)."""
    return await asyncio.to_thread(run_command, "admin", *args, env=env)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def png(colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + PROCESSING_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def photo_post(client, db, body: str, colour=(10, 120, 200)) -> int:
    response = await api_upload(client, photo_form([("p.png", png(colour), "image/png")], body))
    assert response.status == 202, await response.text()
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    return post_id


async def upload_avatar(client, db, user_id: int) -> str:
    token = await csrf_for(client, "/settings/profile")
    form = profile_form(token, ("me.png", png((200, 30, 30)), "image/png"))
    response = await client.post("/settings/profile", data=form, allow_redirects=False)
    assert response.status == 303

    async def shown() -> bool:
        async with db() as session:
            return bool(
                await session.scalar(select(Avatar.key_prefix).where(Avatar.user_id == user_id))
            )

    await wait_until(shown, "the avatar")
    async with db() as session:
        return await session.scalar(select(Avatar.key_prefix).where(Avatar.user_id == user_id))


async def test_users_list_show_confirm_and_set_role(env, factory, db):
    older = await factory.user()
    newer = await factory.user(confirmed=False)
    async with db.begin() as session:
        await posts.create_text_post(session, older.id, "hello")

    # Commands that only read may run at once (each is its own process).
    rows, listing, shown, shown_text = await asyncio.gather(
        admin("users", "list", "--limit", "2", "--json", env=env),
        admin("users", "list", env=env),
        admin("users", "show", older.username, "--json", env=env),
        admin("users", "show", older.username.upper(), env=env),
    )
    rows = json.loads(ok(rows))
    assert [row["username"] for row in rows] == [newer.username, older.username]
    assert rows[0]["confirmed"] is False and rows[0]["role"] == "user"
    assert rows[1]["confirmed"] is True and rows[1]["posts"] == 1
    listing = ok(listing)
    header = ["USERNAME", "ROLE", "CONFIRMED", "SUSPENDED", "POSTS", "CREATED"]
    assert listing.splitlines()[0].split() == header
    assert listing.index(newer.username) < listing.index(older.username)
    shown = json.loads(ok(shown))
    assert shown["email"] == older.email and shown["posts"] == 1
    assert shown["sessions"] == 0 and shown["pending_media_jobs"] == 0
    assert f"email:               {older.email}" in ok(shown_text)

    confirmed, promoted = await asyncio.gather(
        admin("users", "confirm", newer.username, env=env),
        admin("users", "set-role", newer.username, "moderator", env=env),
    )
    assert "is confirmed" in ok(confirmed)
    assert "now moderator (was user)" in ok(promoted)
    assert "already" in ok(await admin("users", "confirm", newer.username, env=env))
    async with db() as session:
        user = await session.scalar(select(User).where(User.id == newer.id))
    assert user.email_confirmed_at is not None and user.role == "moderator"

    # Each an operator's mistake: exit status 2 and one line naming the account.
    *unknown, no_limit = await asyncio.gather(
        admin("users", "show", "ghost_user", env=env),
        admin("users", "confirm", "ghost_user", env=env),
        admin("users", "set-role", "ghost_user", "admin", env=env),
        admin("users", "delete", "ghost_user", "--yes", env=env),
        admin("users", "list", "--limit", "0", env=env),
    )
    for result, command in zip(unknown, ("show", "confirm", "set-role", "delete"), strict=True):
        assert_one_line_error(result, 2, f"admin users {command}", 'no user named "ghost_user"')
    assert no_limit.returncode == 2 and "not a number from 1 to" in no_limit.stderr


async def test_a_suspended_user_is_logged_out_cannot_log_in_and_is_seen_by_nobody(
    env, factory, client, make_client, login
):
    suspect, friend = await factory.user(), await factory.user()
    post_id = await factory.post(suspect, "seen until suspended")
    friends_post = await factory.post(friend)
    comment_id = await factory.comment(suspect, friends_post)
    await factory.follow(friend, suspect)
    await factory.follow(suspect, friend)
    await login(client, suspect)
    friend_api = Api(await make_client(client))
    await login(friend_api.client, friend)
    suspect_api = Api(client)
    await suspect_api.get("/api/snapline/v1/timeline")

    async def friend_sees() -> dict[str, bool]:
        timeline = await friend_api.get("/api/snapline/v1/timeline")
        comments = await friend_api.get(f"/api/snapline/v1/posts/{friends_post}/comments")
        followers = await friend_api.get(f"/api/snapline/v1/users/{friend.username}/followers")
        following = await friend_api.get(f"/api/snapline/v1/users/{friend.username}/following")
        notices = await friend_api.get("/api/snapline/v1/notifications")
        profile = await friend_api.client.get(f"/@{suspect.username}")
        post_page = await friend_api.client.get(f"/p/{post_id}")
        api_user = await friend_api.client.get(f"/api/snapline/v1/users/{suspect.username}")
        return {
            "post in timeline": post_id in [item["id"] for item in timeline["items"]],
            "comment": comment_id in [item["id"] for item in comments["items"]],
            "as follower": suspect.username
            in [item["user"]["username"] for item in followers["items"]],
            "as followed": suspect.username
            in [item["user"]["username"] for item in following["items"]],
            "notifications": suspect.username
            in [item["actor"]["username"] for item in notices["items"]],
            "profile": profile.status == 200,
            "post page": post_page.status == 200,
            "api user": api_user.status == 200,
        }

    everything = await friend_sees()
    assert all(everything.values()), everything

    assert "is suspended" in ok(await admin("users", "suspend", suspect.username, env=env))
    assert "already" in ok(await admin("users", "suspend", suspect.username, env=env))
    assert not any((await friend_sees()).values())
    # Nor can anything be done to what they wrote: as far as the friend knows, it is gone.
    for method, path, body in (
        ("POST", f"/api/snapline/v1/posts/{post_id}/like", None),
        ("POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "still there?"}),
    ):
        await friend_api.call(method, path, body, expect=404)
    # Logged out at once, and the right password only tells them why they cannot log in.
    await suspect_api.get("/api/snapline/v1/timeline", expect=401)
    refused = await submit(
        client, "/login", {"login": suspect.username, "password": suspect.password}, page="/login"
    )
    assert refused.status == 403 and "This account is suspended" in await refused.text()
    wrong = await submit(
        client, "/login", {"login": suspect.username, "password": "not it at all"}, page="/login"
    )
    assert wrong.status == 422 and "suspended" not in await wrong.text()
    shown = json.loads(ok(await admin("users", "show", suspect.username, "--json", env=env)))
    assert shown["suspended"] is True and shown["sessions"] == 0

    assert "no longer suspended" in ok(await admin("users", "unsuspend", suspect.username, env=env))
    assert "was not suspended" in ok(await admin("users", "unsuspend", suspect.username, env=env))
    assert await friend_sees() == everything
    await login(client, suspect)
    for command in ("suspend", "unsuspend"):
        assert_one_line_error(
            await admin("users", command, "ghost_user", env=env),
            2,
            f"admin users {command}",
            'no user named "ghost_user"',
        )


async def test_numbers_out_of_range_are_usage_errors_that_touch_nothing(env):
    """A bigint overflow used to reach the database as a query error (exit 1), and a
    negative grace period would have let the sweep delete objects a job is writing."""
    huge = "9" * 25
    results = await asyncio.gather(
        admin("users", "list", "--limit", huge, env=env),
        admin("jobs", "retry", "--kind", "mail", huge, env=env),
        admin("media", "sweep", "--apply", "--grace-minutes", "-1", env=env),
        admin("media", "sweep", "--grace-minutes", "nan", env=env),
    )
    for result in results:
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "error: argument" in result.stderr


async def test_users_delete_takes_everything_and_keeps_every_counter_exact(
    client, make_client, factory, login, db, env, media_root
):
    gone, ann, bob = await factory.user(), await factory.user(), await factory.user()
    await login(client, gone)
    gone_api = Api(client)
    ann_browser, bob_browser = await make_client(client), await make_client(client)
    await login(ann_browser, ann)
    await login(bob_browser, bob)
    ann_api, bob_api = Api(ann_browser), Api(bob_browser)

    pictured = await photo_post(client, db, "a photo")
    avatar_prefix = await upload_avatar(client, db, gone.id)
    own = (await gone_api.post_text("my words"))["id"]
    anns = (await ann_api.post_text("ann's words"))["id"]
    await gone_api.follow(ann.username)
    await ann_api.follow(gone.username)
    await bob_api.follow(gone.username)
    await bob_api.follow(ann.username)
    for api, post_id in ((gone_api, anns), (bob_api, anns), (ann_api, own), (ann_api, pictured)):
        await api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
        await api.call(
            "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "hi"}, expect=201
        )
    async with db() as session:
        photo_prefix = await session.scalar(
            select(Photo.key_prefix).where(Photo.post_id == pictured)
        )
    prefixes = [photo_prefix, avatar_prefix]
    assert all(any((media_root / prefix).iterdir()) for prefix in prefixes)
    # No service runs from here on: the command itself deletes the stored objects.
    await client.close()

    refused = await admin("users", "delete", gone.username, env=env)
    assert_one_line_error(refused, 2, "--yes", "2 posts")
    async with db() as session:
        assert await session.scalar(select(User.id).where(User.id == gone.id)) == gone.id

    said = ok(await admin("users", "delete", gone.username, "--yes", env=env))
    assert f"deleted {gone.username}: 2 posts, 1 comment, 1 like, 3 follows, 1 session." in said
    assert "stored objects: 2 of 2 deletion jobs done now." in said

    async with db() as session:
        assert await session.scalar(select(User.id).where(User.id == gone.id)) is None
        for model, column in (
            (Post, Post.author_id),
            (Comment, Comment.author_id),
            (Like, Like.user_id),
            (AuthSession, AuthSession.user_id),
            (Follow, Follow.follower_id),
            (Follow, Follow.followed_id),
        ):
            left = await session.scalar(
                select(func.count()).select_from(model).where(column == gone.id)
            )
            assert left == 0, model
        for user_id in (ann.id, bob.id):
            row = (
                await session.execute(
                    select(User.followers_count, User.following_count, User.post_count).where(
                        User.id == user_id
                    )
                )
            ).one()
            followers = await session.scalar(
                select(func.count()).where(Follow.followed_id == user_id)
            )
            following = await session.scalar(
                select(func.count()).where(Follow.follower_id == user_id)
            )
            written = await session.scalar(
                select(func.count()).where(
                    Post.author_id == user_id, Post.published_at.is_not(None)
                )
            )
            assert tuple(row) == (followers, following, written)
        assert (ann.id, bob.id) in {
            tuple(pair)
            for pair in await session.execute(select(Follow.followed_id, Follow.follower_id))
        }
        likes, comments = (
            await session.execute(
                select(Post.like_count, Post.comment_count).where(Post.id == anns)
            )
        ).one()
        assert (likes, comments) == (1, 1)  # bob's, now that the deleted account's are gone
        assert likes == await session.scalar(select(func.count()).where(Like.post_id == anns))
        assert comments == await session.scalar(select(func.count()).where(Comment.post_id == anns))
        jobs = (
            await session.execute(
                select(MediaJob.key_prefix, MediaJob.done_at).where(
                    MediaJob.kind == "delete", MediaJob.key_prefix.in_(prefixes)
                )
            )
        ).all()
    assert sorted(prefix for prefix, _ in jobs) == sorted(prefixes)
    assert all(done is not None for _, done in jobs)
    assert not any((media_root / prefix).exists() for prefix in prefixes)


async def plant_failed_jobs(db) -> dict[str, int]:
    async with db.begin() as session:
        planted = {}
        for name, kind in (("delete1", "delete"), ("delete2", "delete"), ("photo", "photo")):
            planted[name] = await session.scalar(
                text(
                    """INSERT INTO media_jobs (kind, key_prefix, attempts, failed_at, last_error)
                       VALUES (:kind, :prefix, 450, now(), 'StorageError: planted ' || :label)
                       RETURNING id"""
                ),
                {"kind": kind, "label": kind, "prefix": f"photos/{secrets.token_hex(16)}"},
            )
        planted["mail"] = await session.scalar(
            text(
                """INSERT INTO outbox_mail (recipient, subject, text_body, html_body, attempts,
                                           failed_at, last_error)
                   VALUES ('nobody@example.com', 's', 't', 'h', 100, now(),
                           'SMTPRecipientsRefused: planted')
                   RETURNING id"""
            )
        )
    return planted


async def test_jobs_status_retry_and_purge_failed(env, db):
    planted = await plant_failed_jobs(db)
    try:
        before, shown = await asyncio.gather(
            admin("jobs", "status", "--json", env=env), admin("jobs", "status", env=env)
        )
        before = json.loads(ok(before))
        assert before["media"]["failed"] >= 3 and before["mail"]["failed"] >= 1
        errors = {(error["id"], error["what"]) for error in before["media"]["last_errors"]}
        assert (planted["delete1"], "delete") in errors
        assert any(error["id"] == planted["mail"] for error in before["mail"]["last_errors"])
        shown = ok(shown)
        assert "StorageError: planted delete" in shown and shown.startswith("media ")

        # Refusals change nothing, so they may run at once.
        no_kind, photo, unknown, unsure = await asyncio.gather(
            admin("jobs", "retry", str(planted["delete1"]), env=env),
            admin("jobs", "retry", "--kind", "media", str(planted["photo"]), env=env),
            admin("jobs", "retry", "--kind", "media", "987654321", env=env),
            admin("jobs", "purge-failed", "--kind", "media", env=env),
        )
        assert_one_line_error(unsure, 2, "--yes")
        assert_one_line_error(no_kind, 2, "--kind")
        assert_one_line_error(photo, 2, f"media job {planted['photo']} cannot be retried")
        assert_one_line_error(unknown, 2, "no media job 987654321")

        said = ok(await admin("jobs", "retry", "--kind", "media", str(planted["delete1"]), env=env))
        assert "media: 1 failed job back to pending." in said
        after = json.loads(ok(await admin("jobs", "status", "--json", env=env)))
        assert after["media"]["failed"] == before["media"]["failed"] - 1
        assert after["media"]["pending"] == before["media"]["pending"] + 1
        assert after["media"]["oldest_pending_seconds"] is not None

        purged, retried = await asyncio.gather(
            admin("jobs", "purge-failed", "--kind", "media", "--yes", env=env),
            admin("jobs", "retry", "--kind", "mail", env=env),
        )
        assert "failed jobs purged." in ok(purged)
        ok(retried)
        final = json.loads(ok(await admin("jobs", "status", "--json", env=env)))
        assert final["media"]["failed"] == 0
        assert final["media"]["pending"] == after["media"]["pending"]
        assert final["mail"]["failed"] == 0
        assert final["mail"]["pending"] >= 1
    finally:
        async with db.begin() as session:
            await session.execute(
                text("DELETE FROM media_jobs WHERE id = ANY(:ids)"),
                {"ids": [planted["delete1"], planted["delete2"], planted["photo"]]},
            )
            await session.execute(
                text("DELETE FROM outbox_mail WHERE id = :id"), {"id": planted["mail"]}
            )


def plant(root: Path, key: str, data: bytes = b"x" * 10, age_seconds: float = 0) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age_seconds:
        then = time.time() - age_seconds
        os.utime(path, (then, then))
    return path


async def test_media_sweep_reports_and_deletes_old_orphans_only_with_apply(
    env, db, factory, media_root
):
    author = await factory.user()
    kept_prefix, old_prefix, young_prefix = (f"photos/{secrets.token_hex(16)}" for _ in range(3))
    async with db.begin() as session:
        post_id = await session.scalar(
            text("INSERT INTO posts (author_id, status) VALUES (:a, 'failed') RETURNING id"),
            {"a": author.id},
        )
        await session.execute(
            text(
                """INSERT INTO photos (post_id, owner_id, position, key_prefix, extension, width,
                                       height, ready_at)
                   VALUES (:post, :owner, 0, :prefix, 'jpg', 10, 10, now())"""
            ),
            {"post": post_id, "owner": author.id, "prefix": kept_prefix},
        )
    two_hours = 2 * 3600
    kept = plant(media_root, f"{kept_prefix}/display.jpg", age_seconds=two_hours)
    old = plant(media_root, f"{old_prefix}/display.jpg", age_seconds=two_hours)
    young = plant(media_root, f"{young_prefix}/thumb.jpg")
    stranger = plant(media_root, "notes.txt", age_seconds=two_hours)

    report = json.loads(ok(await admin("media", "sweep", "--json", env=env)))
    assert [item["key"] for item in report["orphans"]] == [f"{old_prefix}/display.jpg"]
    assert [item["key"] for item in report["too_young"]] == [f"{young_prefix}/thumb.jpg"]
    assert [item["key"] for item in report["unrecognised"]] == ["notes.txt"]
    assert f"{kept_prefix}/thumb.jpg" in report["missing"]
    assert f"{kept_prefix}/display.jpg" not in report["missing"]
    assert report["deleted"] == [] and old.exists()
    told = ok(await admin("media", "sweep", env=env))
    assert "--apply" in told and f"orphan: {old_prefix}/display.jpg" in told

    said = ok(await admin("media", "sweep", "--apply", env=env))
    assert f"deleted: {old_prefix}/display.jpg" in said
    assert not old.exists() and not old.parent.exists()
    assert kept.exists() and young.exists() and stranger.exists()

    async with db.begin() as session:
        await session.execute(text("DELETE FROM posts WHERE id = :id"), {"id": post_id})


async def test_media_renditions_gives_photos_processed_before_widths_their_widths(
    client, env, db, factory, login, media_root
):
    """Photos as they were before widths for srcset existed (display and thumbnail stored,
    no widths recorded) get them through the media queue, made from the display size; the
    command queues nothing twice and leaves alone what it is not told to change."""
    await login(client, await factory.user())
    uploads = [("wide.jpg", camera_jpeg(1600, 1200, orientation=1), "image/jpeg")]
    uploads.append(("small.png", png(), "image/png"))
    response = await api_upload(client, photo_form(uploads, "older photos"))
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    async with db.begin() as session:
        made = (
            await session.execute(
                select(Photo.id, Photo.key_prefix).where(Photo.post_id == post_id)
            )
        ).all()
        await session.execute(
            text("UPDATE photos SET renditions = NULL, blurhash = NULL WHERE post_id = :id"),
            {"id": post_id},
        )
    for _, prefix in made:
        for width in (media_root / prefix).glob("w*.webp"):
            width.unlink()
    before = {path: path.read_bytes() for path in media_root.rglob("*") if path.is_file()}

    report = json.loads(ok(await admin("media", "renditions", "--json", env=env)))
    assert report == {"lacking": 2, "queued": 0, "enqueued": 0}
    assert "--apply" in ok(await admin("media", "renditions", env=env))
    async with db() as session:
        kinds = await session.scalars(select(MediaJob.kind).where(MediaJob.kind == "renditions"))
        assert list(kinds) == []

    said = ok(await admin("media", "renditions", "--apply", env=env))
    assert "queued 2 renditions jobs" in said

    async def made_all() -> bool:
        async with db() as session:
            return not await session.scalar(
                select(func.count()).where(Photo.post_id == post_id, Photo.renditions.is_(None))
            )

    await wait_until(made_all, "the widths")
    async with db() as session:
        rows = (
            await session.execute(
                select(Photo.key_prefix, Photo.renditions, Photo.blurhash)
                .where(Photo.post_id == post_id)
                .order_by(Photo.position)
            )
        ).all()
    # From the 1080x810 display size of the wide photo: never wider than that.
    assert [row.renditions for row in rows] == [
        [
            {"width": w, "height": h, "format": "webp"}
            for w, h in ((320, 240), (640, 480), (1080, 810))
        ],
        [{"width": 300, "height": 200, "format": "webp"}],
    ]
    for prefix, renditions, blurhash in rows:
        assert blurhash
        for item in renditions:
            with Image.open(media_root / prefix / f"w{item['width']}.webp") as stored:
                assert stored.size == (item["width"], item["height"])
    # What was there is untouched, and the cards now offer the widths.
    assert all(path.read_bytes() == data for path, data in before.items())
    card = await (await client.get(f"/p/{post_id}")).text()
    assert f"/media/{rows[0].key_prefix}/w1080.webp 1080w" in card

    again = json.loads(ok(await admin("media", "renditions", "--apply", "--json", env=env)))
    assert again == {"lacking": 0, "queued": 0, "enqueued": 0}
    async with db() as session:
        jobs = await session.scalar(select(func.count()).where(MediaJob.kind == "renditions"))
    assert jobs == 2


async def test_media_renditions_queues_no_photo_twice(env, db, factory, media_root):
    """Asked twice before the workers get to them, the command queues each photo once."""
    author = await factory.user()
    async with db.begin() as session:
        post_id = await session.scalar(
            text(
                "INSERT INTO posts (author_id, status, published_at)"
                " VALUES (:a, 'published', now()) RETURNING id"
            ),
            {"a": author.id},
        )
        await session.execute(
            text(
                """INSERT INTO photos (post_id, owner_id, position, key_prefix, extension, width,
                                       height, ready_at)
                   VALUES (:post, :owner, 0, :prefix, 'jpg', 10, 10, now())"""
            ),
            {"post": post_id, "owner": author.id, "prefix": f"photos/{secrets.token_hex(16)}"},
        )
        # The app's workers are not running here; the jobs wait.
    first = json.loads(ok(await admin("media", "renditions", "--apply", "--json", env=env)))
    second = json.loads(ok(await admin("media", "renditions", "--apply", "--json", env=env)))
    assert first == {"lacking": 1, "queued": 0, "enqueued": 1}
    assert second == {"lacking": 1, "queued": 1, "enqueued": 0}
    async with db.begin() as session:
        await session.execute(text("DELETE FROM media_jobs WHERE kind = 'renditions'"))
        await session.execute(text("DELETE FROM posts WHERE id = :id"), {"id": post_id})


async def test_media_sweep_on_s3_with_no_grace(database_url, bucket, db):
    """On S3 the ages come from the bucket; a grace of zero treats every orphan as old."""
    env = service_env(database_url, **s3_env(bucket.endpoint, bucket.name))
    orphan = f"avatars/{secrets.token_hex(16)}/64.jpg"
    async with bucket._client() as client:
        await client.put_object(Bucket=bucket.name, Key=orphan, Body=b"old")
    report = json.loads(ok(await admin("media", "sweep", "--json", env=env)))
    assert report["too_young"] == [{"key": orphan, "size": 3}] and report["orphans"] == []
    ok(await admin("media", "sweep", "--apply", "--grace-minutes", "0", env=env))
    assert await bucket.keys() == []


async def test_unreachable_database_or_storage_fails_in_one_line(moto_server):
    nobody = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    no_bucket = service_env(nobody, **s3_env(moto_server.url, "no-such-bucket"))
    status, listing, sweeping = await asyncio.gather(
        admin("jobs", "status", env=service_env(nobody)),
        admin("users", "list", env=service_env(nobody)),
        admin("media", "sweep", env=no_bucket),
    )
    assert_one_line_error(status, 1, "ConnectionRefusedError")
    assert_one_line_error(listing, 1, "ConnectionRefusedError")
    # Storage is listed first, so a missing bucket is what stops the sweep.
    assert_one_line_error(sweeping, 1, "admin media sweep", "no-such-bucket")


@pytest.fixture
async def empty_database(postgres_server_url: str):
    """A database with nothing in it, not even the schema."""
    created = []

    async def make() -> str:
        name = f"snapline_restore_{secrets.token_hex(6)}"
        await admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"')
        created.append(name)
        return with_database(postgres_server_url, name)

    yield make
    for name in created:
        await admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def s3_settings_for_app(base_settings, bucket):
    return s3.s3_settings(base_settings, bucket.endpoint, bucket.name)


async def test_backup_then_restore_into_an_empty_database_and_bucket_finds_everything(
    aiohttp_client,
    s3_settings_for_app,
    factory,
    login,
    db,
    database_url,
    bucket,
    moto_server,
    empty_database,
    tmp_path,
):
    async with db.begin() as session:
        await session.execute(text("DELETE FROM rate_limit_counters"))
    client = await aiohttp_client(create_app(s3_settings_for_app))
    author, reader = await factory.user(), await factory.user()
    await login(client, author)
    reader_browser = await aiohttp_client(client.server)
    await login(reader_browser, reader)
    pictured = [
        await photo_post(client, db, "red", (200, 0, 0)),
        await photo_post(client, db, "blue", (0, 0, 200)),
    ]
    avatar_prefix = await upload_avatar(client, db, author.id)
    await Api(reader_browser).follow(author.username)
    await Api(reader_browser).call("POST", f"/api/snapline/v1/posts/{pictured[0]}/like", expect=200)
    await Api(reader_browser).call(
        "POST", f"/api/snapline/v1/posts/{pictured[1]}/comments", {"body": "lovely"}, expect=201
    )
    await client.close()
    source_keys = await bucket.keys()
    mine = [key for key in source_keys if key.startswith(avatar_prefix)]
    async with db() as session:
        for prefix in await session.scalars(
            select(Photo.key_prefix).where(Photo.post_id.in_(pictured))
        ):
            mine += [key for key in source_keys if key.startswith(prefix)]
    # display, thumb and one width (300 px: its own) of two photos, and two avatar sizes
    assert len(mine) == 8

    source_env = service_env(database_url, **s3_env(bucket.endpoint, bucket.name))
    folder = tmp_path / "backup"
    said = ok(await admin("backup", str(folder), env=source_env))
    assert f"to {folder}" in said
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {"users", "posts", "photos", "comments", "likes", "follows"} <= {
        table["name"] for table in manifest["tables"]
    }
    assert set(mine) <= {item["key"] for item in manifest["objects"]}

    target = Bucket(bucket.endpoint, f"snapline-{secrets.token_hex(6)}")
    await target.create()
    fresh = await empty_database()
    target_env = service_env(fresh, **s3_env(target.endpoint, target.name))
    said = ok(await admin("restore", str(folder), env=target_env))
    assert "every count checked" in said

    connection = await asyncpg.connect(asyncpg_dsn(fresh))
    try:
        for user in (author, reader):
            row = await connection.fetchrow(
                "SELECT email, post_count, followers_count FROM users WHERE username = $1",
                user.username,
            )
            assert row["email"] == user.email
        assert (
            await connection.fetchval("SELECT post_count FROM users WHERE id = $1", author.id) == 2
        )
        bodies = await connection.fetch(
            "SELECT body, like_count, comment_count FROM posts WHERE id = ANY($1) ORDER BY id",
            pictured,
        )
        assert [tuple(row) for row in bodies] == [("red", 1, 0), ("blue", 0, 1)]
        assert (
            await connection.fetchval("SELECT body FROM comments WHERE post_id = $1", pictured[1])
            == "lovely"
        )
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM likes WHERE post_id = $1 AND user_id = $2",
                pictured[0],
                reader.id,
            )
            == 1
        )
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM follows WHERE follower_id = $1 AND followed_id = $2",
                reader.id,
                author.id,
            )
            == 1
        )
        for table in manifest["tables"]:
            count = await connection.fetchval(f'SELECT count(*) FROM "{table["name"]}"')
            assert count == table["rows"], table["name"]
        # New rows get new ids: the identity sequences came back too.
        newest = await connection.fetchval("SELECT max(id) FROM users")
        added = await connection.fetchval(
            "INSERT INTO users (username, email, password_hash) VALUES ('after_restore', "
            "'after@example.com', 'x') RETURNING id"
        )
        assert added > newest
    finally:
        await connection.close()
    for key in mine:
        assert await target.get(key) == await bucket.get(key), key

    # Only into empty places: the database now holds rows. Storage holding this backup's
    # objects is a restore cut short (and resumed), but anything else is someone's data.
    other = await empty_database()
    stranger = f"photos/{secrets.token_hex(16)}/thumb.jpg"
    async with target._client() as storage:
        await storage.put_object(Bucket=target.name, Key=stranger, Body=b"not ours")
    # Refusals change nothing, so they may run at once.
    again, full_bucket, nothing, backup_again = await asyncio.gather(
        admin("restore", str(folder), env=target_env),
        admin(
            "restore", str(folder), env=service_env(other, **s3_env(target.endpoint, target.name))
        ),
        admin("restore", str(tmp_path / "nothing"), env=target_env),
        admin("backup", str(folder), env=source_env),
    )
    assert_one_line_error(again, 2, "admin restore", "database is not empty")
    assert_one_line_error(full_bucket, 2, "storage is not empty", stranger)
    assert_one_line_error(nothing, 2, "not a complete backup")
    assert_one_line_error(backup_again, 2, "admin backup", "not an empty directory")
