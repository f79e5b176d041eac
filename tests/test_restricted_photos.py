"""Restricted photos (docs/media.md, "Restricted photos"): a post's photos that only its
audience may see are named only by signed, short-lived /media/ URLs, stored under a kind of
key no public URL reaches, and moved between the kinds by a durable job when the post's
restriction changes. Storage here is the local backend; the S3 tests are at the end."""

from __future__ import annotations

import asyncio
import calendar
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text, update

from service.domain import blocks, posts, reports, restricted
from service.keys import storage_key
from service.models import MediaJob, Photo, Report
from service.ops import backup as backups
from service.ops.sweep import sweep
from service.storage.urls import SIGNED_URL_LIFETIME_SECONDS, UrlSigner
from tests import s3
from tests.nginx import Nginx
from tests.oauth import bearer, user_token
from tests.s3 import s3_settings
from tests.support import csrf_for
from tests.test_deploy import compose
from tests.test_mastodon_writes import upload_form
from tests.test_nginx import private_dir
from tests.test_uploads import camera_jpeg, stored_files, wait_for_jobs, wait_for_status

SIGNED = re.compile(r"^/media/(?P<key>[a-z]+/[0-9a-f]{32}/[a-z0-9]+\.(jpg|webp))\?exp=\d+&sig=\w+$")


async def new_photo_post(db, author_id: int, directory: Path, restrict: bool = False) -> int:
    """A photo post, public, or with ``restrict`` unlisted: not public, so its photos are
    restricted from the start, but anyone with the link sees the post."""
    original = directory / f"upload-{time.monotonic_ns()}.jpg"
    original.write_bytes(camera_jpeg(400, 300))
    audience = "unlisted" if restrict else "public"
    async with db.begin() as session:
        post_id = await posts.create_post(
            session, author_id, "", [posts.NewPhoto(original, "")], audience
        )
    await wait_for_status(db, post_id)
    return post_id


async def photo_of(client: TestClient, post_id: int) -> dict:
    response = await client.get(f"/api/snapline/v1/posts/{post_id}")
    assert response.status == 200, await response.text()
    [photo] = (await response.json())["photos"]
    return photo


def urls_of(photo: dict) -> list[str]:
    return [photo["url"], photo["thumb_url"], *(item["url"] for item in photo["renditions"])]


async def set_restricted(db, post_id: int, restrict: bool, hold: bool = False) -> None:
    async with db.begin() as session:
        await restricted.set_post_photos_restricted(session, post_id, restrict)
        if hold:  # as behind a busy worker
            await session.execute(
                update(MediaJob)
                .where(MediaJob.kind == "move", MediaJob.done_at.is_(None))
                .values(next_attempt_at=MediaJob.created_at + timedelta(hours=1))
            )


async def release_moves(db) -> None:
    async with db.begin() as session:
        await session.execute(
            update(MediaJob)
            .where(MediaJob.kind == "move", MediaJob.done_at.is_(None))
            .values(next_attempt_at=MediaJob.created_at)
        )
    await wait_for_jobs(db)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts.path + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def stored_under(settings, kind: str) -> set[str]:
    root = settings.resolve_path(settings.storage.local_path)
    return {
        path.relative_to(root).as_posix()
        for path in stored_files(settings)
        if path.relative_to(root).parts[0] == kind
    }


async def status_of(client: TestClient, url: str) -> int:
    async with client.get(url, allow_redirects=False) as response:
        await response.read()
        return response.status


