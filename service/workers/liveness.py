"""Telling live workers from dead ones: each process holds a session-level PostgreSQL
advisory lock on its worker id, on a connection of its own, for as long as it lives.
PostgreSQL drops the lock the moment that connection closes, which the kernel does for a
killed process, so other workers can see that a dead worker's claims are free."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from service.db import asyncpg_dsn
from service.keys import liveness_key, scheduler_key, settings_key
from service.workers.connection import HeldConnection

# The first key of the two-key advisory lock ("snap"); the second is the worker id.
ADVISORY_NAMESPACE = 0x736E6170

# The ids of the workers alive now, anywhere: those whose lock is held in this database.
LIVE_WORKER_IDS = f"""
    SELECT l.objid::bigint FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
       AND l.classid = CAST({ADVISORY_NAMESPACE} AS oid)
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def new_worker_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


class Liveness:
    """This process's worker id and its lock; ``alive`` is set while the lock is held."""

    def __init__(self, database_url: str) -> None:
        self.worker_id = new_worker_id()
        self.alive = asyncio.Event()
        self.connection = HeldConnection(
            asyncpg_dsn(database_url), "worker lock", self._lock, self.alive.clear
        )

    @property
    def stopping(self) -> asyncio.Event:
        return self.connection.stopping

    async def _lock(self, connection: asyncpg.Connection, reconnected: bool) -> None:
        # A new id for every connection: claims made under the previous one (whose lock
        # went with its connection) are free for any worker to take over, this one too.
        self.worker_id = new_worker_id()
        await connection.execute(
            "SELECT pg_advisory_lock($1, $2)", ADVISORY_NAMESPACE, self.worker_id
        )
        self.alive.set()

    async def run(self) -> None:
        await self.connection.run()


async def liveness_ctx(app: web.Application) -> AsyncIterator[None]:
    """One lock for the process, shared by its workers; released after they have stopped."""
    liveness = Liveness(app[settings_key].database.url)
    app[liveness_key] = liveness
    holding = await app[scheduler_key].spawn(liveness.run())
    yield
    liveness.stopping.set()
    await holding.wait()
