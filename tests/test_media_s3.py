"""The photo pipeline against a real S3 server (moto in server mode): presigned and public
URLs, objects without metadata, an outage that loses nothing, deletion of objects."""

from __future__ import annotations

import asyncio
import calendar
import io
import re
import time
import zipfile

import aiohttp
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from PIL import Image
from sqlalchemy import func, select, update

from service.models import AccountJob, MediaJob, Post, User
from service.storage.urls import Presigner
from tests import s3
from tests.api import Api
from tests.s3 import s3_settings
from tests.support import submit
from tests.test_leaving import archive_link, upload, wait_until_gone
from tests.test_uploads import (
    api_upload,
    assert_no_metadata,
    camera_jpeg,
    is_marker,
    photo_form,
    wait_for_jobs,
    wait_for_status,
)

PUBLIC_BASE = "https://cdn.snapline.test/media"

# The S3 server fixtures, for this module's tests.
moto_server = s3.moto_server
bucket = s3.bucket


@pytest.fixture
def settings(base_settings, bucket):
    return s3_settings(base_settings, bucket.endpoint, bucket.name)


async def download(url: str) -> tuple[bytes, str]:
    """As a browser would: straight from the storage server, without our cookies."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, (url, response.status)
        return await response.read(), response.headers["Content-Type"]


async def test_photos_go_to_the_bucket_upright_and_without_metadata(
    client,
    make_client,
    factory,
    login,
    db,
    bucket,
):
    author, reader = await factory.user(), await factory.user()
    await login(client, author)
    reader_browser = await make_client(client)
    await login(reader_browser, reader)
    await Api(reader_browser).follow(author.username)

    response = await api_upload(
        client, photo_form([("pic.jpg", camera_jpeg(1600, 1200), "image/jpeg")], "", ["A dog"])
    )
    assert response.status == 202
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)

    [post] = (await Api(reader_browser).get("/api/snapline/v1/timeline"))["items"][:1]
    assert post["id"] == post_id and post["status"] == "published"
    [photo] = post["photos"]
    # Presigned, path-style, against the configured endpoint, valid for at least an hour.
    assert photo["url"].startswith(f"{bucket.endpoint}/{bucket.name}/photos/")
    expires = int(re.search(r"X-Amz-Expires=(\d+)", photo["url"]).group(1))
    signed = re.search(r"X-Amz-Date=(\w+)", photo["url"]).group(1)
    signed_at = calendar.timegm(time.strptime(signed, "%Y%m%dT%H%M%SZ"))
    assert signed_at + expires - time.time() >= 3600

    raw, content_type = await download(photo["url"])
    assert content_type == "image/jpeg"
    display = Image.open(io.BytesIO(raw))
    assert display.size == (810, 1080) == (photo["width"], photo["height"])
    assert is_marker(display.getpixel((display.width - 20, 20)))
    assert_no_metadata(display, raw)
    raw, _ = await download(photo["thumb_url"])
    thumb = Image.open(io.BytesIO(raw))
    assert thumb.size == (320, 320)
    assert_no_metadata(thumb, raw)

    # The widths for srcset: WebP, upright, bare, each exactly the size the API says; the
    # upright photo is 1200 px wide, so it is the widest (no 1600 made up from it).
    sizes = [(item["width"], item["height"]) for item in photo["renditions"]]
    assert sizes == [(320, 427), (640, 853), (1080, 1440), (1200, 1600)]
    for item in photo["renditions"]:
        raw, content_type = await download(item["url"])
        assert content_type == item["type"] == "image/webp"
        width = Image.open(io.BytesIO(raw))
        assert width.size == (item["width"], item["height"])
        assert is_marker(width.getpixel((width.width - width.width // 20, width.width // 20)))
        assert_no_metadata(width, raw)

    prefix = photo["url"].split(f"/{bucket.name}/", 1)[1].split("/display.jpg", 1)[0]
    assert await bucket.keys() == [
        f"{prefix}/{name}"
        for name in (
            "display.jpg",
            "thumb.jpg",
            "w1080.webp",
            "w1200.webp",
            "w320.webp",
            "w640.webp",
        )
    ]


async def test_public_url_setting_names_objects_under_it(
    aiohttp_client,
    base_settings,
    factory,
    login,
    db,
    bucket,
):
    settings = s3_settings(
        base_settings, bucket.endpoint, bucket.name, s3_public_url=PUBLIC_BASE + "/"
    )
    from service.app import create_app

    client = await aiohttp_client(create_app(settings))
    await login(client, await factory.user())
    response = await api_upload(client, photo_form([("a.png", png_bytes(), "image/png")]))
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    [photo] = (await Api(client).get(f"/api/snapline/v1/posts/{post_id}"))["photos"]
    [display, thumb, width] = await bucket.keys()  # a 300 px photo has one width: its own
    assert (photo["url"], photo["thumb_url"], photo["renditions"][0]["url"]) == (
        f"{PUBLIC_BASE}/{display}",
        f"{PUBLIC_BASE}/{thumb}",
        f"{PUBLIC_BASE}/{width}",
    )


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_storage_outage_loses_no_upload(
    client,
    factory,
    login,
    db,
    bucket,
    moto_server,
):
    await login(client, await factory.user())
    moto_server.stop()
    try:
        ids = []
        for number in range(5):
            response = await api_upload(
                client, photo_form([(f"{number}.jpg", camera_jpeg(400, 300), "image/jpeg")])
            )
            assert response.status == 202
            assert (await response.json())["status"] == "processing"
            ids.append((await response.json())["id"])
        # The site keeps working, and the jobs are failing and being retried.
        started = time.monotonic()
        home = await client.get("/")
        assert home.status == 200 and time.monotonic() - started < 2
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            async with db() as session:
                failed_once = await session.scalar(
                    select(func.count()).where(
                        MediaJob.photo_id.is_not(None), MediaJob.last_error.is_not(None)
                    )
                )
            if failed_once:
                break
            await asyncio.sleep(0.1)
        assert failed_once, "no job tried storage while it was down"
    finally:
        moto_server.start()
    for post_id in ids:
        await wait_for_status(db, post_id)
    keys = await bucket.keys()
    # display, thumb and the one width (400 px: its own) per photo, nothing else
    assert len(keys) == len(set(keys)) == 15
    async with db() as session:
        published = await session.scalar(
            select(func.count()).where(Post.id.in_(ids), Post.status == "published")
        )
    assert published == 5


async def test_deleting_a_post_deletes_its_objects_only_for_its_author(
    client,
    make_client,
    factory,
    login,
    db,
    bucket,
):
    author, other = await factory.user(), await factory.user()
    await login(client, author)
    photos = [(f"{n}.png", png_bytes(), "image/png") for n in range(2)]
    response = await api_upload(client, photo_form(photos, "two photos"))
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    assert len(await bucket.keys()) == 6

    stranger = await make_client(client)
    await login(stranger, other)
    assert (await Api(stranger).call("DELETE", f"/api/snapline/v1/posts/{post_id}")).status == 403
    assert (await submit(stranger, f"/p/{post_id}/delete")).status == 403
    await wait_for_jobs(db)
    assert len(await bucket.keys()) == 6

    await Api(client).call("DELETE", f"/api/snapline/v1/posts/{post_id}", expect=204)
    await wait_for_jobs(db)
    assert await bucket.keys() == []
    assert (await client.get(f"/p/{post_id}")).status == 404


def test_presigned_urls_are_the_ones_botocore_would_sign():
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    for endpoint in ("http://127.0.0.1:9000", "https://s3.eu-west-1.amazonaws.com"):
        request = AWSRequest(method="GET", url=f"{endpoint}/my-bucket/photos/ab/display.jpg")
        S3SigV4QueryAuth(credentials, "s3", "eu-west-1", expires=7200).add_auth(request)
        theirs = request.prepare().url
        stamp = re.search(r"X-Amz-Date=(\w+)", theirs).group(1)
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        ours = Presigner(
            endpoint, "my-bucket", "eu-west-1", credentials.access_key, credentials.secret_key
        ).url_at("photos/ab/display.jpg", signed_at, 7200)
        assert ours == theirs


async def test_an_archive_is_made_from_the_bucket_and_kept_in_it_until_its_owner_leaves(
    client, factory, login, db, mailbox, bucket
):
    me = await factory.user()
    await login(client, me)
    await upload(client, db, [("pic.jpg", camera_jpeg(1600, 1200), "image/jpeg")], "", ["A"])
    link = await archive_link(client, mailbox, me)
    [archive_key] = [key for key in await bucket.keys() if key.startswith("archives/")]
    stored, content_type = await bucket.get(archive_key)
    assert content_type == "application/zip"

    response = await client.get(link)
    assert response.status == 200
    assert await response.read() == stored  # streamed from the bucket as it is there
    archive = zipfile.ZipFile(io.BytesIO(stored))
    [photo_name] = [name for name in archive.namelist() if name.startswith("photos/")]
    widest = max(
        (key for key in await bucket.keys() if re.search(r"/w\d+\.webp$", key)),
        key=lambda key: int(re.search(r"/w(\d+)\.", key).group(1)),
    )
    assert archive.read(photo_name) == (await bucket.get(widest))[0]
    # Upright: the phone's 1600 x 1200 turned by its EXIF orientation.
    assert Image.open(io.BytesIO(archive.read(photo_name))).size == (1200, 1600)

    assert (await submit(client, "/settings/delete", {"password": me.password})).status == 303
    async with db.begin() as session:
        await session.execute(
            update(AccountJob).where(AccountJob.user_id == me.id).values(next_attempt_at=func.now())
        )
        await session.execute(
            update(User).where(User.id == me.id).values(deletion_due_at=func.now())
        )
    await wait_until_gone(db, me.id)
    await wait_for_jobs(db)
    assert await bucket.keys() == []