async def test_a_restricted_posts_photos_are_only_served_by_signed_urls(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path, restrict=True)
    photo = await photo_of(client, post_id)
    urls = urls_of(photo)
    assert len(urls) >= 3
    for url in urls:
        match = SIGNED.match(url)
        assert match and match["key"].startswith("restricted/"), url
        exp = int(parse_qs(urlsplit(url).query)["exp"][0])
        assert 0 < exp - time.time() <= SIGNED_URL_LIFETIME_SECONDS
        response = await client.get(url)
        assert response.status == 200 and (await response.read())[:2] in {b"\xff\xd8", b"RI"}
        cache = response.headers["Cache-Control"]
        age = int(re.fullmatch(r"private, max-age=(\d+)", cache).group(1))
        assert 0 < age <= SIGNED_URL_LIFETIME_SECONDS
        assert "public" not in cache and "immutable" not in cache

        # The bare path, a forged signature, a lengthened expiry: refused, not redirected.
        bare = urlsplit(url).path
        exp = parse_qs(urlsplit(url).query)["exp"][0]
        for refused in (
            bare,
            with_query(url, sig="0" * 64),
            with_query(url, exp=str(int(exp) + 60)),
            with_query(url, exp="x"),
            with_query(url, exp="9" * 40),
            with_query(url, sig="%C3%A9" * 32),
            bare + f"?exp={exp}",
        ):
            response = await client.get(refused, allow_redirects=False)
            assert response.status == 403, refused
            assert "Location" not in response.headers
    # Stored under the restricted kind from the start: nothing to move, nothing public.
    assert (
        stored_under(settings, "photos")
        & {url.split("?")[0].removeprefix("/media/") for url in urls}
        == set()
    )
    assert {url.split("?")[0].removeprefix("/media/") for url in urls} <= stored_under(
        settings, "restricted"
    )

    # The same URL for a minute (a reload can be answered from the browser's cache)...
    signer = client.server.app[storage_key].urls.signer
    minute = int(time.time()) // 60 * 60
    signer.clock = lambda: minute + 5
    first = (await photo_of(client, post_id))["url"]
    signer.clock = lambda: minute + 55
    assert (await photo_of(client, post_id))["url"] == first
    assert await status_of(client, first) == 200
    # ...valid until it expires, and useless from then on.
    signer.clock = lambda: minute + SIGNED_URL_LIFETIME_SECONDS - 1
    assert await status_of(client, first) == 200
    signer.clock = lambda: minute + SIGNED_URL_LIFETIME_SECONDS
    assert await status_of(client, first) == 403
    fresh = (await photo_of(client, post_id))["url"]
    assert fresh != first and await status_of(client, fresh) == 200
    signer.clock = time.time

    # Mastodon apps get the same signed URLs, made absolute (the post is unlisted: it is on
    # its author's list, not the public timeline).
    response = await client.get(f"/api/v1/accounts/{author.id}/statuses")
    [status] = await response.json()
    [media] = status["media_attachments"]
    for url in (media["url"], media["preview_url"]):
        path = url.removeprefix("http://snapline.test")
        assert SIGNED.match(path), url
        assert await status_of(client, path) == 200


async def test_public_photos_keep_their_long_cached_urls(client, factory, db, tmp_path):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path)
    photo = await photo_of(client, post_id)
    for url in urls_of(photo):
        assert re.fullmatch(r"/media/photos/[0-9a-f]{32}/[a-z0-9]+\.(jpg|webp)", url)
        response = await client.get(url)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_restricting_moves_the_objects_and_the_old_urls_stop_working(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path)
    public = await photo_of(client, post_id)
    public_keys = {url.removeprefix("/media/") for url in urls_of(public)}

    # Restricted, but the move waits: the photo is already named only by signed URLs, and
    # its public path is refused though the objects are still there.
    await set_restricted(db, post_id, True, hold=True)
    waiting = await photo_of(client, post_id)
    for url in urls_of(waiting):
        assert SIGNED.match(url) and "/media/photos/" in url
        assert await status_of(client, url) == 200
    for url in urls_of(public):
        assert await status_of(client, url) == 403
    assert public_keys <= stored_under(settings, "photos")

    await release_moves(db)
    moved = await photo_of(client, post_id)
    for url in urls_of(moved):
        assert SIGNED.match(url)["key"].startswith("restricted/")
        assert await status_of(client, url) == 200
    # The old addresses are gone, the signed ones handed out before the move included.
    assert stored_under(settings, "photos") & public_keys == set()
    for url in urls_of(public) + urls_of(waiting):
        assert await status_of(client, url) in {403, 404}

    # And back: public again, under a new public prefix with the long-cached URLs.
    await set_restricted(db, post_id, False)
    await wait_for_jobs(db)
    again = await photo_of(client, post_id)
    for url in urls_of(again):
        assert re.fullmatch(r"/media/photos/[0-9a-f]{32}/[a-z0-9]+\.(jpg|webp)", url), url
        response = await client.get(url)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (
        stored_under(settings, "restricted") & {SIGNED.match(url)["key"] for url in urls_of(moved)}
        == set()
    )
    for url in urls_of(moved):
        assert await status_of(client, url) == 404


