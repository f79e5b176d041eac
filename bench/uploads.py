"""Measure photo uploads with slow storage: upload latency must not depend on S3.

    python bench/uploads.py                       # 50 uploads, S3 delayed 500 ms a request
    python bench/uploads.py --uploads 100 --delay 1.0 --server-url postgresql+asyncpg://...

It creates a throwaway database on the PostgreSQL server (``--server-url``, default the one
on 127.0.0.1:5432), starts an S3 server (moto) behind a proxy that sleeps ``--delay``
seconds before every request, runs ``python -m service serve`` against both, and uploads
the same 12-megapixel JPEG ``--uploads`` times through the API, one after the other.

Reported:
- upload request latency (median, p99, max): from sending the request to the 202 answer;
- processing time per 12 MP photo: rendering alone (check, rotate, strip, resize, encode,
  the CPU part of a job), timed in this process; and the pipeline's pace end to end (last
  post published, divided by the number of photos) with the slow storage.
Results are printed and written to bench/results/uploads-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import UNLIMITED_POSTING, create_admin, post_photos  # noqa: E402
from service import migrate  # noqa: E402
from service.embedded_pg import free_port  # noqa: E402
from service.workers.media import images  # noqa: E402
from tests.s3 import Bucket, DelayProxy, MotoServer, s3_env  # noqa: E402
from tests.support import CSRF_META, asyncpg_dsn, with_database  # noqa: E402

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-1"
RENDER_RUNS = 10


def twelve_megapixels() -> bytes:
    """A 4000x3000 JPEG with enough texture to compress like a photo (about 3-5 MB)."""
    rng = random.Random(12)
    noise = Image.frombytes("L", (1000, 750), bytes(rng.randrange(256) for _ in range(750_000)))
    base = Image.merge("RGB", [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise])
    image = base.resize((4000, 3000), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_rendering(photo: bytes) -> dict[str, float]:
    path = ROOT / "var" / f"bench-{secrets.token_hex(4)}.jpg"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(photo)
    try:
        checks, renders = [], []
        for _ in range(RENDER_RUNS):
            started = time.perf_counter()
            images.check(path, "JPEG")
            checks.append(time.perf_counter() - started)
            started = time.perf_counter()
            images.render_photo(photo)
            renders.append(time.perf_counter() - started)
    finally:
        path.unlink()
    return {
        "check_ms_median": statistics.median(checks) * 1000,
        "render_ms_median": statistics.median(renders) * 1000,
    }


async def admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def wait_healthy(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("serve exited during start")
            try:
                async with http.get(f"{base}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("serve did not start")


async def statuses(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch("SELECT status, count(*) FROM posts GROUP BY status")
    finally:
        await connection.close()
    return {row["status"]: row["count"] for row in rows}


async def run(args: argparse.Namespace) -> dict:
    photo = twelve_megapixels()
    name = f"snapline_bench_{secrets.token_hex(4)}"
    await admin(args.server_url, f'CREATE DATABASE "{name}"')
    database_url = with_database(args.server_url, name)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = MotoServer()
    moto.start()
    proxy = DelayProxy(moto.url, args.delay)
    await proxy.start()
    process = None
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        bucket = Bucket(moto.url, f"bench-{secrets.token_hex(4)}")
        await bucket.create()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("SNAPLINE_")}
        env.update(
            SNAPLINE_DATABASE_URL=database_url,
            SNAPLINE_SERVER_PORT=str(port),
            SNAPLINE_APP_PUBLIC_URL=base,
            SNAPLINE_SERVER_ACCESS_LOG="false",
            SNAPLINE_MAIL_BACKEND="file",
            SNAPLINE_MAIL_FILE_PATH=str(ROOT / "var" / "bench-mail"),
            **s3_env(proxy.url, bucket.name),
            **UNLIMITED_POSTING,
        )
        await create_admin(env, PASSWORD)
        # Popen only forks; waiting for the server to answer is done without blocking.
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "service", "serve", "--no-migrate"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await wait_healthy(base, process)
        latencies = []
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{base}/login") as page:
                token = CSRF_META.search(await page.text()).group(1)
            login = {"csrf_token": token, "login": "bench", "password": PASSWORD}
            async with http.post(f"{base}/login", data=login, allow_redirects=False) as answer:
                assert answer.status == 303
            async with http.get(f"{base}/") as page:
                token = CSRF_META.search(await page.text()).group(1)
            started = time.monotonic()
            for number in range(args.uploads):
                form = aiohttp.FormData()
                form.add_field("body", f"bench {number}")
                form.add_field(
                    "photos", io.BytesIO(photo), filename="photo.jpg", content_type="image/jpeg"
                )
                latencies.append(await post_photos(http, base, token, form))
        deadline = time.monotonic() + args.uploads * 10
        while (await statuses(database_url)).get("published", 0) < args.uploads:
            if time.monotonic() > deadline:
                raise SystemExit(f"not all published: {await statuses(database_url)}")
            await asyncio.sleep(0.1)
        pipeline_seconds = time.monotonic() - started
        keys = await bucket.keys()
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 30)
        await proxy.stop()
        moto.stop()
        await admin(args.server_url, f'DROP DATABASE "{name}" WITH (FORCE)')
    rendering = await asyncio.to_thread(time_rendering, photo)
    return {
        "uploads": args.uploads,
        "photo_bytes": len(photo),
        "storage_delay_seconds": args.delay,
        "latency_ms_median": statistics.median(latencies) * 1000,
        "latency_ms_p99": percentile(latencies, 0.99) * 1000,
        "latency_ms_max": max(latencies) * 1000,
        "latencies_ms": [round(value * 1000, 1) for value in latencies],
        "pipeline_seconds_per_photo": pipeline_seconds / args.uploads,
        "objects_stored": len(keys),
        **rendering,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per S3 request")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    for key, value in result.items():
        if isinstance(value, list):
            continue
        print(f"{key:30} {value:.1f}" if isinstance(value, float) else f"{key:30} {value}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (results / f"uploads-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
