"""Peak memory of one serving process under the worst legal uploads.

    python bench/upload_memory.py                 # PNG, JPEG and WebP rounds, 8 posts at once
    python bench/upload_memory.py --kinds png --concurrency 8 --server-url postgresql://...

The worst legal upload is the one that costs the most memory for the fewest bytes: an image
at the largest dimensions the service accepts (just under images.MAX_PIXELS, 7300x5479; for
WebP images.MAX_WEBP_PIXELS, 4000x3000) that compresses to almost nothing (a fully
transparent PNG is 155 KB, a flat JPEG 630 KB, a transparent lossless WebP a few bytes), four
to a post. Each round sends ``--concurrency``
such posts at once through the API of a real ``python -m service serve`` (on a scratch
database of ``--server-url``, local storage under var/), waits until every photo is
processed, then lets the process idle for ``--settle`` seconds. Each round has a server
process of its own.

While it runs, /proc/<pid>/status of the server and of any child process is sampled every
50 ms. Reported per round: resident memory before, the peak (VmHWM, the kernel's own
high-water mark, so no spike between samples is missed; summed over processes), the memory
still resident after settling (VmRSS), the slowest upload answer, and the time until every
post was published. Results are printed and written to
bench/results/upload-memory-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    UNLIMITED_POSTING,
    Processes,
    ScratchDatabases,
    clean_env,
    connection,
    create_admin,
    post_photos,
    wait_healthy,
)
from service.embedded_pg import free_port  # noqa: E402
from tests.support import CSRF_META  # noqa: E402

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-memory-password-1"
# Just under images.MAX_PIXELS (40,000,000) with an ordinary 4:3 shape; for WebP, just under
# images.MAX_WEBP_PIXELS (12,000,000), or --webp-px to try another size.
WIDTH_PX, HEIGHT_PX = 7300, 5479
WEBP_PX = (4000, 3000)
PHOTOS_PER_POST = 4
SAMPLE_SECONDS = 0.05
PUBLISH_TIMEOUT_SECONDS = 600.0
KINDS = ("png", "jpeg", "webp")


def worst_image(kind: str, webp_px: tuple[int, int] = WEBP_PX) -> tuple[bytes, str, str]:
    """(bytes, file name, media type) of the largest legal image of ``kind`` that compresses
    to almost nothing."""
    buffer = io.BytesIO()
    if kind == "jpeg":
        Image.new("RGB", (WIDTH_PX, HEIGHT_PX), (200, 120, 40)).save(buffer, "JPEG", quality=85)
        return buffer.getvalue(), "flat.jpg", "image/jpeg"
    if kind == "png":
        Image.new("RGBA", (WIDTH_PX, HEIGHT_PX), (0, 0, 0, 0)).save(buffer, "PNG")
        return buffer.getvalue(), "clear.png", "image/png"
    Image.new("RGBA", webp_px, (0, 0, 0, 0)).save(buffer, "WEBP", lossless=True, method=0)
    return buffer.getvalue(), "clear.webp", "image/webp"


def _status_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process in KiB; zeros once it is gone."""
    fields = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in {"VmRSS", "VmHWM"}:
                fields[name] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def _family(pid: int) -> list[int]:
    """The process and all its descendants (a worker pool, if the server uses one)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for task in Path(f"/proc/{current}/task").iterdir():
                with contextlib.suppress(FileNotFoundError):
                    queue.extend(int(child) for child in (task / "children").read_text().split())
    return found


def reset_peaks(pid: int) -> None:
    """VmHWM only rises: a round starts from the previous round's mark unless it is reset."""
    for member in _family(pid):
        with contextlib.suppress(OSError):
            Path(f"/proc/{member}/clear_refs").write_text("5")


