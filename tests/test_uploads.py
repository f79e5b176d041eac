"""Photo posts as a user makes them: uploads through the form and the API, checked by
content, processed in the background, served without metadata; and every kind of bad upload
refused with nothing stored. Storage here is the local backend; tests/test_media_s3.py runs
the same pipeline against an S3 server."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import time
import zlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image, ImageCms, TiffImagePlugin
from sqlalchemy import func, select, update

from service.domain import posts
from service.keys import spool_dir_key
from service.models import MediaJob, MediaOriginal, Photo, Post
from tests.api import Api
from tests.support import csrf_for

PROCESSING_TIMEOUT_SECONDS = 20.0

# EXIF tags the tests plant and then look for.
ORIENTATION = 0x0112
GPS_IFD = 0x8825
XMP_PACKET = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Secret Photographer'
    b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
)


def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A gradient with a red marker in the top-left corner, to tell which way is up."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    marker = (255, 0, 0) if mode == "RGB" else (255, 0, 0, 255)
    image.paste(Image.new(mode, (max(1, width // 5), max(1, height // 5)), marker), (0, 0))
    return image


def encoded(image: Image.Image, kind: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_jpeg(width: int = 1600, height: int = 1200, orientation: int = 6) -> bytes:
    """What a phone writes: EXIF with an Orientation and a GPS position, XMP, a comment,
    and a colour profile."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (TiffImagePlugin.IFDRational(52, 1), 0, 0), 3: "E", 4: (13, 0, 0)}
    exif[GPS_IFD] = gps
    return encoded(
        picture(width, height),
        exif=exif,
        xmp=XMP_PACKET,
        comment=b"taken at home",
        icc_profile=SRGB,
        quality=90,
    )


def photo_form(
    photos: Iterable[tuple[str, bytes, str]],
    body: str = "",
    alts: Iterable[str] = (),
    token: str | None = None,
) -> aiohttp.FormData:
    """The composer's multipart form: the CSRF token first (when given), then the fields."""
    form = aiohttp.FormData()
    if token is not None:
        form.add_field("csrf_token", token)
    form.add_field("body", body)
    for filename, data, content_type in photos:
        form.add_field("photos", io.BytesIO(data), filename=filename, content_type=content_type)
    for alt in alts:
        form.add_field("alt", alt)
    return form


async def api_upload(client: TestClient, form: aiohttp.FormData | bytes, **headers: str):
    token = await csrf_for(client)
    return await client.post(
        "/api/snapline/v1/posts",
        data=form,
        headers={"Accept": "application/json", "X-CSRF-Token": token, **headers},
    )


async def wait_for_status(db, post_id: int, wanted: str = "published") -> str:
    deadline = time.monotonic() + PROCESSING_TIMEOUT_SECONDS
    status = ""
    while time.monotonic() < deadline:
        async with db() as session:
            status = await session.scalar(select(Post.status).where(Post.id == post_id))
        if status == wanted:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"post {post_id} is {status!r}, not {wanted!r}")


async def photo_post(
    db,
    author_id: int,
    directory: Path,
    body: str = "",
    alts: Sequence[str] = ("",),
    held: bool = False,
) -> int:
    """A photo post as an upload that passed the checks leaves it, one photo per alt text,
    published by the media worker; or, ``held``, still processing (its jobs wait an hour,
    as behind a busy worker) until ``release``."""
    photos = []
    for alt in alts:
        original = directory / f"upload-{time.monotonic_ns()}.jpg"
        original.write_bytes(camera_jpeg(400, 300))
        photos.append(posts.NewPhoto(original, alt))
    async with db.begin() as session:
        post_id = await posts.create_photo_post(session, author_id, body, photos)
        if held:
            await delay_jobs(session, post_id, timedelta(hours=1))
    if not held:
        await wait_for_status(db, post_id)
    return post_id


async def delay_jobs(session, post_id: int, delay: timedelta) -> None:
    photo_ids = select(Photo.id).where(Photo.post_id == post_id)
    await session.execute(
        update(MediaJob)
        .where(MediaJob.photo_id.in_(photo_ids))
        .values(next_attempt_at=MediaJob.created_at + delay)
    )


async def release(db, post_id: int) -> None:
    """Let a held photo post be processed, and wait until it is published."""
    async with db.begin() as session:
        await delay_jobs(session, post_id, timedelta(0))
    await wait_for_status(db, post_id)


