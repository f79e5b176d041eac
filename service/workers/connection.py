"""A PostgreSQL connection of its own, held for as long as the process runs and reconnected
whenever it drops (the database restarted, the backend was terminated, the network broke).
LISTEN needs one, and so does a session-level advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from service.db import is_database_unavailable

log = logging.getLogger(__name__)

# A quiet connection is checked this often, so a vanished database is noticed promptly.
CHECK_SECONDS = 2.0
RECONNECT_DELAY_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5.0

# Called on every new connection, with whether an earlier one came before it.
OnConnect = Callable[[asyncpg.Connection, bool], Awaitable[None]]


class HeldConnection:
    def __init__(
        self,
        dsn: str,
        name: str,
        on_connect: OnConnect,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.dsn = dsn
        self.name = name
        self.on_connect = on_connect
        self.on_lost = on_lost
        self.stopping = asyncio.Event()

    async def _hold_once(self, reconnected: bool) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await self.on_connect(connection, reconnected)
            while not self.stopping.is_set() and not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), CHECK_SECONDS)
                if not self.stopping.is_set() and not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        finally:
            if self.on_lost is not None:
                self.on_lost()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)

    async def run(self) -> None:
        """Until ``stopping`` is set."""
        attempts = 0
        while not self.stopping.is_set():
            try:
                await self._hold_once(reconnected=attempts > 0)
            # What depends on the connection ends for good if this loop does: it must
            # outlive every error, not only the ones foreseen.
            except Exception as error:
                if is_database_unavailable(error):
                    log.warning("%s connection lost (%s); reconnecting", self.name, error)
                else:
                    log.exception("%s connection failed; reconnecting", self.name)
            attempts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), RECONNECT_DELAY_SECONDS)
