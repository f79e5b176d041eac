"""Database faults under load: a real ``serve`` process on a PostgreSQL of this test's own,
whose backends are terminated, which refuses connections, runs out of connection slots and
restarts while signed-in users read pages, post and like. Only 503 with Retry-After while
it lasts, full recovery without restarting the service, nothing accepted is lost, and the
counters still equal what they count."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from PIL import Image

from service import migrate
from service.db import create_engine, make_sessionmaker
from service.embedded_pg import EmbeddedPostgres, free_port
from service.settings import load_settings
from tests.conftest import TEST_ARGON2, Factory
from tests.support import CSRF_META, Account, admin_execute, asyncpg_dsn, with_database
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, service_env, wait_until_healthy
from tests.test_uploads import photo_form

# Low, so that a handful of other clients can take every slot.
MAX_CONNECTIONS = 40
DATABASE = "snapline"
USERS = 5
SEED_POSTS = 6
# Each user waits this long between requests: a few hundred requests in all.
REQUEST_SPACING_SECONDS = 0.25
REQUEST_TIMEOUT_SECONDS = 20.0
# About 250 on an idle machine; far fewer means the load missed most of the faults.
MIN_REQUESTS = 100
KINDS = frozenset(
    {
        "home page",
        "timeline json",
        "profile page",
        "profile json",
        "post",
        "like",
        "unlike",
        "comment",
    }
)
# How long the load runs before, during and after the faults.
WARM_UP_SECONDS = 1.5
COOL_DOWN_SECONDS = 3.0
TERMINATE_ROUNDS = 6
TERMINATE_INTERVAL_SECONDS = 0.4
REFUSE_SECONDS = 2.0
EXHAUST_SECONDS = 2.0
RESTART_PAUSE_SECONDS = 1.0
# After the faults every kind of request must succeed again within this.
RECOVERY_SECONDS = 15.0
WORKER_RECOVERY_SECONDS = 20.0

SERVICE_BACKENDS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
    f" WHERE datname = '{DATABASE}' AND pid <> pg_backend_pid()"
)


@dataclass
class Outcome:
    kind: str
    status: int
    retry_after: str | None
    detail: str = ""
    says_unavailable: bool = False

    def explained(self) -> bool:
        """A 503 says when to come back and what happened, in the page or the envelope."""
        retry = self.retry_after or ""
        return retry.isdigit() and int(retry) > 0 and self.says_unavailable


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    accepted_posts: set[int] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def statuses(self) -> Counter:
        return Counter(outcome.status for outcome in self.outcomes)


@dataclass
class Browser:
    account: Account
    http: aiohttp.ClientSession
    token: str = ""


class Cluster:
    """This test's PostgreSQL: the service's database, and an admin connection kept open
    (on another database) so faults can be made while every slot is taken."""

    def __init__(self, server: EmbeddedPostgres, admin_url: str) -> None:
        self.server = server
        self.admin_url = admin_url
        self.url = with_database(admin_url, DATABASE)
        self.admin: asyncpg.Connection | None = None

    async def connect_admin(self) -> None:
        self.admin = await asyncpg.connect(asyncpg_dsn(self.admin_url), timeout=10)

    async def execute(self, statement: str) -> None:
        if self.admin is None or self.admin.is_closed():
            await self.connect_admin()
        await self.admin.execute(statement)

    async def close_admin(self) -> None:
        if self.admin is not None:
            self.admin.terminate()
            self.admin = None


@pytest.fixture
async def cluster(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", durable=False, max_connections=MAX_CONNECTIONS)
    admin_url = await asyncio.to_thread(server.start)
    cluster = Cluster(server, admin_url)
    try:
        await admin_execute(admin_url, f'CREATE DATABASE "{DATABASE}"')
        await asyncio.to_thread(migrate.upgrade, cluster.url)
        yield cluster
    finally:
        await cluster.close_admin()
        await asyncio.to_thread(server.discard)


@pytest.fixture
async def service(cluster, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(
        cluster.url,
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_APP_PUBLIC_URL=base,
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(tmp_path / "mail"),
        SNAPLINE_STORAGE_LOCAL_PATH=str(tmp_path / "media"),
        SNAPLINE_SERVER_ACCESS_LOG="false",
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("ab") as log:
        # Popen only forks; waiting for the process to answer is done without blocking.
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "service", "serve", "--no-migrate"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        await wait_until_healthy(base, process)
        yield base, process, tmp_path / "mail", log_path
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


async def sign_in(base: str, account: Account) -> Browser:
    http = aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
    )
    async with http.get(f"{base}/login") as page:
        token = CSRF_META.search(await page.text()).group(1)
    form = {"csrf_token": token, "login": account.username, "password": account.password}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    async with http.get(f"{base}/") as home:
        token = CSRF_META.search(await home.text()).group(1)
    return Browser(account, http, token)


def says_unavailable(status: int, body: object, text: str) -> bool:
    """A 503 the way users get one: the JSON error envelope, or the error page."""
    if status != 503:
        return False
    if isinstance(body, dict):
        return body.get("error", {}).get("code") == "unavailable"
    return "temporarily unavailable" in text


async def request(
    load: Load, browser: Browser, kind: str, method: str, url: str, **kwargs
) -> tuple[int, object]:
    """One request of the load; returns its status and JSON body (if any)."""
    headers = {"X-CSRF-Token": browser.token, **kwargs.pop("headers", {})}
    try:
        async with browser.http.request(
            method, url, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            text = await response.text()
            body = None
            if response.content_type == "application/json":
                body = await response.json()
            load.outcomes.append(
                Outcome(
                    kind,
                    response.status,
                    response.headers.get("Retry-After"),
                    text[:300] if response.status >= 500 else "",
                    says_unavailable(response.status, body, text),
                )
            )
            return response.status, body
    except (aiohttp.ClientError, TimeoutError) as error:
        load.failures.append(f"{kind}: {error.__class__.__name__}: {error}")
        return 0, None


def actions(base: str, browser: Browser, users: list[Account], posts: list[int]):
    """The mixed requests of one user, forever: pages, JSON, posting, likes, comments."""
    someone = random.Random(browser.account.id)
    serial = itertools.count()
    while True:
        other = someone.choice(users).username
        post_id = someone.choice(posts)
        json_headers = {"Accept": "application/json"}
        yield "home page", "GET", f"{base}/", {}
        yield "timeline json", "GET", f"{base}/api/snapline/v1/timeline", {"headers": json_headers}
        yield "profile page", "GET", f"{base}/@{other}", {}
        yield (
            "post",
            "POST",
            f"{base}/api/snapline/v1/posts",
            {
                "json": {"body": f"under load {next(serial)}"},
                "headers": json_headers,
            },
        )
        yield (
            "like",
            "POST",
            f"{base}/api/snapline/v1/posts/{post_id}/like",
            {"headers": json_headers},
        )
        yield (
            "profile json",
            "GET",
            f"{base}/api/snapline/v1/users/{other}",
            {"headers": json_headers},
        )
        yield (
            "comment",
            "POST",
            f"{base}/api/snapline/v1/posts/{post_id}/comments",
            {
                "json": {"body": "still here"},
                "headers": json_headers,
            },
        )
        yield (
            "unlike",
            "DELETE",
            f"{base}/api/snapline/v1/posts/{post_id}/like",
            {"headers": json_headers},
        )


async def run_user(
    load: Load, base: str, browser: Browser, users: list[Account], posts: list[int], stop
) -> None:
    for kind, method, url, kwargs in actions(base, browser, users, posts):
        if stop.is_set():
            return
        status, body = await request(load, browser, kind, method, url, **kwargs)
        if kind == "post" and status == 201:
            load.accepted_posts.add(body["id"])
        await asyncio.sleep(REQUEST_SPACING_SECONDS)


async def hoard_connections(cluster: Cluster) -> list[asyncpg.Connection]:
    """Take every free connection slot."""
    taken: list[asyncpg.Connection] = []
    for _ in range(MAX_CONNECTIONS):
        try:
            taken.append(await asyncpg.connect(asyncpg_dsn(cluster.admin_url), timeout=5))
        except asyncpg.TooManyConnectionsError:
            break
    return taken


async def make_faults(cluster: Cluster) -> list[str]:
    """Each fault in turn; returns what was done, for the failure message."""
    done: list[str] = []
    await asyncio.sleep(WARM_UP_SECONDS)

    for _ in range(TERMINATE_ROUNDS):
        await cluster.execute(SERVICE_BACKENDS)
        await asyncio.sleep(TERMINATE_INTERVAL_SECONDS)
    done.append("terminated backends")

    await cluster.execute(f'ALTER DATABASE "{DATABASE}" ALLOW_CONNECTIONS false')
    await cluster.execute(SERVICE_BACKENDS)
    await asyncio.sleep(REFUSE_SECONDS)
    await cluster.execute(f'ALTER DATABASE "{DATABASE}" ALLOW_CONNECTIONS true')
    done.append("refused connections")

    await cluster.execute(SERVICE_BACKENDS)
    hoarded = await hoard_connections(cluster)
    try:
        await asyncio.sleep(EXHAUST_SECONDS / 2)
        await cluster.execute(SERVICE_BACKENDS)
        hoarded += await hoard_connections(cluster)
        await asyncio.sleep(EXHAUST_SECONDS / 2)
    finally:
        for connection in hoarded:
            connection.terminate()
    done.append(f"exhausted connections ({len(hoarded)} taken)")

    await cluster.close_admin()
    await asyncio.to_thread(cluster.server.stop)
    await asyncio.sleep(RESTART_PAUSE_SECONDS)
    await asyncio.to_thread(cluster.server.start)
    done.append("restarted PostgreSQL")
    await asyncio.sleep(COOL_DOWN_SECONDS)
    return done


async def until_ok(browser: Browser, method: str, url: str, **kwargs) -> tuple[int, object]:
    """The first successful answer, retrying while the service recovers."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    status, body = 0, None
    while time.monotonic() < deadline:
        scratch = Load()
        status, body = await request(scratch, browser, "recovery", method, url, **kwargs)
        if 200 <= status < 400:
            return status, body
        await asyncio.sleep(0.25)
    raise AssertionError(f"{method} {url} still answers {status} {body}")