async def wait_for_jobs(db, within_seconds: float = PROCESSING_TIMEOUT_SECONDS) -> None:
    """Until no media job is waiting: every photo processed and every delete done."""
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        async with db() as session:
            waiting = await session.scalar(
                select(func.count()).where(MediaJob.done_at.is_(None), MediaJob.failed_at.is_(None))
            )
        if waiting == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} media job(s) still waiting")


def spool_files(client: TestClient) -> set[Path]:
    return set(client.server.app[spool_dir_key].glob("*"))


def stored_files(settings) -> set[Path]:
    root = settings.resolve_path(settings.storage.local_path)
    return {path for path in root.rglob("*") if path.is_file()}


async def fetch_image(client: TestClient, url: str) -> tuple[Image.Image, aiohttp.ClientResponse]:
    response = await client.get(url)
    assert response.status == 200, url
    return Image.open(io.BytesIO(await response.read())), response


def is_marker(pixel: tuple[int, ...]) -> bool:
    red, green = pixel[0], pixel[1]
    return red > 200 and green < 80


def assert_no_metadata(image: Image.Image, raw: bytes) -> None:
    assert not image.getexif(), "EXIF survived"
    assert "exif" not in image.info and "xmp" not in image.info and "comment" not in image.info
    for marker in (b"Exif", b"GPS", b"xpacket", b"Secret Photographer", b"taken at home"):
        assert marker not in raw, marker


async def test_photo_post_is_processed_published_and_shown_to_followers(
    client, make_client, factory, login, db, settings
):
    author, reader = await factory.user(), await factory.user()
    await login(client, author)
    reader_browser = await make_client(client)
    await login(reader_browser, reader)
    await Api(reader_browser).follow(author.username)

    response = await api_upload(
        client,
        photo_form([("holiday.jpg", camera_jpeg(1600, 1200), "image/jpeg")], "Beach", ["Sand"]),
    )
    assert response.status == 202, await response.text()
    created = await response.json()
    assert created["status"] == "processing" and created["published_at"] is None

    # Nobody but the author sees it while it is processed.
    assert await Api(reader_browser).get(f"/api/snapline/v1/posts/{created['id']}", expect=404)
    home = await (await client.get("/")).text()
    assert "Processing photos" in home

    await wait_for_status(db, created["id"])
    timeline = (await Api(reader_browser).get("/api/snapline/v1/timeline"))["items"]
    assert timeline[0]["id"] == created["id"]
    [photo] = timeline[0]["photos"]
    assert photo["alt"] == "Sand"
    # Orientation 6: the 1600x1200 sensor image is a portrait once upright.
    assert (photo["width"], photo["height"]) == (810, 1080)

    display, answer = await fetch_image(reader_browser, photo["url"])
    raw = await answer.read()
    assert display.size == (810, 1080)
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in answer.headers["Cache-Control"]
    assert_no_metadata(display, raw)
    assert display.info["icc_profile"] == SRGB  # colours still mean what they meant
    # The marker painted top-left of the sensor image is top-right after rotating 90° CW.
    assert is_marker(display.getpixel((display.width - 20, 20)))
    assert not is_marker(display.getpixel((20, 20)))

    thumb, answer = await fetch_image(reader_browser, photo["thumb_url"])
    assert thumb.size == (320, 320)
    assert_no_metadata(thumb, await answer.read())

    profile = await Api(client).get(f"/api/snapline/v1/users/{author.username}")
    assert profile["post_count"] == 1
    page = await (await reader_browser.get(f"/p/{created['id']}")).text()
    assert f'src="{photo["url"]}" alt="Sand" width="810" height="1080"' in page
    # Its originals are gone once processed (its job stays, done); only the renditions
    # are stored.
    async with db() as session:
        jobs = select(MediaJob.id).join(Photo, Photo.id == MediaJob.photo_id)
        jobs = jobs.where(Photo.post_id == created["id"], MediaJob.done_at.is_not(None))
        assert len((await session.scalars(jobs)).all()) == 1
        originals = select(func.count()).where(MediaOriginal.job_id.in_(jobs))
        assert await session.scalar(originals) == 0
    names = sorted(
        path.name for path in stored_files(settings) if created_prefix(photo) in str(path)
    )
    assert names == ["display.jpg", "thumb.jpg", *sorted(widths_stored(photo))]


def created_prefix(photo: dict) -> str:
    return photo["url"].split("/media/", 1)[1].rsplit("/", 1)[0]


def widths_stored(photo: dict) -> list[str]:
    """The file names of a photo's widths for srcset, as the API lists them."""
    return [item["url"].rsplit("/", 1)[1] for item in photo["renditions"]]


