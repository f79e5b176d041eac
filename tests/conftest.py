"""Fixtures: a fresh migrated database per test session, a real SMTP server, an app client
per test, a factory for accounts, posts, follows, comments and likes, the test tiers, and a
guard that fails any test whose server hit a 500."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service import migrate
from service.app import create_app
from service.db import create_engine, make_sessionmaker
from service.domain import accounts, comments, follows, likes, posts
from service.embedded_pg import EmbeddedPostgres
from service.security import PasswordService
from service.settings import Settings, load_settings
from tests.support import (
    Account,
    SmtpServer,
    admin_execute,
    server_answers,
    submit,
    with_database,
)

LOCAL_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# Cheap Argon2 parameters: the suite hashes hundreds of passwords.
TEST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
TEST_PASSWORD = "correct horse battery staple"
# Every account of the suite is a new one, and every request comes from one address: the
# posting limits are out of reach but where a test sets its own (tests/test_posting_limits.py).
TEST_LIMITS = {
    f"{action}_per_{kind}": 1_000_000
    for action in ("posts", "comments", "likes", "follows", "reports")
    for kind in ("account", "new_account", "address")
}


# Every test belongs to exactly one tier, by what it needs (docs/testing.md). A test marked
# with a tier keeps it; a module listed here puts its other tests in that tier; the rest
# follow their fixtures: Chromium makes a browser test, a database or an app an http test,
# and a test with none of them is a unit test.
TIERS = {
    "unit": "no server, no database: runs anywhere in seconds",
    "http": "PostgreSQL and the app in this process (also in-process SMTP and S3 fakes)",
    "browser": "Chromium driving the app",
    "deploy": "nginx, Docker files, `serve` processes, PostgreSQL clusters a test starts",
}
MODULE_TIERS = {
    "test_deploy": "deploy",
    "test_embedded_pg": "deploy",
    "test_faults": "deploy",
    "test_live": "deploy",
    "test_media_processes": "deploy",
    "test_nginx": "deploy",
}
BROWSER_FIXTURES = frozenset({"browsing"})
# The roots every database and app fixture depends on (fixture names are resolved through
# their dependencies, so `client`, `db` and `factory` count too).
HTTP_FIXTURES = frozenset({"postgres_server_url", "aiohttp_client", "moto_server"})


def tier_of(item: pytest.Item) -> str:
    marked = [marker.name for marker in item.iter_markers() if marker.name in TIERS]
    if len(marked) > 1:
        raise pytest.UsageError(f"{item.nodeid} is marked with more than one tier: {marked}")
    if marked:
        return marked[0]
    fixtures = set(getattr(item, "fixturenames", ()))
    if (module := MODULE_TIERS.get(item.path.stem)) is not None:
        return module
    if fixtures & BROWSER_FIXTURES:
        return "browser"
    if fixtures & HTTP_FIXTURES:
        return "http"
    return "unit"


# First, so that `-m unit` (pytest's own hook) selects by the tiers given here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item)
        if tier == "unit" and set(getattr(item, "fixturenames", ())) & HTTP_FIXTURES:
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses the database")
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))
        if "expect_server_errors" not in item.keywords:
            item.add_marker(pytest.mark.usefixtures("no_server_errors"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "expect_server_errors: the test provokes a 500 on purpose")
    for tier, needs in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: a test of the {tier} tier ({needs})")


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server to create test databases on: $TEST_DATABASE_URL, else the one on
    127.0.0.1:5432 if it answers, else an embedded server started for this session
    (``TEST_DATABASE_URL=embedded`` asks for that one directly)."""
    configured = os.environ.get("TEST_DATABASE_URL", "")
    if configured and configured != "embedded":
        yield configured
        return
    if not configured and asyncio.run(server_answers(LOCAL_SERVER_URL)):
        yield LOCAL_SERVER_URL
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", durable=False)
    server.start()
    try:
        yield server.url
    finally:
        server.discard()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    name = f"snapline_test_{secrets.token_hex(6)}"
    asyncio.run(admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"'))
    url = with_database(postgres_server_url, name)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer):
    return smtp_server.inbox


