"""A database connection for one command: a small engine, disposed when the command ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import async_sessionmaker

from service.db import create_engine, make_sessionmaker


class NotFound(LookupError):
    """What the command was asked about does not exist (exit status 2)."""


class Refused(Exception):
    """The command will not do this, and nothing was changed (exit status 2)."""


class Failed(Exception):
    """Storage could not be reached, or what was done does not check out (exit status 1)."""


@contextlib.asynccontextmanager
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
