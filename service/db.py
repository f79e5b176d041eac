"""The database as a cleanup context: SQLAlchemy's engine for units of work, a pool of
plain driver connections for the reads on every request, and how to recognise an
unreachable database."""

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

from service.keys import engine_key, read_pool_key, sessionmaker_key, settings_key
from service.settings import Settings

log = logging.getLogger(__name__)

# A connection attempt that hangs (a firewall dropping packets) must fail fast enough for the
# request to answer 503 rather than time out at the proxy.
CONNECT_TIMEOUT_SECONDS = 5.0
# How long a request waits for a free pooled connection before giving up with 503.
POOL_TIMEOUT_SECONDS = 10.0
# Statements over this are a bug or an overloaded server; cancel rather than pile up.
COMMAND_TIMEOUT_SECONDS = 30.0


# Set on every connection of the read pool (see create_read_pool).
READ_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


def censored(url: str) -> str:
    """The DSN with its password hidden, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL from settings as a DSN asyncpg understands."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


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


async def _keep_session_state(connection: asyncpg.Connection) -> None:
    """Nothing to undo when a read connection goes back to the pool (asyncpg rolls back a
    transaction left open itself): the statements run on it change no session state, and
    asyncpg's default reset costs a round trip on every release."""


async def create_read_pool(database_url: str, size: int) -> asyncpg.Pool:
    """Plain asyncpg connections for the reads every request makes (the session lookup,
    pages of posts, the unread badge): one round trip per statement, outside any
    transaction, none of the ORM's or Core's per-statement work.

    These connections use generic plans only. A page statement costs PostgreSQL about as
    much to plan as to run (0.45 and 0.5 ms), and the plan cache kept planning it afresh on
    every call because a generic plan's estimates look worse, although the plan is the
    same. Forcing it is safe only for statements whose best plan does not depend on their
    parameters, so only a few reviewed statements run here, and their page sizes are
    literals in the text (a LIMIT parameter makes a generic plan guess a tenth of the
    table: a sequential scan for explore)."""
    return await asyncpg.create_pool(
        asyncpg_dsn(database_url),
        min_size=1,
        max_size=size,
        reset=_keep_session_state,
        timeout=CONNECT_TIMEOUT_SECONDS,
        command_timeout=COMMAND_TIMEOUT_SECONDS,
        server_settings=READ_SERVER_SETTINGS,
    )


def reading(pool: asyncpg.Pool) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection of the read pool for the statements of one request."""
    return pool.acquire(timeout=POOL_TIMEOUT_SECONDS)


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
    try:
        read_pool = await create_read_pool(settings.database.url, settings.database.read_pool_size)
    except Exception:
        await engine.dispose()
        raise
    app[engine_key] = engine
    app[sessionmaker_key] = make_sessionmaker(engine)
    app[read_pool_key] = read_pool
    yield
    await read_pool.close()
    await engine.dispose()