# Each shape as uploaded (orientation 1), and the widths it must get: never wider than the
# photo, and the photo's own width when it is narrower than the widest.
SHAPES = {
    "wide": ((3000, 1200), [(320, 128), (640, 256), (1080, 432), (1600, 640)]),
    "tall": ((1000, 3000), [(320, 960), (640, 1920), (1000, 3000)]),
    "tiny": ((120, 90), [(120, 90)]),
}


async def test_each_photo_gets_its_widths_at_their_true_sizes_and_never_enlarged(
    client, factory, login, db, settings
):
    await login(client, await factory.user())
    uploads = [
        (f"{name}.jpg", camera_jpeg(*size, orientation=1), "image/jpeg")
        for name, (size, _) in SHAPES.items()
    ]
    response = await api_upload(client, photo_form(uploads, "", list(SHAPES)))
    assert response.status == 202, await response.text()
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)

    photos = (await Api(client).get(f"/api/snapline/v1/posts/{post_id}"))["photos"]
    for photo, (name, (size, widths)) in zip(photos, SHAPES.items(), strict=True):
        assert photo["alt"] == name
        assert [(item["width"], item["height"]) for item in photo["renditions"]] == widths
        for item in photo["renditions"]:
            image, answer = await fetch_image(client, item["url"])
            assert image.format == "WEBP" and answer.headers["Content-Type"] == "image/webp"
            assert image.size == (item["width"], item["height"])
            assert_no_metadata(image, await answer.read())
        # The BlurHash of the photo, kept with it: 4x3 components for a landscape photo, 3x4
        # for a portrait (the first character says so).
        assert re.fullmatch(r"[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{28}", photo["blurhash"])
        assert photo["blurhash"][0] == ("L" if size[0] >= size[1] else "T")
        names = sorted(
            path.name for path in stored_files(settings) if created_prefix(photo) in str(path)
        )
        assert names == sorted(["display.jpg", "thumb.jpg", *widths_stored(photo)])
    async with db() as session:
        recorded = list(
            await session.scalars(
                select(Photo.renditions).where(Photo.post_id == post_id).order_by(Photo.position)
            )
        )
    assert recorded == [
        [{"width": width, "height": height, "format": "webp"} for width, height in widths]
        for _, widths in SHAPES.values()
    ]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height``: a decompression bomb's shape.
    Made from a real 1x1 PNG with its IHDR rewritten (Pillow will not write a lying one)."""
    data = bytearray(encoded(Image.new("L", (1, 1)), "PNG"))
    # IHDR data starts after the 8-byte signature and the chunk's length and type.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def long_gif(frames: int) -> bytes:
    # Each frame differs from the last, or Pillow would merge them into one.
    images = [Image.new("L", (4, 4), color=(index * 37) % 256) for index in range(frames)]
    return encoded(images[0], "GIF", save_all=True, append_images=images[1:], duration=40)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


async def media_state(db, client: TestClient, settings, user_id: int) -> tuple:
    async with db() as session:
        authored = await session.scalar(
            select(func.count()).select_from(Post).where(Post.author_id == user_id)
        )
        jobs = await session.scalar(select(func.count()).select_from(MediaJob))
        originals = await session.scalar(select(func.count()).select_from(MediaOriginal))
        photos = await session.scalar(select(func.count()).select_from(Photo))
    return authored, jobs, originals, photos, spool_files(client), stored_files(settings)


BAD_UPLOADS = {
    "zero-byte file": ([("empty.jpg", b"", "image/jpeg")], 422, "empty"),
    "truncated JPEG": (
        [("cut.jpg", camera_jpeg(800, 600)[:9000], "image/jpeg")],
        422,
        "damaged or incomplete",
    ),
    "JPEG cut inside its headers": (
        [("cut.jpg", camera_jpeg(800, 600)[:400], "image/jpeg")],
        422,
        "damaged or incomplete",
    ),
    "PNG declaring 30000x30000": (
        [("bomb.png", png_declaring(30000, 30000), "image/png")],
        422,
        "megapixels",
    ),
    "aspect ratio beyond 1:20": (
        [("strip.png", encoded(picture(2100, 100), "PNG"), "image/png")],
        422,
        "long and narrow",
    ),
    "1,000-frame GIF": ([("long.gif", long_gif(1000), "image/gif")], 422, "frames"),
    "SVG with a script": ([("x.svg", SVG, "image/svg+xml")], 415, "not a JPEG"),
    "HTML named x.jpg": ([("x.jpg", HTML, "image/jpeg")], 415, "not a JPEG"),
    "PNG named .gif": (
        [(".gif", encoded(picture(64, 64), "PNG"), "image/gif")],
        415,
        "does not match",
    ),
    "five photos": (
        [(f"p{n}.png", encoded(picture(32, 32), "PNG"), "image/png") for n in range(5)],
        422,
        "at most 4",
    ),
    "a photo over 20 MB": (
        [("big.jpg", b"\xff\xd8" + bytes(21 * 2**20), "image/jpeg")],
        413,
        "20 MB",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
async def test_bad_uploads_are_refused_and_leave_nothing(
    case, client, factory, login, db, settings
):
    account = await factory.user()
    await login(client, account)
    photos, status, words = BAD_UPLOADS[case]
    before = await media_state(db, client, settings, account.id)
    response = await api_upload(client, photo_form(photos, "words"))
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    assert words in error["message"]
    assert await media_state(db, client, settings, account.id) == before


async def test_the_form_shows_what_was_wrong_and_keeps_the_text(client, factory, login, db):
    await login(client, await factory.user())
    token = await csrf_for(client)
    form = photo_form([("x.jpg", HTML, "image/jpeg")], "my caption", token=token)
    response = await client.post("/posts", data=form, allow_redirects=False)
    assert response.status == 415
    html = await response.text()
    assert "not a JPEG, PNG, WebP or GIF image" in html
    assert ">my caption</textarea>" in html
    assert 'id="error-photos"' in html


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    client, factory, login, db, settings
):
    account = await factory.user()
    await login(client, account)
    before = await media_state(db, client, settings, account.id)
    boundary = "snaplineboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    sent = 0

    async def body():
        nonlocal sent
        yield head
        for _ in range(50):  # 50 MB, never announced in a Content-Length
            sent += 2**20
            yield bytes(2**20)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await api_upload(
        client, body(), **{"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status == 413
    assert response.request_info.headers.get("Content-Length") is None
    assert await media_state(db, client, settings, account.id) == before


async def test_a_declared_length_over_the_limit_is_refused_before_reading(client, factory, login):
    await login(client, await factory.user())
    response = await api_upload(
        client,
        b"x",
        **{
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(90 * 2**20),
        },
    )
    assert response.status == 413


async def test_refused_without_csrf_or_a_confirmed_login(
    client, make_client, factory, login, db, settings
):
    account = await factory.user()
    await login(client, account)
    jpeg = [("a.jpg", camera_jpeg(64, 48), "image/jpeg")]
    before = await media_state(db, client, settings, account.id)
    # No token at all, and a token that is not the first field of the form.
    refused = await client.post("/posts", data=photo_form(jpeg, "x"), allow_redirects=False)
    assert refused.status == 403
    late = photo_form(jpeg, "x")
    late.add_field("csrf_token", await csrf_for(client))
    assert (await client.post("/posts", data=late, allow_redirects=False)).status == 403
    assert await media_state(db, client, settings, account.id) == before

    anonymous = await make_client(client)
    answer = await api_upload(anonymous, photo_form(jpeg, "x"))
    assert answer.status == 401
    unconfirmed = await make_client(client)
    pending = await factory.user(confirmed=False)
    await login(unconfirmed, pending)
    assert (await api_upload(unconfirmed, photo_form(jpeg, "x"))).status == 403
    token = await csrf_for(unconfirmed)
    page = await unconfirmed.post("/posts", data=photo_form(jpeg, "x", token=token))
    assert page.status == 403
    assert (await media_state(db, client, settings, pending.id))[:4] == (0, *before[1:4])


async def test_a_path_in_the_file_name_is_ignored(client, factory, login, db, settings):
    await login(client, await factory.user())
    name = "../../../../etc/passwd.jpg"
    response = await api_upload(client, photo_form([(name, camera_jpeg(64, 48), "image/jpeg")]))
    assert response.status == 202
    post_id = (await response.json())["id"]
    await wait_for_status(db, post_id)
    root = settings.resolve_path(settings.storage.local_path)
    async with db() as session:
        prefix = await session.scalar(select(Photo.key_prefix).where(Photo.post_id == post_id))
    assert re.fullmatch(r"photos/[0-9a-f]{32}", prefix)
    stored = sorted(str(path.relative_to(root)) for path in (root / prefix).iterdir())
    assert stored == [
        f"{prefix}/display.jpg",
        f"{prefix}/thumb.jpg",
        f"{prefix}/w48.webp",
    ]  # upright
    assert not any("passwd" in str(path) for path in stored_files(settings))


def profile_form(
    token: str, avatar: tuple[str, bytes, str] | None, bio: str = ""
) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for name, value in (("display_name", "Ann"), ("location", ""), ("bio", bio)):
        form.add_field(name, value)
    if avatar is not None:
        filename, data, content_type = avatar
        form.add_field("avatar", io.BytesIO(data), filename=filename, content_type=content_type)
    return form


async def test_an_uploaded_avatar_replaces_the_identicon_everywhere(
    client, factory, login, db, settings
):
    account = await factory.user()
    await login(client, account)
    token = await csrf_for(client, "/settings/profile")
    portrait = ("me.jpg", camera_jpeg(900, 600, orientation=1), "image/jpeg")
    response = await client.post(
        "/settings/profile", data=profile_form(token, portrait, "hi"), allow_redirects=False
    )
    assert response.status == 303
    await wait_for_jobs(db)
    await Api(client).post_text("with my face")

    profile = await Api(client).get(f"/api/snapline/v1/users/{account.username}")
    assert re.fullmatch(r"/media/avatars/[0-9a-f]{32}/400\.jpg", profile["avatar_url"])
    assert profile["bio"] == "hi"
    large, answer = await fetch_image(client, profile["avatar_url"])
    assert large.size == (400, 400)
    assert_no_metadata(large, await answer.read())
    [post] = (await Api(client).get("/api/snapline/v1/timeline"))["items"][:1]
    small_url = post["author"]["avatar_url"]
    assert small_url == profile["avatar_url"].replace("/400.jpg", "/64.jpg")
    assert (await fetch_image(client, small_url))[0].size == (64, 64)
    html = await (await client.get("/")).text()
    assert f'src="{small_url}"' in html

    # A second upload takes over, and the first one's files are deleted.
    first_prefix = profile["avatar_url"].rsplit("/", 1)[0].removeprefix("/media/")
    token = await csrf_for(client, "/settings/profile")
    second = ("me.png", encoded(picture(500, 500), "PNG"), "image/png")
    await client.post("/settings/profile", data=profile_form(token, second), allow_redirects=False)
    await wait_for_jobs(db)
    profile = await Api(client).get(f"/api/snapline/v1/users/{account.username}")
    assert first_prefix not in profile["avatar_url"]
    root = settings.resolve_path(settings.storage.local_path)
    assert not (root / first_prefix).exists()


async def test_a_bad_avatar_is_refused_and_the_form_kept(client, factory, login, db, settings):
    account = await factory.user()
    await login(client, account)
    before = await media_state(db, client, settings, account.id)
    token = await csrf_for(client, "/settings/profile")
    response = await client.post(
        "/settings/profile",
        data=profile_form(token, ("face.jpg", SVG, "image/jpeg"), "my bio"),
        allow_redirects=False,
    )
    assert response.status == 415
    html = await response.text()
    assert "not a JPEG, PNG, WebP or GIF image" in html and ">my bio</textarea>" in html
    assert await media_state(db, client, settings, account.id) == before
    profile = await Api(client).get(f"/api/snapline/v1/users/{account.username}")
    assert profile["avatar_url"].startswith("/identicons/") and profile["bio"] == ""


async def test_a_photo_that_cannot_be_processed_fails_its_post_for_its_author_only(
    client, make_client, factory, login, db, tmp_path
):
    author = await factory.user()
    await login(client, author)
    # As if a file had passed the upload checks yet could not be decoded later.
    broken = tmp_path / "broken.upload"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    async with db.begin() as session:
        post_id = await posts.create_photo_post(
            session, author.id, "doomed", [posts.NewPhoto(broken, "")]
        )
    await wait_for_status(db, post_id, "failed")

    home = await (await client.get("/")).text()
    assert "Processing failed" in home and f'action="/p/{post_id}/delete"' in home
    assert (await Api(client).get(f"/api/snapline/v1/posts/{post_id}"))["status"] == "failed"
    stranger = await make_client(client)
    await login(stranger, await factory.user())
    assert (await stranger.get(f"/p/{post_id}")).status == 404
    await Api(client).call("DELETE", f"/api/snapline/v1/posts/{post_id}", expect=204)
    await wait_for_jobs(db)
    async with db() as session:
        assert (
            await session.scalar(
                select(func.count()).where(
                    MediaOriginal.job_id.in_(
                        select(MediaJob.id).where(MediaJob.key_prefix.like("photos/%"))
                    )
                )
            )
            == 0
        )
    profile = await Api(client).get(f"/api/snapline/v1/users/{author.username}")
    assert profile["post_count"] == 0
