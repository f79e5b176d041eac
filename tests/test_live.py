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
from sqlalchemy import text

from service import live, migrate
from service.domain import accounts
from service.embedded_pg import EmbeddedPostgres, free_port
from tests.support import CSRF_META
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, service_env, wait_until_healthy

EVENT_WITHIN_SECONDS = 1.0
# Well under the periodic session check: the database's announcement ends the stream.
SESSION_END_WITHIN_SECONDS = 3.0
NEW_PASSWORD = "a-brand-new-passphrase-77"


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
    async with http.post(
        f"{base}/api/snapline/v1/posts", json={"body": body}, headers=headers
    ) as response:
        assert response.status == 201
        return (await response.json())["id"]


async def test_post_published_on_one_process_reaches_a_stream_on_another(database_url, factory):
    reader, author = await factory.user(), await factory.user()
    async with serving(database_url, 2) as (a, b):
        reader_http, reader_token = await session_for(a.base, reader)
        author_http, author_token = await session_for(b.base, author)
        try:
            async with reader_http.post(
                f"{a.base}/api/snapline/v1/users/{author.username}/follow",
                headers={"X-CSRF-Token": reader_token},
            ) as followed:
                assert followed.status == 200
            async with reader_http.get(f"{a.base}/api/snapline/v1/stream") as stream:
                assert stream.headers["Content-Type"].startswith("text/event-stream")
                assert (await next_event(stream, "notifications", 5))["unread"] == 0
                started = time.monotonic()
                post_id = await publish(b.base, author_http, author_token, "live from B")
                event = await next_event(stream, "post", EVENT_WITHIN_SECONDS)
                assert event["post_id"] == post_id
                assert time.monotonic() - started < EVENT_WITHIN_SECONDS

                # The author's follow-back notification reaches the badge the same way.
                async with author_http.post(
                    f"{b.base}/api/snapline/v1/users/{reader.username}/follow",
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
                    f"{a.base}/api/snapline/v1/users/{author.username}/follow",
                    headers={"X-CSRF-Token": reader_token},
                ) as followed:
                    assert followed.status == 200
                async with reader_http.get(f"{a.base}/api/snapline/v1/stream") as stream:
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
            async with http.get(f"{a.base}/api/snapline/v1/stream") as stream:
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
    response = await client.get("/api/snapline/v1/stream")
    assert response.status == 401


async def events_until_the_end(stream: aiohttp.ClientResponse, within: float) -> list[str]:
    """The names of the events a stream still sends before it ends; fails if it is still
    open after ``within`` seconds."""
    names: list[str] = []
    deadline = time.monotonic() + within
    while True:
        try:
            line = await asyncio.wait_for(
                stream.content.readline(), max(deadline - time.monotonic(), 0)
            )
        except TimeoutError:
            pytest.fail(f"the stream was still open after {within} s (events: {names})")
        except (aiohttp.ClientPayloadError, ConnectionError):
            return names
        if not line:
            return names
        if line.startswith(b"event: "):
            names.append(line.decode()[len("event: ") :].strip())


async def open_stream(http: aiohttp.ClientSession, base: str) -> aiohttp.ClientResponse:
    stream = await http.get(f"{base}/api/snapline/v1/stream")
    assert stream.status == 200
    await next_event(stream, "notifications", 5)
    return stream


async def follow(base: str, http: aiohttp.ClientSession, token: str, username: str) -> None:
    async with http.post(
        f"{base}/api/snapline/v1/users/{username}/follow", headers={"X-CSRF-Token": token}
    ) as followed:
        assert followed.status == 200


async def test_logging_out_ends_the_sessions_streams_in_every_process(database_url, factory):
    reader, author = await factory.user(), await factory.user()
    async with serving(database_url, 2) as (a, b):
        reader_http, reader_token = await session_for(a.base, reader)
        other_http, _ = await session_for(b.base, reader)  # a second device
        author_http, author_token = await session_for(b.base, author)
        try:
            await follow(a.base, reader_http, reader_token, author.username)
            stream = await open_stream(reader_http, a.base)
            other_stream = await open_stream(other_http, a.base)
            # Another tab of the same browser logs out, through the other process.
            async with reader_http.post(
                f"{b.base}/logout", data={"csrf_token": reader_token}, allow_redirects=False
            ) as logged_out:
                assert logged_out.status == 303
            post_id = await publish(b.base, author_http, author_token, "after the logout")

            assert "post" not in await events_until_the_end(stream, SESSION_END_WITHIN_SECONDS)
            # The device that did not log out still hears of the post.
            assert (await next_event(other_stream, "post", EVENT_WITHIN_SECONDS))[
                "post_id"
            ] == post_id
            other_stream.close()
        finally:
            for http in (reader_http, other_http, author_http):
                await http.close()


