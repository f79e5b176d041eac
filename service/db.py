"""The database engine as a cleanup context, and how to recognise an unreachable database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from service.keys import engine_key, sessionmaker_key, settings_key
from service.settings import Settings

log = logging.getLogger(__name__)

# A connection attempt that hangs (a firewall dropping packets) must fail fast enough for the
# request to answer 503 rather than time out at the proxy.
CONNECT_TIMEOUT_SECONDS = 5.0
# How long a request waits for a free pooled connection before giving up with 503.
POOL_TIMEOUT_SECONDS = 10.0
# Statements over this are a bug or an overloaded server; cancel rather than pile up.
COMMAND_TIMEOUT_SECONDS = 30.0


def censored(url: str) -> str:
    """The DSN with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str, pool_size: int = 4, max_overflow: int = 4) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        # A restarted database leaves dead sockets in the pool; a ping replaces them so the
        # service recovers on its own instead of failing the first request on each.
        pool_pre_ping=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "command_timeout": COMMAND_TIMEOUT_SECONDS,
        },
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_database_unavailable(error: BaseException) -> bool:
    """True for errors that mean 'the database cannot be reached right now', as opposed to
    a bug in a query. Those become 503 with Retry-After instead of 500."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):  # pool exhausted while the server hangs
        return True
    cause: BaseException | None = error
    seen = 0
    while cause is not None and seen < 10:
        if isinstance(
            cause,
            OSError
            | asyncio.TimeoutError
            | asyncpg.exceptions.ConnectionDoesNotExistError
            | asyncpg.exceptions.CannotConnectNowError
            | asyncpg.exceptions.AdminShutdownError
            | asyncpg.exceptions.ConnectionFailureError,
        ):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings: Settings = app[settings_key]
    engine = create_engine(
        settings.database.url, settings.database.pool_size, settings.database.pool_max_overflow
    )
    log.info("database: %s", censored(settings.database.url))
    try:
        # Fail fast at start with a clear message rather than on the first request.
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        await engine.dispose()
        raise
    app[engine_key] = engine
    app[sessionmaker_key] = make_sessionmaker(engine)
    yield
    await engine.dispose()