async def test_a_move_that_died_half_way_is_finished_by_the_next_attempt(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path)
    before = urls_of(await photo_of(client, post_id))
    originals = {url: (await (await client.get(url)).read()) for url in before}
    await set_restricted(db, post_id, True, hold=True)
    async with db() as session:
        target = await session.scalar(
            select(MediaJob.key_prefix).where(MediaJob.kind == "move", MediaJob.done_at.is_(None))
        )
    # What a worker that died after copying one object left: that copy (and its claim,
    # long expired). The next attempt copies again to the same keys and switches once.
    root = settings.resolve_path(settings.storage.local_path)
    source = root / before[0].removeprefix("/media/")
    (root / target).mkdir(parents=True)
    shutil.copyfile(source, root / target / source.name)
    await release_moves(db)

    after = urls_of(await photo_of(client, post_id))
    assert all(SIGNED.match(url)["key"].startswith(target + "/") for url in after)
    for old, new in zip(before, after, strict=True):
        response = await client.get(new)
        assert response.status == 200 and await response.read() == originals[old]
    assert (
        stored_under(settings, "photos") & {url.removeprefix("/media/") for url in before} == set()
    )


async def test_a_change_undone_before_its_move_ran_loses_nothing(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path)
    before = urls_of(await photo_of(client, post_id))
    await set_restricted(db, post_id, True, hold=True)
    await set_restricted(db, post_id, False, hold=True)
    await release_moves(db)
    assert urls_of(await photo_of(client, post_id)) == before
    for url in before:
        assert await status_of(client, url) == 200
    async with db() as session:
        prefixes = set(
            await session.scalars(
                select(MediaJob.key_prefix).where(
                    MediaJob.kind == "move",
                    MediaJob.photo_id.in_(select(Photo.id).where(Photo.post_id == post_id)),
                )
            )
        )
    assert len(prefixes) == 2
    root = settings.resolve_path(settings.storage.local_path)
    assert not any((root / prefix).exists() for prefix in prefixes)


async def test_a_photo_restricted_while_processing_is_moved_once_ready(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    original = tmp_path / "upload.jpg"
    original.write_bytes(camera_jpeg(400, 300))
    async with db.begin() as session:
        post_id = await posts.create_post(session, author.id, "", [posts.NewPhoto(original, "")])
        await restricted.set_post_photos_restricted(session, post_id, True)
    await wait_for_status(db, post_id)
    await wait_for_jobs(db)
    for url in urls_of(await photo_of(client, post_id)):
        assert SIGNED.match(url)["key"].startswith("restricted/")
        assert await status_of(client, url) == 200
    async with db() as session:
        [prefix] = await session.scalars(select(Photo.key_prefix).where(Photo.post_id == post_id))
    assert prefix.startswith("restricted/")


async def test_deleting_a_restricted_post_deletes_its_objects(
    client, factory, db, settings, tmp_path
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path, restrict=True)
    keys = {SIGNED.match(url)["key"] for url in urls_of(await photo_of(client, post_id))}
    assert keys <= stored_under(settings, "restricted")
    async with db.begin() as session:
        await posts.delete_post(session, post_id)
    await wait_for_jobs(db)
    assert stored_under(settings, "restricted") & keys == set()


async def test_sweep_and_backup_count_restricted_objects_as_owned(
    client, factory, db, settings, tmp_path, database_url
):
    author = await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path, restrict=True)
    keys = {SIGNED.match(url)["key"] for url in urls_of(await photo_of(client, post_id))}
    # One more half way through its move: its copies belong to the waiting job.
    moving = await new_photo_post(db, author.id, tmp_path)
    await set_restricted(db, moving, True, hold=True)
    async with db() as session:
        target = await session.scalar(
            select(MediaJob.key_prefix).where(MediaJob.kind == "move", MediaJob.done_at.is_(None))
        )
    storage = client.server.app[storage_key]
    [first] = urls_of(await photo_of(client, moving))[:1]
    source = SIGNED.match(first)["key"]
    copied = f"{target}/{source.rsplit('/', 1)[1]}"
    await storage.copy(source, copied)

    report = await sweep(db, storage, grace=timedelta(0), apply=False)
    orphaned = {item.key for item in report.orphans}
    assert not orphaned & (keys | {copied}), orphaned
    assert not keys & set(report.missing)

    manifest = await backups.backup(database_url, storage, tmp_path / "backup")
    saved = {item["key"] for item in manifest["objects"]}
    assert keys <= saved
    await release_moves(db)


