"""Live updates across processes: two `serve` processes, one database, LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time

import aiohttp
import pytest

from service import migrate
from service.embedded_pg import EmbeddedPostgres, free_port
from tests.support import CSRF_META
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, service_env, wait_until_healthy

EVENT_WITHIN_SECONDS = 1.0


class StreamEnded(Exception):
    pass


class Served:
    """One `python -m service serve` process on a loopback port."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = service_env(
            database_url, SNAPLINE_SERVER_PORT=str(self.port), SNAPLINE_MAIL_BACKEND="file"
        )
        env["SNAPLINE_MAIL_FILE_PATH"] = str(PROJECT_ROOT / "var" / "test-mail")
        # Popen only forks; readiness is awaited without blocking.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--no-migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_TIMEOUT_SECONDS)


@contextlib.asynccontextmanager
async def serving(database_url: str, count: int):
    servers = [Served(database_url) for _ in range(count)]
    try:
        for server in servers:
            await wait_until_healthy(server.base, server.process)
        yield servers
    finally:
        for server in servers:
            server.stop()


async def session_for(base: str, account) -> tuple[aiohttp.ClientSession, str]:
    """A logged-in HTTP session (cookies work on any process: the session lives in the
    database) and its CSRF token."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{base}/login") as page:
        token = CSRF_META.search(await page.text()).group(1)
    form = {"login": account.username, "password": account.password, "csrf_token": token}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as response:
        assert response.status == 303
    async with http.get(f"{base}/") as page:
        token = CSRF_META.search(await page.text()).group(1)
    return http, token


async def next_event(stream: aiohttp.ClientResponse, kind: str, within: float) -> dict:
    """The data of the next event named ``kind``, skipping others and keep-alives."""
    deadline = time.monotonic() + within
    event = None
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(stream.content.readline(), deadline - time.monotonic())
        text = line.decode().rstrip("\n")
        if text.startswith("event: "):
            event = text[len("event: ") :]
        elif text.startswith("data: ") and event == kind:
            return json.loads(text[len("data: ") :])
    raise AssertionError(f"no {kind} event within {within} s")


async def publish(base: str, http: aiohttp.ClientSession, token: str, body: str) -> int:
    headers = {"X-CSRF-Token": token}
    async with http.post(f"{base}/api/v1/posts", json={"body": body}, headers=headers) as response:
        assert response.status == 201
        return (await response.json())["id"]


async def test_post_published_on_one_process_reaches_a_stream_on_another(database_url, factory):
    reader, author = await factory.user(), await factory.user()
    async with serving(database_url, 2) as (a, b):
        reader_http, reader_token = await session_for(a.base, reader)
        author_http, author_token = await session_for(b.base, author)
        try:
            async with reader_http.post(
                f"{a.base}/api/v1/users/{author.username}/follow",
                headers={"X-CSRF-Token": reader_token},
            ) as followed:
                assert followed.status == 200
            async with reader_http.get(f"{a.base}/api/v1/stream") as stream:
                assert stream.headers["Content-Type"].startswith("text/event-stream")
                assert (await next_event(stream, "notifications", 5))["unread"] == 0
                started = time.monotonic()
                post_id = await publish(b.base, author_http, author_token, "live from B")
                event = await next_event(stream, "post", EVENT_WITHIN_SECONDS)
                assert event["post_id"] == post_id
                assert time.monotonic() - started < EVENT_WITHIN_SECONDS

                # The author's follow-back notification reaches the badge the same way.
                async with author_http.post(
                    f"{b.base}/api/v1/users/{reader.username}/follow",
                    headers={"X-CSRF-Token": author_token},
                ) as back:
                    assert back.status == 200
                assert (await next_event(stream, "notifications", EVENT_WITHIN_SECONDS))[
                    "unread"
                ] == 1
        finally:
            await reader_http.close()
            await author_http.close()


async def test_streams_resume_after_a_database_restart(settings, factory, tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", durable=False)
    url = await asyncio.to_thread(server.start)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with serving(url, 2) as (a, b):
            from service.db import create_engine, make_sessionmaker
            from tests.conftest import Factory

            engine = create_engine(url, pool_size=1, max_overflow=0)
            try:
                private = Factory(make_sessionmaker(engine), settings)
                reader, author = await private.user(), await private.user()
            finally:
                await engine.dispose()
            reader_http, reader_token = await session_for(a.base, reader)
            author_http, author_token = await session_for(b.base, author)
            try:
                async with reader_http.post(
                    f"{a.base}/api/v1/users/{author.username}/follow",
                    headers={"X-CSRF-Token": reader_token},
                ) as followed:
                    assert followed.status == 200
                async with reader_http.get(f"{a.base}/api/v1/stream") as stream:
                    await next_event(stream, "notifications", 5)
                    await asyncio.to_thread(server.stop)
                    await asyncio.to_thread(server.start)
                    # The listener reconnects and tells the page to catch up.
                    await next_event(stream, "resync", 15)
                    post_id = await publish(b.base, author_http, author_token, "after restart")
                    event = await next_event(stream, "post", EVENT_WITHIN_SECONDS * 3)
                    assert event["post_id"] == post_id
            finally:
                await reader_http.close()
                await author_http.close()
    finally:
        await asyncio.to_thread(server.discard)


async def test_sigterm_closes_open_streams_and_exits_promptly(database_url, factory):
    reader = await factory.user()
    async with serving(database_url, 1) as (a,):
        http, _ = await session_for(a.base, reader)
        try:
            async with http.get(f"{a.base}/api/v1/stream") as stream:
                await next_event(stream, "notifications", 5)
                started = time.monotonic()
                a.process.send_signal(signal.SIGTERM)
                # The stream ends (cleanly or by the connection closing), well before a timeout.
                with pytest.raises((aiohttp.ClientPayloadError, ConnectionError, StreamEnded)):
                    while True:
                        line = await asyncio.wait_for(
                            stream.content.readline(), STOP_TIMEOUT_SECONDS
                        )
                        if not line:
                            raise StreamEnded
                assert await asyncio.to_thread(a.process.wait, STOP_TIMEOUT_SECONDS) == 0
                assert time.monotonic() - started < STOP_TIMEOUT_SECONDS
        finally:
            await http.close()


async def test_anonymous_stream_is_refused(client):
    response = await client.get("/api/v1/stream")
    assert response.status == 401
