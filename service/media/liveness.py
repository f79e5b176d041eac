"""Telling live workers from dead ones: each worker holds a session-level PostgreSQL advisory
lock on its id, on a connection of its own, for as long as its process lives. PostgreSQL
drops the lock the moment that connection closes, which the kernel does for a killed
process, so other workers can see a dead worker's claims are free."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import asyncpg

from service.db import asyncpg_dsn, is_database_unavailable

log = logging.getLogger(__name__)

# The first key of the two-key advisory lock ("snap"); the second is the worker id.
ADVISORY_NAMESPACE = 0x736E6170
CHECK_SECONDS = 2.0
RECONNECT_DELAY_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5.0


def new_worker_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


class Liveness:
    def __init__(self, database_url: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.worker_id = new_worker_id()
        self.alive = asyncio.Event()
        self.stopping = asyncio.Event()

    async def _hold_once(self) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            # A new id for every connection: claims made under the previous one (whose lock
            # went with its connection) are free for any worker to take over, this one too.
            self.worker_id = new_worker_id()
            await connection.execute(
                "SELECT pg_advisory_lock($1, $2)", ADVISORY_NAMESPACE, self.worker_id
            )
            self.alive.set()
            while not self.stopping.is_set() and not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), CHECK_SECONDS)
                if not self.stopping.is_set() and not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        finally:
            self.alive.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                await self._hold_once()
            # Whatever ended the connection, claims wait until the lock is held again, so
            # this loop must outlive every error, not only the ones foreseen.
            except Exception as error:
                if is_database_unavailable(error):
                    log.warning("media worker lock connection lost (%s); reconnecting", error)
                else:
                    log.exception("media worker lock connection failed; reconnecting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), RECONNECT_DELAY_SECONDS)