# Against a real S3 server, with the public URL through nginx's /objects/ as deployed.
moto_server = s3.moto_server
bucket = s3.bucket


@pytest.fixture
async def objects_nginx(bucket):
    policy = compose()["services"]["bucket"]["environment"]["READ_OBJECTS_POLICY"]
    async with bucket._client() as s3_client:
        await s3_client.put_bucket_policy(
            Bucket=bucket.name, Policy=policy.replace(":::snapline/", f":::{bucket.name}/")
        )
    workdir = private_dir("snapline-restricted-")
    nginx = Nginx(workdir, ["127.0.0.1:1"], objects=f"{bucket.endpoint}/{bucket.name}")
    await asyncio.to_thread(nginx.start)
    try:
        yield nginx
    finally:
        await asyncio.to_thread(nginx.stop)
        shutil.rmtree(workdir)


# nginx is a process the test starts: the deploy tier (docs/testing.md).
@pytest.mark.deploy
async def test_on_s3_restricted_photos_are_presigned_briefly_and_never_public(
    aiohttp_client, base_settings, factory, db, bucket, objects_nginx, tmp_path
):
    from service.app import create_app

    public_base = f"{objects_nginx.base}/objects"
    settings = s3_settings(base_settings, bucket.endpoint, bucket.name, s3_public_url=public_base)
    client = await aiohttp_client(create_app(settings))
    author = await factory.user()
    shown = await new_photo_post(db, author.id, tmp_path)
    hidden = await new_photo_post(db, author.id, tmp_path, restrict=True)

    async with aiohttp.ClientSession() as browser:
        # A public photo: straight from the public URL, as before.
        for url in urls_of(await photo_of(client, shown)):
            assert url.startswith(f"{public_base}/photos/")
            async with browser.get(url) as response:
                assert response.status == 200

        for url in urls_of(await photo_of(client, hidden)):
            key = SIGNED.match(url)["key"]
            assert key.startswith("restricted/")
            # The public address of the object does not reach it.
            async with browser.get(f"{public_base}/{key}") as response:
                assert response.status == 404
            assert await status_of(client, urlsplit(url).path) == 403
            # The signed URL redirects to a presigned GET that ends with it.
            response = await client.get(url, allow_redirects=False)
            assert response.status == 302
            location = response.headers["Location"]
            assert location.startswith(f"{bucket.endpoint}/{bucket.name}/{key}?")
            exp = int(parse_qs(urlsplit(url).query)["exp"][0])
            stamp = re.search(r"X-Amz-Date=(\w+)", location).group(1)
            signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
            expires = int(re.search(r"X-Amz-Expires=(\d+)", location).group(1))
            assert expires <= SIGNED_URL_LIFETIME_SECONDS and signed_at + expires == exp
            assert re.fullmatch(r"private, max-age=\d+", response.headers["Cache-Control"])
            async with browser.get(location) as stored:
                assert stored.status == 200
                assert stored.headers["Cache-Control"].startswith("private")

        # A public photo restricted later moves in the bucket too...
        before = urls_of(await photo_of(client, shown))
        await set_restricted(db, shown, True)
        await wait_for_jobs(db)
        keys = await bucket.keys()
        assert not any(key.startswith("photos/") for key in keys), keys
        for url in before:
            async with browser.get(url) as response:
                assert response.status in {403, 404}
        for url in urls_of(await photo_of(client, shown)):
            key = SIGNED.match(url)["key"]
            assert key.startswith("restricted/")
            response = await client.get(url, allow_redirects=False)
            async with browser.get(response.headers["Location"]) as stored:
                assert stored.status == 200
                assert stored.headers["Cache-Control"].startswith("private")

        # ...and back, cached for a year again.
        await set_restricted(db, shown, False)
        await wait_for_jobs(db)
        for url in urls_of(await photo_of(client, shown)):
            assert url.startswith(f"{public_base}/photos/")
            async with browser.get(url) as response:
                assert response.status == 200
                cache = response.headers["Cache-Control"]
                assert cache == "public, max-age=31536000, immutable"


