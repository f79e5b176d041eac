"""Memory of image work: every check and rendering of a process holds its decoded pixels
within one budget (media.image_pixel_budget), and decodes no more than its output needs, so
the largest uploads the service accepts cannot take a process's memory with them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import struct
import subprocess
import sys
import textwrap
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from service.keys import pixel_budget_key
from service.models import Post
from service.workers.media import budget as media_budget
from service.workers.media import context as media_context
from service.workers.media import images, pngstream
from tests.test_uploads import api_upload, encoded, photo_form, picture, wait_for_status

# Small enough that two of the photos below never fit at once, big enough for a photo and
# the checks of a few small JPEGs together.
BUDGET_PIXELS = 3_000_000
# The largest legal upload: just under images.MAX_PIXELS.
LARGEST_PX = (7300, 5479)
# Resident memory one rendering of the largest transparent PNG may add: its decoded image
# (4 bytes a pixel, 160 MB) and a reduced copy, not the four full-size copies it once made.
RENDER_PEAK_LIMIT_MB = 260
# A PNG is checked as a stream, never decoded whole: a piece of inflated data at a time.
CHECK_PEAK_LIMIT_MB = 16
SUBPROCESS_TIMEOUT_SECONDS = 120


class CountingBudget(media_budget.PixelBudget):
    """The real budget, also counting from inside the executor threads how many pixels of
    work are running at once: what the budget promises, observed where the memory is."""

    instances: list[CountingBudget] = []

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.runs: list[int] = []
        CountingBudget.instances.append(self)

    async def run(self, pixels, executor, work, *args):
        share = self._share(pixels)

        def counted(*inner):
            with self.lock:
                self.running += share
                self.most_running = max(self.most_running, self.running)
                self.runs.append(pixels)
            try:
                return work(*inner)
            finally:
                with self.lock:
                    self.running -= share

        return await super().run(pixels, executor, counted, *args)


@pytest.fixture
def settings(base_settings):
    return base_settings.replace(media={"image_pixel_budget": BUDGET_PIXELS})


@pytest.fixture
def counting_budget(monkeypatch) -> type[CountingBudget]:
    CountingBudget.instances.clear()
    monkeypatch.setattr(media_context, "PixelBudget", CountingBudget)
    return CountingBudget


async def test_concurrent_uploads_never_hold_more_pixels_than_the_budget(
    counting_budget, client, make_client, factory, login, db
):
    photo = encoded(picture(1600, 1200, "RGBA"), "PNG")  # 1.92 MP, decoded in full
    larger = encoded(picture(2000, 2000), "WEBP")  # 4 MP, 4 copies: more than the budget
    small = encoded(picture(800, 600), "JPEG")
    authors = []
    for _ in range(4):
        account = await factory.user()
        browser = await make_client(client)
        await login(browser, account)
        authors.append(browser)
    uploads = [
        [("a.png", photo, "image/png"), ("b.jpg", small, "image/jpeg")],
        [("c.png", photo, "image/png"), ("d.png", photo, "image/png")],
        [("e.jpg", small, "image/jpeg"), ("f.webp", larger, "image/webp")],
        [("g.jpg", small, "image/jpeg"), ("h.png", photo, "image/png")],
    ]
    answers = await asyncio.gather(
        *(
            api_upload(browser, photo_form(files, "memory"))
            for browser, files in zip(authors, uploads, strict=True)
        )
    )
    assert [answer.status for answer in answers] == [202] * 4
    for answer in answers:
        await wait_for_status(db, (await answer.json())["id"])

    (budget,) = counting_budget.instances
    assert client.server.app[pixel_budget_key] is budget
    # Every check and every rendering went through the budget...
    assert len(budget.runs) == 2 * 8
    assert 2000 * 2000 * images.WEBP_DECODED_COPIES in budget.runs
    # ...and, seen from the threads doing the work, never more than it at once (the WebP,
    # larger than the whole budget, ran alone).
    assert 0 < budget.most_running <= BUDGET_PIXELS
    assert budget.held == 0
    async with db() as session:
        statuses = set(await session.scalars(select(Post.status).where(Post.body == "memory")))
    assert statuses == {"published"}


async def test_a_waiting_image_is_not_overtaken_and_a_cancelled_one_frees_its_place():
    budget = media_budget.PixelBudget(10)
    first = await budget.acquire(8)
    large = asyncio.create_task(budget.acquire(6))
    await asyncio.sleep(0)
    small = asyncio.create_task(budget.acquire(2))  # would fit, but the large one came first
    await asyncio.sleep(0)
    assert not large.done() and not small.done()
    large.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await large
    assert await asyncio.wait_for(small, 1) == 2
    assert budget.held == 10
    budget.release(first)
    budget.release(2)
    assert await budget.acquire(25) == 10  # more than the budget: all of it, alone
    assert budget.held == budget.peak == 10
    waiting = asyncio.create_task(budget.acquire(5))
    await asyncio.sleep(0)
    # Work that decodes nothing (a PNG's check) waits for no one, not even in the queue.
    assert await asyncio.wait_for(budget.acquire(0), 1) == 0
    budget.release(10)
    assert await asyncio.wait_for(waiting, 1) == 5


def test_costs_come_from_the_headers_and_count_what_decoding_holds(tmp_path: Path):
    png = encoded(Image.new("RGBA", (4000, 3000)), "PNG")
    path = tmp_path / "checked.png"
    path.write_bytes(png)
    assert images.measure(path, "PNG").verify_pixels == 0  # checked as a stream
    jpeg = encoded(Image.new("RGB", (4000, 3000)), "JPEG")
    webp = encoded(Image.new("RGBA", (400, 300)), "WEBP", lossless=True)
    # Rendering holds the decoded image and the widths for srcset made from it.
    widths = sum(width * width * 3 // 4 for width in images.PHOTO_WIDTHS_PX)  # all 4:3
    assert images.render_cost(png, images.PHOTO) == 12_000_000 + widths
    # JPEG decodes at the smallest DCT scale still above every size: 1/2 here (at 1/4 the
    # width, 1000 px, would be below the widest width and the display size).
    assert images.render_cost(jpeg, images.PHOTO) == 2000 * 1500 + widths
    assert images.render_cost(webp, images.AVATAR) == 400 * 300 * images.WEBP_DECODED_COPIES


def _largest_png(mode: str) -> bytes:
    buffer = io.BytesIO()
    if mode == "P":
        image = Image.new("P", LARGEST_PX, 0)
        image.putpalette([0, 0, 0] * 256)
        image.save(buffer, "PNG", transparency=0)
    else:
        Image.new("RGBA", LARGEST_PX, (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


PEAK_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from service.workers.media import images, pngstream

    def high_water_kib():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    path = Path(sys.argv[1])
    data = path.read_bytes()
    before = high_water_kib()
    images.check(path, "PNG")
    checked = high_water_kib()
    rendered = images.render_photo(data)
    assert rendered.files["display.webp"] and rendered.width == 1080, rendered.width
    print((checked - before) // 1024, (high_water_kib() - before) // 1024)
    """
)


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_the_largest_transparent_png_is_checked_without_decoding_and_rendered_within_one_copy(
    mode, tmp_path: Path
):
    path = tmp_path / "largest.png"
    path.write_bytes(_largest_png(mode))
    # A process of its own: its high-water mark is this image's alone.
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=True,
    )
    checking_mb, rendering_mb = (int(value) for value in result.stdout.split())
    assert checking_mb < CHECK_PEAK_LIMIT_MB, f"checking grew the process by {checking_mb} MB"
    assert rendering_mb < RENDER_PEAK_LIMIT_MB, f"rendering grew the process by {rendering_mb} MB"


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
    return chunks


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """A PNG of these chunks, each with a correct CRC: damage only where the test puts it."""
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )


def _with_scanlines(good: bytes, change) -> bytes:
    chunks = _chunks(good)
    scanlines = bytearray(
        zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    )
    change(scanlines)
    header = [chunk for chunk in chunks if chunk[0] not in {b"IDAT", b"IEND"}]
    return _png([*header, (b"IDAT", zlib.compress(bytes(scanlines))), (b"IEND", b"")])


def _split_idat(good: bytes, size: int) -> bytes:
    chunks = _chunks(good)
    compressed = b"".join(body for kind, body in chunks if kind == b"IDAT")
    header = [chunk for chunk in chunks if chunk[0] not in {b"IDAT", b"IEND"}]
    pieces = [(b"IDAT", compressed[at : at + size]) for at in range(0, len(compressed), size)]
    return _png([*header, *pieces, (b"IEND", b"")])


def _adam7(image: Image.Image) -> bytes:
    """An interlaced RGB PNG (Pillow writes none), pass by pass."""
    width, height = image.size
    pixels = image.tobytes()
    passes = b""
    for column, row, column_step, row_step in pngstream.ADAM7:
        for y in range(row, height, row_step):
            line = b"".join(
                pixels[(y * width + x) * 3 : (y * width + x) * 3 + 3]
                for x in range(column, width, column_step)
            )
            if line:
                passes += b"\x00" + line
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return _png([(b"IHDR", header), (b"IDAT", zlib.compress(passes)), (b"IEND", b"")])