async def wait_for(check, within_seconds: float, what: str) -> None:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {within_seconds} s")


async def next_event(stream: aiohttp.ClientResponse, name: str) -> str:
    """The data line of the next event called ``name`` on a Server-Sent Events stream."""
    current = ""
    async for line in stream.content:
        text = line.decode().strip()
        if text.startswith("event: "):
            current = text.removeprefix("event: ")
        elif text.startswith("data: ") and current == name:
            return text.removeprefix("data: ")
    raise AssertionError("the stream ended")


async def check_workers_recovered(
    base: str, browsers: list[Browser], mail_dir: Path, database: asyncpg.Connection
) -> None:
    """Mail, photo jobs and live events work again without a restart."""
    reader, liker = browsers[0], browsers[1]
    _, mine = await until_ok(
        reader,
        "POST",
        f"{base}/api/snapline/v1/posts",
        json={"body": "after the faults"},
        headers={"Accept": "application/json"},
    )
    async with reader.http.get(f"{base}/api/snapline/v1/stream") as stream:
        await asyncio.wait_for(next_event(stream, "notifications"), RECOVERY_SECONDS)
        await until_ok(liker, "POST", f"{base}/api/snapline/v1/posts/{mine['id']}/like")
        unread = await asyncio.wait_for(next_event(stream, "notifications"), RECOVERY_SECONDS)
        assert '"unread":' in unread

    _, uploaded = await until_ok(
        reader,
        "POST",
        f"{base}/api/snapline/v1/posts",
        data=photo_form([("after.png", png(), "image/png")], "a photo after the faults"),
        headers={"Accept": "application/json"},
    )

    async def published() -> bool:
        status = await database.fetchval("SELECT status FROM posts WHERE id = $1", uploaded["id"])
        return status == "published"

    await wait_for(published, WORKER_RECOVERY_SECONDS, "the photo was not published")

    anonymous = Browser(
        reader.account,
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        ),
    )
    async with anonymous.http:
        async with anonymous.http.get(f"{base}/signup") as page:
            anonymous.token = CSRF_META.search(await page.text()).group(1)
        form = {
            "csrf_token": anonymous.token,
            "username": "after_faults",
            "email": "after_faults@example.com",
            "password": "a long enough password",
        }
        await until_ok(anonymous, "POST", f"{base}/signup", data=form)

    def mail_files_mention(address: str) -> bool:
        return any(
            address in path.read_text(errors="replace")
            for path in mail_dir.glob("*")
            if path.is_file()
        )

    async def mailed() -> bool:
        return await asyncio.to_thread(mail_files_mention, "after_faults@example.com")

    await wait_for(mailed, WORKER_RECOVERY_SECONDS, "the confirmation mail was not sent")


