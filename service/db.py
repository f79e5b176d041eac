"""The database engine as a cleanup context, and how to recognise an unreachable database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

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


def _replace_closed_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """A restarted database leaves closed connections in the pool: PostgreSQL ends each
    session when it shuts down, and asyncpg notices as soon as the event loop reads that.
    Raising here makes the pool open a fresh connection instead, so the service recovers
    on its own instead of failing the first request on each pooled connection.

    This replaces SQLAlchemy's pool_pre_ping, which asks the server on every checkout: with
    asyncpg that is three round trips (BEGIN, an empty query, ROLLBACK), twice per request,
    and on two shared cores each round trip is a context switch to PostgreSQL and back; it
    cost more than the timeline statement itself. A connection that died without a word
    (a network partition) is found by the statement that uses it: SQLAlchemy then discards
    the whole pool, and that one request answers 503."""
    if dbapi_connection.driver_connection.is_closed():
        raise sa_exc.DisconnectionError("the database closed this pooled connection")


def create_engine(url: str, pool_size: int = 4, max_overflow: int = 4) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "command_timeout": COMMAND_TIMEOUT_SECONDS,
        },
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed_connection)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection as the driver's own, outside any transaction: each statement
    commits by itself. For the read paths every request takes (the session lookup, pages
    of posts): one round trip per statement, and none of the ORM's or Core's per-statement
    work, which on two shared cores cost more than the statements themselves.

    After anything but an error PostgreSQL reported (a cancelled or broken statement leaves
    the connection mid-protocol), the connection is closed rather than pooled again."""
    pooled = await engine.raw_connection()
    try:
        yield pooled.driver_connection
    except BaseException as error:
        if not isinstance(error, asyncpg.PostgresError):
            pooled.invalidate(error)
        raise
    finally:
        # Checking in may close an overflow connection, which awaits inside SQLAlchemy.
        await greenlet_spawn(pooled.close)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The driver connection under ``session``, inside its transaction (so statements on it
    see what the session wrote): for the functions that take one, called from a unit of
    work."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


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
