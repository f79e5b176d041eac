"""The mail worker's claims across processes: a message claimed by a process killed with
SIGKILL is sent by another at once, not after the lease; a claim whose holder is alive is
left alone; a message that cannot be made is retried, not claimed again and again."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
from sqlalchemy import select, text

from service.db import asyncpg_dsn
from service.embedded_pg import free_port
from service.keys import mail_worker_key
from service.models import OutboxMail
from service.workers.liveness import ADVISORY_NAMESPACE, new_worker_id
from service.workers.mail import LEASE_SECONDS, Message, enqueue
from tests.test_cli import service_env
from tests.test_media_processes import Served

# Well inside the lease: a message sent this soon was not waiting for the lease to lapse.
TAKEOVER_SECONDS = 20.0
CLAIM_TIMEOUT_SECONDS = 30.0


class SilentSmtpServer:
    """Accepts connections and never answers: a send to it hangs until its timeout."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        await reader.read()

    async def __aenter__(self) -> SilentSmtpServer:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)


async def queue_mail(db, address: str) -> int:
    """A message due before any other, so it is the one a worker claims next."""
    async with db() as session, session.begin():
        enqueue(session, address, Message(subject="Hello", text="Hi.", html="<p>Hi.</p>"))
        await session.flush()
        row = await session.scalar(select(OutboxMail).where(OutboxMail.recipient == address))
        row.next_attempt_at = await session.scalar(text("SELECT now() - interval '1 day'"))
        return row.id


async def outbox_row(db, row_id: int) -> OutboxMail:
    async with db() as session:
        return await session.get(OutboxMail, row_id)


async def sent_row(db, row_id: int) -> OutboxMail:
    """The row once marked sent, which follows the delivery by a moment."""
    deadline = time.monotonic() + TAKEOVER_SECONDS
    while (row := await outbox_row(db, row_id)).sent_at is None:
        assert time.monotonic() < deadline, "the mail was never marked sent"
        await asyncio.sleep(0.1)
    return row


def smtp_env(tmp_path, port: int, timeout_seconds: float) -> dict[str, str]:
    return {
        "SNAPLINE_MAIL_BACKEND": "smtp",
        "SNAPLINE_MAIL_SMTP_HOST": "127.0.0.1",
        "SNAPLINE_MAIL_SMTP_PORT": str(port),
        "SNAPLINE_MAIL_SMTP_TIMEOUT_SECONDS": str(timeout_seconds),
        "SNAPLINE_STORAGE_LOCAL_PATH": str(tmp_path / "media"),
    }


async def test_mail_claimed_by_a_killed_process_is_sent_at_once(
    database_url, tmp_path, db, factory, smtp_server, mailbox
):
    address = f"{factory.unique()}@example.com"
    servers: list[Served] = []
    try:
        async with SilentSmtpServer() as silent:
            first = Served(
                service_env(database_url, **smtp_env(tmp_path, silent.port, 600)),
                tmp_path / "first.log",
            )
            servers.append(first)
            await first.start()
            row_id = await queue_mail(db, address)
            deadline = time.monotonic() + CLAIM_TIMEOUT_SECONDS
            while (await outbox_row(db, row_id)).locked_until is None:
                assert time.monotonic() < deadline, "the first process never claimed the mail"
                await asyncio.sleep(0.1)
            first.kill()  # SIGKILL, in the middle of sending
        claimed = await outbox_row(db, row_id)
        assert claimed.sent_at is None and claimed.attempts == 1
        assert claimed.locked_until is not None

        second = Served(
            service_env(database_url, **smtp_env(tmp_path, smtp_server.port, 5)),
            tmp_path / "second.log",
        )
        servers.append(second)
        started = time.monotonic()
        await second.start()
        [message] = await mailbox.wait_for(address, within_seconds=TAKEOVER_SECONDS)
        assert time.monotonic() - started < LEASE_SECONDS
        assert message["Subject"] == "Hello"
        sent = await sent_row(db, row_id)
        assert sent.attempts == 2
        assert sent.claimed_by not in {None, claimed.claimed_by}  # by the second process
    finally:
        for served in servers:
            served.kill()


async def test_a_claim_whose_worker_is_alive_is_left_to_it(
    client, database_url, db, factory, mailbox
):
    address = f"{factory.unique()}@example.com"
    holder_id = new_worker_id()
    # Another process's worker, alive: it holds the lock on its id.
    holder = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await holder.execute("SELECT pg_advisory_lock($1, $2)", ADVISORY_NAMESPACE, holder_id)
        row_id = await queue_mail(db, address)
        async with db() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE outbox_mail SET attempts = 1, claimed_by = :holder,"
                    f" locked_until = now() + interval '{LEASE_SECONDS} seconds' WHERE id = :id"
                ),
                {"holder": holder_id, "id": row_id},
            )
        await asyncio.sleep(3)  # three polls of this process's worker
        assert mailbox.to(address) == []
        assert (await outbox_row(db, row_id)).attempts == 1
    finally:
        await holder.close()  # as the kernel does for a process that dies
    await mailbox.wait_for(address, within_seconds=TAKEOVER_SECONDS)
    assert (await sent_row(db, row_id)).attempts == 2


async def test_a_message_that_cannot_be_built_is_retried_and_holds_nothing_up(client, mailbox, db):
    """A row no mail can be made of (a line break in its subject, written around
    ``enqueue``'s checks) is a failed attempt, retried later as any job's unexpected
    failure is (and failed for good after the last), never sent; the message queued
    after it is delivered meanwhile."""
    broken = await queue_mail(db, "broken@example.com")
    async with db() as session, session.begin():
        await session.execute(
            text("UPDATE outbox_mail SET subject = :subject WHERE id = :id"),
            {"subject": "Hello\nBcc: everyone@example.com", "id": broken},
        )
    await queue_mail(db, "after-broken@example.com")
    client.server.app[mail_worker_key].wake()
    [delivered] = await mailbox.wait_for("after-broken@example.com")
    assert delivered["Subject"] == "Hello"
    deadline = time.monotonic() + CLAIM_TIMEOUT_SECONDS
    while (row := await outbox_row(db, broken)).attempts < 2:
        assert time.monotonic() < deadline, (row.attempts, row.last_error)
        await asyncio.sleep(0.1)
    assert row.sent_at is None and row.failed_at is None
    assert row.last_error.startswith("ValueError")
    assert mailbox.to("broken@example.com") == []