async def test_report_evidence_follows_a_moved_photo_and_survives_the_posts_deletion(
    client, factory, db, settings, tmp_path
):
    author, reporter = await factory.user(), await factory.user()
    post_id = await new_photo_post(db, author.id, tmp_path)
    async with db.begin() as session:
        report_id = await reports.file_report(session, reporter.id, "post", post_id, "spam")
    await set_restricted(db, post_id, True)
    await wait_for_jobs(db)
    [key] = [SIGNED.match((await photo_of(client, post_id))["url"])["key"]]
    async with db() as session:
        evidence = await session.scalar(select(Report.photo_keys).where(Report.id == report_id))
    assert evidence == [key]
    # Deleting the post keeps the evidence, under its restricted key, for moderators.
    async with db.begin() as session:
        await posts.delete_post(session, post_id)
    await wait_for_jobs(db)
    assert key in stored_under(settings, "restricted")
    storage = client.server.app[storage_key]
    assert await status_of(client, storage.urls(key)) == 200
    assert await status_of(client, "/media/" + key) == 403


def test_a_signed_url_names_one_key_until_it_expires():
    now = 1_800_000_030
    signer = UrlSigner("a secret", clock=lambda: now)
    url = signer("restricted/" + "a" * 32 + "/display.jpg")
    key, query = url.removeprefix("/media/").split("?")
    exp, sig = (part.split("=")[1] for part in query.split("&"))
    # Signed at the minute (1_800_000_000), valid five minutes from then.
    assert exp == str(1_800_000_000 + SIGNED_URL_LIFETIME_SECONDS)
    assert signer.remaining(key, exp, sig) == SIGNED_URL_LIFETIME_SECONDS - 30
    assert signer.remaining(key.replace("display", "thumb"), exp, sig) is None
    assert UrlSigner("another secret", clock=lambda: now).remaining(key, exp, sig) is None
    for bad_exp, bad_sig in ((exp, sig.upper()), (exp, ""), (None, sig), ("-1", sig)):
        assert signer.remaining(key, bad_exp, bad_sig) is None
    later = UrlSigner("a secret", clock=lambda: int(exp))
    assert later.remaining(key, exp, sig) is None