@pytest.fixture(scope="session")
def base_settings(
    database_url: str, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    defaults = load_settings(env={})
    return defaults.replace(
        app={"public_url": "http://snapline.test", "secret_key": "test-secret"},
        database={"url": database_url},
        mail={
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "retry_base_seconds": 0.2,
            "smtp_timeout_seconds": 3.0,
        },
        storage={"local_path": str(tmp_path_factory.mktemp("media"))},
        security=TEST_ARGON2,
        limits=TEST_LIMITS,
        server={"access_log": False},
    )


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings


@pytest.fixture
async def db(database_url: str) -> AsyncIterator:
    """A sessionmaker on the test database, for arranging and checking state."""
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def client(aiohttp_client, settings: Settings, db) -> TestClient:
    # Rate-limit windows are shared by the whole session; each test starts within limits.
    async with db.begin() as session:
        await session.execute(text("DELETE FROM rate_limit_counters"))
    return await aiohttp_client(create_app(settings))


@pytest.fixture
async def make_client(aiohttp_client, settings: Settings):
    """Another browser (its own cookie jar) on the same server as ``client``."""

    async def make(for_client: TestClient) -> TestClient:
        return await aiohttp_client(for_client.server)

    return make


class Factory:
    _serial = itertools.count(1)

    def __init__(self, sessionmaker, settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._hashes: dict[str, str] = {}

    def unique(self, prefix: str = "user") -> str:
        return f"{prefix}{next(self._serial)}_{secrets.token_hex(3)}"

    async def user(
        self,
        *,
        confirmed: bool = True,
        password: str = TEST_PASSWORD,
        role: str = "user",
        username: str | None = None,
    ) -> Account:
        username = username or self.unique()
        address = f"{username.lower()}@example.com"
        if password not in self._hashes:
            with ThreadPoolExecutor(1) as executor:
                passwords = PasswordService(self.settings.security, executor)
                self._hashes[password] = await passwords.hash(password)
        async with self.sessionmaker.begin() as session:
            user = await accounts.create_user(
                session, username, address, self._hashes[password], role=role
            )
            if confirmed:
                await session.execute(
                    text("UPDATE users SET email_confirmed_at = now() WHERE id = :id"),
                    {"id": user.id},
                )
        return Account(user.id, username, address, password)

    # The rest go through the domain's commands, as requests do, so every counter, the
    # notifications and the live announcements are as a user's action leaves them.

    async def post(
        self, author: Account, body: str | None = None, audience: str | None = None
    ) -> int:
        """A published text post (for ``audience``, else the author's default); its id."""
        async with self.sessionmaker.begin() as session:
            return await posts.create_text_post(
                session, author.id, body or self.unique("post "), audience
            )

    async def follow(self, follower: Account, followed: Account) -> None:
        async with self.sessionmaker.begin() as session:
            assert await follows.follow(session, follower.id, followed.id), "already following"

    async def comment(self, author: Account, post_id: int, body: str | None = None) -> int:
        """A comment on a published post; its id."""
        async with self.sessionmaker.begin() as session:
            return await comments.add(session, post_id, author.id, body or self.unique("c "))

    async def like(self, user: Account, post_id: int) -> int:
        """Like a published post; its like count."""
        async with self.sessionmaker.begin() as session:
            return await likes.like(session, user.id, post_id)


@pytest.fixture
def factory(db, settings: Settings) -> Factory:
    return Factory(db, settings)


@pytest.fixture
def login():
    async def log_in(client: TestClient, account: Account) -> None:
        response = await submit(
            client,
            "/login",
            {"login": account.username, "password": account.password},
            page="/login",
        )
        assert response.status == 303, await response.text()

    return log_in


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def no_server_errors() -> Iterator[None]:
    """No request in the suite may end in a 500 unless the test asks for one."""
    handler = _ErrorRecords()
    loggers = [logging.getLogger("service.web.errors"), logging.getLogger("aiohttp.server")]
    for logger in loggers:
        logger.addHandler(handler)
    yield
    for logger in loggers:
        logger.removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def readme_images_dir(artifacts_dir: Path) -> Path:
    """docs/images/ when `make screenshots` asks for the README's pictures to be renewed,
    else the artifacts folder, so an ordinary run leaves the checkout unchanged."""
    if os.environ.get("UPDATE_README_IMAGES") == "1":
        return Path(__file__).parent.parent / "docs" / "images"
    return artifacts_dir