async def test_a_password_change_ends_the_other_sessions_streams(database_url, factory):
    reader, author = await factory.user(), await factory.user()
    async with serving(database_url, 2) as (a, b):
        stolen_http, stolen_token = await session_for(a.base, reader)
        laptop_http, _ = await session_for(b.base, reader)
        own_http, own_token = await session_for(b.base, reader)
        author_http, author_token = await session_for(a.base, author)
        try:
            await follow(a.base, stolen_http, stolen_token, author.username)
            stolen = await open_stream(stolen_http, a.base)
            laptop = await open_stream(laptop_http, b.base)
            own = await open_stream(own_http, a.base)
            form = {
                "csrf_token": own_token,
                "current_password": reader.password,
                "new_password": NEW_PASSWORD,
            }
            async with own_http.post(
                f"{b.base}/settings/password", data=form, allow_redirects=False
            ) as changed:
                assert changed.status == 303
            post_id = await publish(a.base, author_http, author_token, "after the change")

            ended = await asyncio.gather(
                events_until_the_end(stolen, SESSION_END_WITHIN_SECONDS),
                events_until_the_end(laptop, SESSION_END_WITHIN_SECONDS),
            )
            assert all("post" not in names for names in ended)
            # The session that changed the password keeps its stream.
            assert (await next_event(own, "post", EVENT_WITHIN_SECONDS))["post_id"] == post_id
            own.close()
        finally:
            for http in (stolen_http, laptop_http, own_http, author_http):
                await http.close()


async def test_a_password_reset_ends_every_stream_of_the_account(database_url, factory, db):
    reader, author = await factory.user(), await factory.user()
    async with db.begin() as session:
        reset_token = await accounts.issue_token(session, reader.id, "reset")
    async with serving(database_url, 2) as (a, b):
        phone_http, phone_token = await session_for(a.base, reader)
        laptop_http, _ = await session_for(b.base, reader)
        author_http, author_token = await session_for(b.base, author)
        anonymous = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        try:
            await follow(a.base, phone_http, phone_token, author.username)
            phone = await open_stream(phone_http, a.base)
            laptop = await open_stream(laptop_http, b.base)
            authors_own = await open_stream(author_http, a.base)
            link = f"{b.base}/password/reset/{reset_token}"
            async with anonymous.get(link) as page:
                token = CSRF_META.search(await page.text()).group(1)
            form = {"csrf_token": token, "password": NEW_PASSWORD}
            async with anonymous.post(link, data=form, allow_redirects=False) as reset:
                assert reset.status == 303
            post_id = await publish(b.base, author_http, author_token, "after the reset")

            ended = await asyncio.gather(
                events_until_the_end(phone, SESSION_END_WITHIN_SECONDS),
                events_until_the_end(laptop, SESSION_END_WITHIN_SECONDS),
            )
            assert all("post" not in names for names in ended)
            # Another account's stream is untouched.
            assert (await next_event(authors_own, "post", EVENT_WITHIN_SECONDS))[
                "post_id"
            ] == post_id
            authors_own.close()
        finally:
            for http in (phone_http, laptop_http, author_http, anonymous):
                await http.close()


async def test_a_stream_ends_when_its_session_expires(database_url, factory, db):
    reader = await factory.user()
    async with serving(database_url, 1) as (a,):
        http, _ = await session_for(a.base, reader)
        try:
            stream = await open_stream(http, a.base)
            # Expiry deletes no row, so nothing is announced: the periodic check finds it.
            async with db.begin() as session:
                await session.execute(
                    text("UPDATE auth_sessions SET expires_at = now() WHERE user_id = :id"),
                    {"id": reader.id},
                )
            await events_until_the_end(stream, live.SESSION_CHECK_SECONDS + 3)
        finally:
            await http.close()