async def test_photos_follow_their_posts_audience(
    client, make_client, factory, db, login, tmp_path
):
    """A followers-only post's photos are restricted from the start; its author opening it
    to everyone makes them public again (moved back), narrowing it restricts them, and an
    app's photos uploaded before their post follow the post they join."""
    author, follower = await factory.user(), await factory.user()
    await factory.follow(follower, author)
    original = tmp_path / "followers.jpg"
    original.write_bytes(camera_jpeg(400, 300))
    async with db.begin() as session:
        post_id = await posts.create_post(
            session, author.id, "", [posts.NewPhoto(original, "")], "followers"
        )
    await wait_for_status(db, post_id)
    reader = await make_client(client)
    await login(reader, follower)
    photo = await photo_of(reader, post_id)
    assert all(SIGNED.match(url)["key"].startswith("restricted/") for url in urls_of(photo))
    bare = urlsplit(photo["url"]).path
    assert await status_of(client, bare) == 403  # nobody's without a signature
    # Opened to everyone on its page: public again, at its long-cached public URLs.
    await login(client, author)
    page = await client.get(f"/p/{post_id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
    changed = await client.post(
        f"/p/{post_id}/audience", data={"csrf_token": token, "audience": "public"}
    )
    assert changed.status == 200  # followed to the post's page
    await wait_for_jobs(db)
    opened = await photo_of(reader, post_id)
    assert all(url.startswith("/media/photos/") and "?" not in url for url in urls_of(opened))
    assert await status_of(client, bare) in (403, 404)  # the restricted copy is gone
    # Narrowed again: signed only, at once.
    narrowed = await client.post(
        f"/p/{post_id}/audience", data={"csrf_token": token, "audience": "unlisted"}
    )
    assert narrowed.status == 200
    assert all(SIGNED.match(url) for url in urls_of(await photo_of(reader, post_id)))
    await wait_for_jobs(db)
    assert await status_of(client, opened["url"]) in (403, 404)

    # A Mastodon app's upload joins a followers-only status: restricted with it.
    app_token = await user_token(client, "read write")
    upload = await client.post(
        "/api/v2/media",
        data=upload_form(camera_jpeg(300, 200), description="app photo"),
        headers=bearer(app_token),
    )
    media_id = (await upload.json())["id"]
    await wait_for_jobs(db)
    made = await client.post(
        "/api/v1/statuses",
        data={"status": "", "media_ids[]": media_id, "visibility": "private"},
        headers=bearer(app_token),
    )
    assert made.status == 200, await made.text()
    status = await made.json()
    assert status["visibility"] == "private"
    for url in (
        status["media_attachments"][0]["url"],
        status["media_attachments"][0]["preview_url"],
    ):
        assert "?exp=" in url and "&sig=" in url, url
    await wait_for_jobs(db)
    async with db() as session:
        prefixes = list(
            await session.scalars(select(Photo.key_prefix).where(Photo.id == int(media_id)))
        )
    assert prefixes and prefixes[0].startswith("restricted/")


async def test_a_followers_only_photo_reaches_its_audience_alone_and_not_after_it_shrinks(
    client, make_client, factory, db, login, tmp_path
):
    """The leak table for photos: a followers-only post's photo URLs are handed to its
    author and followers alone (a requester, a stranger, a moderator, a blocked follower
    and nobody signed in get no post and so no URL), its bare path serves nobody, with a
    session or without; and once a follower stops being one, they get no new URL and the
    one they held dies with its signature."""
    author = await factory.user()
    people = {
        role: await factory.user(role="moderator" if role == "moderator" else "user")
        for role in ("follower", "leaver", "requester", "stranger", "moderator", "blocked")
    }
    for role in ("follower", "leaver", "blocked"):
        await factory.follow(people[role], author)
    original = tmp_path / "for-followers.jpg"
    original.write_bytes(camera_jpeg(400, 300))
    async with db.begin() as session:
        post_id = await posts.create_post(
            session, author.id, "", [posts.NewPhoto(original, "")], "followers"
        )
        await session.execute(
            text("INSERT INTO follow_requests (requester_id, target_id) VALUES (:a, :b)"),
            {"a": people["requester"].id, "b": author.id},
        )
    async with db.begin() as session:
        await blocks.block(session, author.id, people["blocked"].id)
    await wait_for_status(db, post_id)

    sessions = {"anonymous": await make_client(client)}
    for role, account in {**people, "author": author}.items():
        sessions[role] = await make_client(client)
        await login(sessions[role], account)
    held = {}
    for role, asking in sessions.items():
        page = await asking.get(f"/p/{post_id}")
        api = await asking.get(f"/api/snapline/v1/posts/{post_id}")
        if role in ("author", "follower", "leaver"):
            assert page.status == 200 and api.status == 200, role
            held[role] = urls_of((await api.json())["photos"][0])
            assert all(SIGNED.match(url) for url in held[role]), role
        else:
            assert (page.status, api.status) == (404, 404), role
    bare = urlsplit(held["author"][0]).path
    for role, asking in sessions.items():
        assert await status_of(asking, bare) == 403, role

    # The leaver unfollows: no post, so no new URL; the one held lasts its few minutes.
    await sessions["leaver"].post(
        f"/@{author.username}/unfollow",
        data={"csrf_token": await csrf_for(sessions["leaver"], f"/@{author.username}")},
    )
    assert (await sessions["leaver"].get(f"/api/snapline/v1/posts/{post_id}")).status == 404
    signer = client.server.app[storage_key].urls.signer
    try:
        signer.clock = lambda: time.time() + SIGNED_URL_LIFETIME_SECONDS + 60
        for url in held["leaver"]:
            assert await status_of(sessions["leaver"], url) == 403, url
        # The follower, asking afresh, gets new URLs that work.
        fresh = urls_of(
            (await (await sessions["follower"].get(f"/api/snapline/v1/posts/{post_id}")).json())[
                "photos"
            ][0]
        )
        for url in fresh:
            assert await status_of(sessions["follower"], url) == 200, url
    finally:
        signer.clock = time.time