GOOD_PNG = encoded(picture(301, 203), "PNG")
ROW_BYTES = 1 + 301 * 3


def _truncate(scanlines: bytearray) -> None:
    del scanlines[-10:]


def _unknown_filter(scanlines: bytearray) -> None:
    scanlines[100 * ROW_BYTES] = 7


def _broken_stream(good: bytes) -> bytes:
    chunks = _chunks(good)
    damaged = [
        (kind, body[:20] + bytes(byte ^ 0xFF for byte in body[20:40]) + body[40:])
        if kind == b"IDAT"
        else (kind, body)
        for kind, body in chunks
    ]
    return _png(damaged)


STREAM_CASES = {
    "a PNG cut short": (GOOD_PNG[: len(GOOD_PNG) // 2], 422),
    "scanlines missing, CRCs intact": (_with_scanlines(GOOD_PNG, _truncate), 422),
    "an unknown filter type": (_with_scanlines(GOOD_PNG, _unknown_filter), 422),
    "compressed data corrupted, CRCs intact": (_broken_stream(GOOD_PNG), 422),
    "data split over many IDAT chunks": (_split_idat(GOOD_PNG, 100), 202),
    "an interlaced PNG": (_adam7(picture(301, 203)), 202),
    "an interlaced PNG cut short": (_adam7(picture(301, 203))[:-200], 422),
    "a 16-bit greyscale PNG": (encoded(Image.new("I;16", (120, 80), 300), "PNG"), 202),
}


@pytest.mark.parametrize("case", list(STREAM_CASES))
async def test_pngs_checked_as_a_stream_are_refused_exactly_when_pillow_cannot_read_them(
    case, client, factory, login
):
    data, status = STREAM_CASES[case]
    try:
        Image.open(io.BytesIO(data)).load()
        readable = True
    except (OSError, SyntaxError):
        readable = False
    assert readable == (status == 202)
    await login(client, await factory.user())
    response = await api_upload(client, photo_form([("p.png", data, "image/png")], "stream"))
    assert response.status == status, await response.text()
    if status == 422:
        assert "damaged or incomplete" in (await response.json())["error"]["message"]


async def test_a_webp_over_its_own_limit_is_refused_before_decoding(client, factory, login, db):
    await login(client, await factory.user())
    large = encoded(Image.new("RGBA", (4001, 3000)), "WEBP", lossless=True, method=0)
    response = await api_upload(client, photo_form([("large.webp", large, "image/webp")], "big"))
    assert response.status == 422
    assert "WebP images are limited to 12 megapixels" in (await response.json())["error"]["message"]
    async with db() as session:
        assert await session.scalar(select(Post.id).where(Post.body == "big")) is None