COUNTER_MISMATCHES = """
SELECT 'like_count of post ' || p.id FROM posts p
 WHERE p.like_count <> (SELECT count(*) FROM likes l WHERE l.post_id = p.id)
UNION ALL
SELECT 'comment_count of post ' || p.id FROM posts p
 WHERE p.comment_count <> (SELECT count(*) FROM comments c WHERE c.post_id = p.id)
UNION ALL
SELECT 'post_count of user ' || u.id FROM users u
 WHERE u.post_count <> (SELECT count(*) FROM posts p
                         WHERE p.author_id = u.id AND p.status = 'published')
"""


@pytest.mark.timeout(180)
async def test_database_faults_under_load_answer_503_and_recover(cluster, service):
    base, process, mail_dir, log_path = service
    engine = create_engine(cluster.url, pool_size=1, max_overflow=0)
    factory = Factory(
        make_sessionmaker(engine), load_settings(env={}).replace(security=TEST_ARGON2)
    )
    users = [await factory.user() for _ in range(USERS)]
    await engine.dispose()
    browsers = [await sign_in(base, account) for account in users]
    load = Load()
    try:
        posts = []
        for number in range(SEED_POSTS):
            browser = browsers[number % USERS]
            status, body = await request(
                load,
                browser,
                "seed",
                "POST",
                f"{base}/api/snapline/v1/posts",
                json={"body": f"seed {number}"},
                headers={"Accept": "application/json"},
            )
            assert status == 201, body
            posts.append(body["id"])
        load.accepted_posts.update(posts)

        await cluster.connect_admin()
        stop = asyncio.Event()
        users_running = [
            asyncio.create_task(run_user(load, base, browser, users, posts, stop))
            for browser in browsers
        ]
        try:
            done = await make_faults(cluster)
        finally:
            stop.set()
            await asyncio.gather(*users_running)

        server_errors = [o for o in load.outcomes if o.status >= 500 and o.status != 503]
        unexplained = [o for o in load.outcomes if o.status == 503 and not o.explained()]
        errors_by_kind = Counter((o.kind, o.status) for o in server_errors)
        summary = f"{done}; statuses {sorted(load.statuses().items())}; 5xx {errors_by_kind}"
        print(summary)
        assert len(load.outcomes) >= MIN_REQUESTS, summary
        assert {o.kind for o in load.outcomes} >= KINDS, summary
        assert not load.failures, load.failures[:5]
        assert not server_errors, (
            summary,
            [(o.kind, o.status, o.detail) for o in server_errors][:5],
        )
        assert not unexplained, (summary, unexplained[:5])
        assert load.statuses()[503] > 0, "the faults went unnoticed: " + summary

        # Full recovery, without restarting the service.
        for browser in browsers:
            await until_ok(browser, "GET", f"{base}/")
            await until_ok(browser, "GET", f"{base}/api/snapline/v1/timeline")
            await until_ok(browser, "GET", f"{base}/@{users[0].username}")
        database = await asyncpg.connect(asyncpg_dsn(cluster.url), timeout=10)
        try:
            await check_workers_recovered(base, browsers, mail_dir, database)
            kept = {
                row["id"]
                for row in await database.fetch(
                    "SELECT id FROM posts WHERE id = ANY($1::bigint[])",
                    list(load.accepted_posts),
                )
            }
            assert kept == load.accepted_posts, f"lost posts: {load.accepted_posts - kept}"
            mismatches = [row[0] for row in await database.fetch(COUNTER_MISMATCHES)]
            assert not mismatches, mismatches
        finally:
            await database.close()
        assert process.poll() is None, "the service exited"
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS)
        log = await asyncio.to_thread(log_path.read_text)
        assert code == 0, log[-3000:]
        # Faults are warnings; an error logged (by a request or a background worker) means
        # one of them was taken for a bug.
        errors = [line for line in log.splitlines() if '"level": "error"' in line]
        assert not errors, errors[:3]
    finally:
        for browser in browsers:
            with contextlib.suppress(Exception):
                await browser.http.close()
