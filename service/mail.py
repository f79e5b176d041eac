"""Outgoing mail through an outbox table: a request only inserts a row (in its own
transaction), and a worker in every process delivers rows with retries. A slow or dead mail
server therefore never slows a request down, and no message is lost."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
import jinja2
from aiohttp import web
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.backoff import backoff_seconds
from service.db import is_database_unavailable
from service.keys import mail_worker_key, scheduler_key, sessionmaker_key, settings_key
from service.models import OutboxMail
from service.observability import JOB_FAILURES
from service.settings import PROJECT_ROOT, MailSettings, Settings

log = logging.getLogger(__name__)

MAIL_TEMPLATES = PROJECT_ROOT / "templates" / "mail"
# Other processes' new mail is picked up by polling; our own is signalled at once.
POLL_INTERVAL_SECONDS = 1.0
# A claimed message is another worker's to retry if not finished within this time.
LEASE_SECONDS = 120
# Backoff doubles per attempt up to this, then the message is retried at this pace...
MAX_BACKOFF_SECONDS = 30 * 60
# ...until this many attempts (about two days at the cap), when it is marked failed.
MAX_ATTEMPTS = 100


@dataclasses.dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def mail_templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(MAIL_TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(templates: jinja2.Environment, name: str, **context: object) -> Message:
    """Render ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html``."""
    subject = templates.get_template(f"{name}.subject.txt").render(**context)
    return Message(
        subject=" ".join(subject.split()),
        text=templates.get_template(f"{name}.txt").render(**context),
        html=templates.get_template(f"{name}.html").render(**context),
    )


def enqueue(session: AsyncSession, recipient: str, message: Message) -> None:
    session.add(
        OutboxMail(
            recipient=recipient,
            subject=message.subject,
            text_body=message.text,
            html_body=message.html,
        )
    )


def build_email(row: OutboxMail, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = row.recipient
    email["Subject"] = row.subject
    email["Date"] = format_datetime(row.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "snapline.localhost"
    # Stable per outbox row, so a message delivered twice after a crash is recognisable.
    email["Message-ID"] = f"<outbox-{row.id}@{domain}>"
    email.set_content(row.text_body)
    email.add_alternative(row.html_body, subtype="html")
    return email


class MailBackend(Protocol):
    async def send(self, email: EmailMessage) -> None: ...


class FileMailBackend:
    """Development delivery: each message is an .eml file (and its path is logged)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _write(self, email: EmailMessage) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        message_id = email["Message-ID"].strip("<>").partition("@")[0]
        path = self.directory / f"{stamp}-{message_id}.eml"
        path.write_bytes(bytes(email))
        return path

    async def send(self, email: EmailMessage) -> None:
        path = await asyncio.to_thread(self._write, email)
        log.info("mail to %s written to %s", email["To"], path)


class SmtpMailBackend:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, email: EmailMessage) -> None:
        mail = self.settings
        await aiosmtplib.send(
            email,
            hostname=mail.smtp_host,
            port=mail.smtp_port,
            username=mail.smtp_username or None,
            password=mail.smtp_password or None,
            use_tls=mail.smtp_tls == "tls",
            start_tls=mail.smtp_tls == "starttls",
            timeout=mail.smtp_timeout_seconds,
        )


def make_backend(settings: Settings) -> MailBackend:
    if settings.mail.backend == "smtp":
        return SmtpMailBackend(settings.mail)
    return FileMailBackend(settings.resolve_path(settings.mail.file_path))


class MailWorker:
    def __init__(
        self, sessionmaker: async_sessionmaker, backend: MailBackend, settings: MailSettings
    ) -> None:
        self.sessionmaker = sessionmaker
        self.backend = backend
        self.settings = settings
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New mail was committed by this process: deliver it now rather than at the next poll."""
        self._wakeup.set()

    async def _claim(self) -> OutboxMail | None:
        pending = (
            select(OutboxMail.id)
            .where(
                OutboxMail.sent_at.is_(None),
                OutboxMail.failed_at.is_(None),
                OutboxMail.next_attempt_at <= text("now()"),
                (OutboxMail.locked_until.is_(None)) | (OutboxMail.locked_until < text("now()")),
            )
            .order_by(OutboxMail.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claim = (
            update(OutboxMail)
            .where(OutboxMail.id == pending)
            .values(
                attempts=OutboxMail.attempts + 1,
                locked_until=text(f"now() + interval '{LEASE_SECONDS} seconds'"),
            )
            .returning(OutboxMail)
        )
        async with self.sessionmaker.begin() as session:
            return (await session.execute(claim)).scalar_one_or_none()

    async def _finish(self, row: OutboxMail, error: BaseException | None) -> None:
        if error is not None:
            JOB_FAILURES.labels("mail").inc()
        if error is None:
            values: dict[str, object] = {"sent_at": text("now()"), "locked_until": None}
        elif row.attempts >= MAX_ATTEMPTS:
            log.error("giving up on mail %s to %s: %s", row.id, row.recipient, error)
            values = {"failed_at": text("now()"), "locked_until": None, "last_error": str(error)}
        else:
            delay = backoff_seconds(
                row.attempts, self.settings.retry_base_seconds, MAX_BACKOFF_SECONDS
            )
            log.warning(
                "mail %s failed (attempt %s), retry in %.0f s: %s",
                row.id,
                row.attempts,
                delay,
                error,
            )
            values = {
                "next_attempt_at": datetime.now(UTC) + timedelta(seconds=delay),
                "locked_until": None,
                "last_error": f"{error.__class__.__name__}: {error}"[:2000],
            }
        async with self.sessionmaker.begin() as session:
            await session.execute(
                update(OutboxMail).where(OutboxMail.id == row.id).values(**values)
            )

    async def deliver_pending(self) -> int:
        """Send everything that is due; returns how many messages were attempted."""
        attempted = 0
        while not self._stopping:
            row = await self._claim()
            if row is None:
                break
            attempted += 1
            try:
                await self.backend.send(build_email(row, self.settings.sender))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await self._finish(row, error)
            else:
                await self._finish(row, None)
        return attempted

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.deliver_pending()
            except Exception as error:  # the worker must outlive database outages
                if is_database_unavailable(error):
                    log.warning("mail worker: database unavailable, retrying")
                else:
                    log.exception("mail worker error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), POLL_INTERVAL_SECONDS)
            self._wakeup.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    worker = MailWorker(app[sessionmaker_key], make_backend(settings), settings.mail)
    app[mail_worker_key] = worker
    job = await app[scheduler_key].spawn(worker.run())
    yield
    worker.stop()
    # A message being sent finishes (its row is marked) or, if cut off, its lease expires
    # and another process sends it: nothing is lost either way.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(job.wait(), timeout=settings.mail.smtp_timeout_seconds + 2)
