"""Test plumbing: real PostgreSQL, a real SMTP server, and helpers that act like a user."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

import asyncpg
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from sqlalchemy import text

from service.embedded_pg import free_port

# The text of a <time> element: "3 min ago" by the server, kept fresh by the page's script.
TIME_TEXT = re.compile(r"(<time [^>]*>)[^<]*(</time>)")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
LINK = re.compile(r"https?://\S+")
MAIL_TIMEOUT_SECONDS = 15.0


def untimed(html: str) -> str:
    """Markup without the "3 min ago" of its <time> elements, which may tick between two
    renderings of the same thing (their datetime and title stay)."""
    return TIME_TEXT.sub(r"\1\2", html)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


async def server_answers(url: str, within_seconds: float = 2.0) -> bool:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=within_seconds)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


async def admin_execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class Inbox:
    """Messages the SMTP server received, readable from the test's event loop."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self._messages if m["To"].lower() == address.lower()]

    async def wait_for(
        self, address: str, count: int = 1, within_seconds: float = MAIL_TIMEOUT_SECONDS
    ) -> list[EmailMessage]:
        """The messages to ``address`` once at least ``count`` have arrived."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            messages = self.to(address)
            if len(messages) >= count:
                return messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {count} message(s) to {address} within {within_seconds} s")


class SmtpServer:
    """aiosmtpd on a loopback port chosen (and bound) before start, restartable on it."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def message_link(message: EmailMessage) -> str:
    """The path of the first link in the plain-text part."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(body)
    assert match, f"no link in: {body!r}"
    parts = urlsplit(match.group(0))
    return parts.path


def csrf_of(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


async def csrf_for(client: TestClient, path: str = "/") -> str:
    response = await client.get(path)
    return csrf_of(await response.text())


async def submit(
    client: TestClient,
    path: str,
    data: dict[str, str] | None = None,
    *,
    page: str = "/",
    token: str | None = None,
):
    """POST a form the way a browser does: with the CSRF token of a page just loaded."""
    form = dict(data or {})
    form["csrf_token"] = token if token is not None else await csrf_for(client, page)
    return await client.post(path, data=form, allow_redirects=False)


@dataclasses.dataclass
class Account:
    id: int
    username: str
    email: str
    password: str


async def make_trend(session, post_ids) -> None:
    """Put the posts in trending (a rank at their publication, as an engagement of 1 gives)
    and their authors past the day new accounts wait before they trend, so that the leak
    tables find them in trending if the rule lets them through. Every account is made two
    days older, not only the authors, so that lists of accounts keep their order."""
    ids = list(post_ids)
    await session.execute(text("UPDATE users SET created_at = created_at - interval '2 days'"))
    await session.execute(
        text(
            "INSERT INTO post_trends (post_id, rank_at)"
            " SELECT id, coalesce(published_at, created_at) FROM posts WHERE id = ANY(:ids)"
            " ON CONFLICT (post_id) DO NOTHING"
        ),
        {"ids": ids},
    )
