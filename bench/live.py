"""Live updates: how many streams one process holds and what each costs in memory, and the
latency from publishing a post on one process to the event on a stream of another.

    .venv/bin/python bench/live.py [--streams 2000] [--posts 200]

Uses $SNAPLINE_DATABASE_URL's server (default: 127.0.0.1:5432) with a scratch database that
it creates and drops; everything stays on loopback and every process is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
from argon2 import PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import migrate  # noqa: E402
from service.embedded_pg import free_port  # noqa: E402

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password"
CSRF_MARK = '<meta name="csrf-token" content="'


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(database_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNAPLINE_")}
    env.update(
        SNAPLINE_DATABASE_URL=database_url,
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_SERVER_ACCESS_LOG="false",
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(ROOT / "var" / "bench-mail"),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--no-migrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


async def wait_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


async def logged_in(base: str, username: str) -> tuple[aiohttp.ClientSession, str]:
    http = aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(limit=0)
    )
    async with http.get(f"{base}/login") as page:
        token = (await page.text()).split(CSRF_MARK)[1].split('"')[0]
    form = {"login": username, "password": PASSWORD, "csrf_token": token}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as response:
        assert response.status == 303, response.status
    async with http.get(f"{base}/") as page:
        token = (await page.text()).split(CSRF_MARK)[1].split('"')[0]
    return http, token


async def main(streams: int, posts: int) -> None:
    name = f"snapline_live_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = SERVER_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    database_url += f"/{name}"
    processes: list[subprocess.Popen] = []
    try:
        await asyncio.to_thread(migrate.upgrade, database_url)
        db = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        password_hash = PasswordHasher().hash(PASSWORD)
        await db.execute(
            "INSERT INTO users (username, email, password_hash, email_confirmed_at)"
            " VALUES ('reader', 'reader@example.com', $1, now()),"
            " ('author', 'author@example.com', $1, now())",
            password_hash,
        )
        await db.execute(
            "INSERT INTO follows (follower_id, followed_id)"
            " SELECT r.id, a.id FROM users r, users a"
            " WHERE r.username = 'reader' AND a.username = 'author'"
        )
        await db.close()
        (a, base_a), (b, base_b) = start_server(database_url), start_server(database_url)
        processes += [a, b]
        await wait_healthy(base_a)
        await wait_healthy(base_b)
        reader, _ = await logged_in(base_a, "reader")
        author, author_token = await logged_in(base_b, "author")

        # Memory: open many idle streams on process A.
        before = rss_kib(a.pid)
        opened = []
        for start in range(0, streams, 200):
            batch = [
                reader.get(f"{base_a}/api/snapline/v1/stream")
                for _ in range(min(200, streams - start))
            ]
            opened += await asyncio.gather(*(request.__aenter__() for request in batch))
        for response in opened:
            await response.content.readline()
        await asyncio.sleep(1)
        after = rss_kib(a.pid)
        print(f"open streams on one process: {len(opened)}")
        print(
            f"RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB: "
            f"{(after - before) / len(opened):.1f} KiB per stream"
        )
        for response in opened[1:]:
            response.close()

        # Latency: publish on B, receive on A's stream.
        stream = opened[0]
        latencies = []
        for index in range(posts):
            started = time.perf_counter()
            async with author.post(
                f"{base_b}/api/snapline/v1/posts",
                json={"body": f"post {index}"},
                headers={"X-CSRF-Token": author_token},
            ) as response:
                post_id = (await response.json())["id"]
            while True:
                line = (await asyncio.wait_for(stream.content.readline(), 5)).decode()
                if line.startswith("data: ") and json.loads(line[6:]).get("post_id") == post_id:
                    latencies.append((time.perf_counter() - started) * 1000)
                    break
        latencies.sort()
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(
            f"publish (B) -> event (A), {len(latencies)} posts: "
            f"median {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms "
            "(includes the publishing request itself)"
        )
        stream.close()
        await reader.close()
        await author.close()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.streams, arguments.posts))
