"""Outgoing mail through an outbox table: a request only inserts a row (in its own
transaction), and a worker in every process delivers rows with retries. A slow or dead mail
server therefore never slows a request down, and no message is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
import jinja2
from aiohttp import web
from babel.dates import format_datetime as format_moment
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import i18n
from service.keys import (
    liveness_key,
    mail_worker_key,
    scheduler_key,
    sessionmaker_key,
    settings_key,
)
from service.models import OutboxMail
from service.settings import PROJECT_ROOT, AppSettings, MailSettings, Settings
from service.workers.liveness import Liveness
from service.workers.polling import JobTable, PollingWorker, running

log = logging.getLogger(__name__)

MAIL_TEMPLATES = PROJECT_ROOT / "templates" / "mail"
# A claimed message is another worker's to retry if not finished within this time, should
# its holder vanish without being seen to die.
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
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(MAIL_TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Translated into the language in use while a mail is composed (compose's `language`).
    templates.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    templates.filters["moment"] = moment
    return templates


def moment(when: datetime) -> str:
    """A moment in a mail: "2026-11-21 08:18 UTC" in English, the language's medium date
    and time otherwise ("2026年11月21日 08:18:58 UTC"), as pages word it."""
    utc = when.astimezone(UTC)
    language = i18n.current()
    if language == i18n.SOURCE_LANGUAGE:
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    return f"{format_moment(utc, 'medium', tzinfo=UTC, locale=i18n.locale(language))} UTC"


def mail_language(app: AppSettings, *wishes: str | None) -> str:
    """The language of a mail: the first of ``wishes`` the instance offers (the recipient's
    choice on their account, then, when they caused the mail themselves, the language of
    their request), else the instance's default."""
    for wish in wishes:
        if wish in app.languages:
            return wish
    return app.default_language


def compose(
    templates: jinja2.Environment, name: str, *, language: str, **context: object
) -> Message:
    """Render ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html`` in ``language``
    (the recipient's, which need not be that of the request sending it)."""
    with i18n.using(language):
        context = {**context, "language": language}
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


def build_email(row: OutboxMail | Row, sender: str) -> EmailMessage:
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


# The mail queue: what a claim returns is what a message needs.
MESSAGE_COLUMNS = "id, recipient, subject, text_body, html_body, created_at, attempts"
OUTBOX = JobTable("outbox_mail", "sent_at", columns=MESSAGE_COLUMNS, lease_seconds=LEASE_SECONDS)


class MailWorker(PollingWorker):
    name = "mail"
    table = OUTBOX
    max_backoff_seconds = MAX_BACKOFF_SECONDS
    max_attempts = MAX_ATTEMPTS

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        liveness: Liveness,
        backend: MailBackend,
        settings: MailSettings,
    ) -> None:
        super().__init__(sessionmaker, liveness)
        self.backend = backend
        self.settings = settings
        self.retry_base_seconds = settings.retry_base_seconds

    async def handle(self, job: Row) -> None:
        try:
            await self.backend.send(build_email(job, self.settings.sender))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            await self.failed(job, error)
        else:
            await self.mark_done(job)


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    worker = MailWorker(
        app[sessionmaker_key], app[liveness_key], make_backend(settings), settings.mail
    )
    app[mail_worker_key] = worker
    # A message being sent finishes (its row is marked) or, if cut off, is given back and
    # any process sends it: nothing is lost either way.
    async with running(worker, app[scheduler_key], settings.mail.smtp_timeout_seconds + 2):
        yield