class Sampler:
    """Resident memory of a process tree, sampled in the background. The high-water mark is
    the kernel's per process (VmHWM), kept for processes that have since exited."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks_kib: dict[int, int] = {}
        self.largest_sum_kib = 0
        self._task: asyncio.Task | None = None

    def sample(self) -> int:
        """Resident KiB of the whole tree now; records each process's high-water mark."""
        total = 0
        for pid in _family(self.pid):
            rss, hwm = _status_kib(pid)
            total += rss
            self.peaks_kib[pid] = max(self.peaks_kib.get(pid, 0), hwm)
        self.largest_sum_kib = max(self.largest_sum_kib, total)
        return total

    @property
    def peak_kib(self) -> int:
        """Sum of the per-process peaks: an upper bound of the tree's true peak."""
        return sum(self.peaks_kib.values())

    async def _run(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(SAMPLE_SECONDS)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def signed_in(http: aiohttp.ClientSession, base: str) -> str:
    """Log the bench account in; returns a CSRF token for the API."""
    async with http.get(f"{base}/login") as page:
        token = CSRF_META.search(await page.text()).group(1)
    form = {"csrf_token": token, "login": "bench", "password": PASSWORD}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status
    async with http.get(f"{base}/") as page:
        return CSRF_META.search(await page.text()).group(1)


async def upload(
    http: aiohttp.ClientSession, base: str, token: str, image: tuple[bytes, str, str], n: int
) -> float:
    data, filename, content_type = image
    form = aiohttp.FormData()
    form.add_field("body", f"worst upload {n}")
    for _ in range(PHOTOS_PER_POST):
        form.add_field("photos", io.BytesIO(data), filename=filename, content_type=content_type)
    return await post_photos(http, base, token, form)


async def wait_processed(database: str, posts: int) -> dict[str, int]:
    deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
    async with connection(database) as db:
        while True:
            rows = await db.fetch("SELECT status, count(*) FROM posts GROUP BY status")
            counts = {row["status"]: row["count"] for row in rows}
            if counts.get("published", 0) + counts.get("failed", 0) >= posts:
                return counts
            if time.monotonic() > deadline:
                raise SystemExit(f"not processed in time: {counts}")
            await asyncio.sleep(0.2)


async def round_of(
    kind: str, args: argparse.Namespace, base: str, database: str, pid: int, done: int
) -> dict:
    image = await asyncio.to_thread(worst_image, kind, tuple(args.webp_px))
    width, height = args.webp_px if kind == "webp" else (WIDTH_PX, HEIGHT_PX)
    pixels = width * height
    sampler = Sampler(pid)
    before_kib = await asyncio.to_thread(sampler.sample)
    sampler.peaks_kib.clear()  # the round's own peak is read from the kernel's mark below
    jars = [aiohttp.CookieJar(unsafe=True) for _ in range(args.concurrency)]
    sessions = [aiohttp.ClientSession(cookie_jar=jar) for jar in jars]
    try:
        tokens = [await signed_in(http, base) for http in sessions]
        await asyncio.to_thread(reset_peaks, pid)
        sampler.start()
        started = time.monotonic()
        latencies = await asyncio.gather(
            *(
                upload(http, base, token, image, done + n)
                for n, (http, token) in enumerate(zip(sessions, tokens, strict=True))
            )
        )
        counts = await wait_processed(database, done + args.concurrency)
        processed_seconds = time.monotonic() - started
        await asyncio.sleep(args.settle)
        settled_kib = await asyncio.to_thread(sampler.sample)
        await sampler.stop()
    finally:
        for http in sessions:
            await http.close()
    return {
        "kind": kind,
        "photo_bytes": len(image[0]),
        "photo_pixels": pixels,
        "posts": args.concurrency,
        "photos": args.concurrency * PHOTOS_PER_POST,
        "rss_before_mb": round(before_kib / 1024, 1),
        "rss_peak_mb": round(sampler.peak_kib / 1024, 1),
        "rss_settled_mb": round(settled_kib / 1024, 1),
        "upload_seconds_max": round(max(latencies), 2),
        "processed_seconds": round(processed_seconds, 1),
        "statuses": counts,
    }


async def run(args: argparse.Namespace) -> dict:
    databases = ScratchDatabases(args.server_url, "snapline_memory")
    processes = Processes()
    (ROOT / "var").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="upload-memory-", dir=ROOT / "var"))
    try:
        name = await databases.create("bench")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = clean_env(
            SNAPLINE_DATABASE_URL=databases.url(name, "postgresql+asyncpg"),
            SNAPLINE_SERVER_PORT=str(port),
            SNAPLINE_APP_PUBLIC_URL=base,
            SNAPLINE_SERVER_ACCESS_LOG="false",
            SNAPLINE_MAIL_BACKEND="file",
            SNAPLINE_MAIL_FILE_PATH=str(scratch / "mail"),
            SNAPLINE_STORAGE_LOCAL_PATH=str(scratch / "media"),
            **UNLIMITED_POSTING,
        )
        await create_admin(env, PASSWORD)
        rounds, done = [], 0
        for kind in args.kinds:
            # A fresh process per round: what one kind leaves resident is not charged to the
            # next.
            server = await processes.start(
                "serve",
                [sys.executable, "-m", "service", "serve", "--no-migrate"],
                env,
                scratch / f"serve-{kind}.log",
            )
            await wait_healthy(f"{base}/healthz", server)
            await asyncio.sleep(2)  # let start-up work finish before the baseline is read
            result = await round_of(kind, args, base, databases.url(name), server.pid, done)
            await processes.stop(server)
            done += args.concurrency
            rounds.append(result)
            print(json.dumps(result), flush=True)
    finally:
        await processes.stop_all()
        await databases.drop_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"concurrency": args.concurrency, "settle_seconds": args.settle, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=DEFAULT_SERVER)
    parser.add_argument("--concurrency", type=int, default=8, help="posts sent at once")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before the end")
    parser.add_argument("--webp-px", type=int, nargs=2, default=list(WEBP_PX), metavar=("W", "H"))
    parser.add_argument("--label", default="", help="added to the results file name")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(f"{'kind':6} {'before MB':>10} {'peak MB':>8} {'settled MB':>10} {'upload s':>9} done s")
    for row in result["rounds"]:
        print(
            f"{row['kind']:6} {row['rss_before_mb']:10.1f} {row['rss_peak_mb']:8.1f} "
            f"{row['rss_settled_mb']:10.1f} {row['upload_seconds_max']:9.2f} "
            f"{row['processed_seconds']}"
        )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    label = f"-{args.label}" if args.label else ""
    (results / f"upload-memory{label}-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
