"""The database as a cleanup context: SQLAlchemy's engine for units of work, a pool of
plain driver connections for the reads on every request, and how to recognise an
unreachable database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url
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


# Set on every connection of the read pool (see create_read_pool). JIT off: it compiles a
# statement's expressions again at every execution (about 100 ms for post search's), which
# never pays for statements that run in milliseconds, and a generic plan's guesses (post
# search's three probes of a GIN index) can cross jit_above_cost.
READ_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan", "jit": "off"}


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


def _discard_broken_connection(context: ExceptionContext) -> None:
    """SQLAlchemy discards a connection only when asyncpg already reports it closed, which
    it does not yet when the server's "terminating connection" arrives mid-statement; such
    a connection went back to the pool and failed the next request too. Only this
    connection is discarded: the others are still good (a backend terminated alone) or are
    found closed at checkout (a restart)."""
    if not context.is_disconnect and is_broken_connection(context.original_exception):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


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
    event.listen(engine.sync_engine, "handle_error", _discard_broken_connection)
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


def is_broken_connection(error: BaseException) -> bool:
    """The connection an error came from must not be used again: the server ended it or
    the driver lost track of it (a statement cut off half-way leaves the protocol waiting
    for an answer that never comes, and the next statement on it fails with "cannot switch
    to state ...; another operation is in progress")."""
    if isinstance(error, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        return True
    return is_database_unavailable(error)


class reading:
    """A connection of the read pool for the statements of one request. One that failed
    because of the connection itself is closed rather than given back: the pool's reset
    does nothing (see _keep_session_state), so nothing else would notice it is broken.

    Written as a class, and the wait for a free connection bounded by asyncio.timeout
    rather than the driver's ``timeout=`` (which runs every acquire in a task of its own):
    every request takes one, and the generator-based context manager and the task were a
    tenth of a timeline request's time."""

    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def __aenter__(self) -> asyncpg.Connection:
        async with asyncio.timeout(POOL_TIMEOUT_SECONDS):
            self._connection = await self._pool.acquire()
        return self._connection

    async def __aexit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, Exception) and is_broken_connection(error):
            self._connection.terminate()
        await self._pool.release(self._connection)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The driver connection under ``session``, inside its transaction (so statements on it
    see what the session wrote): for the functions that take one, called from a unit of
    work."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


# SQLSTATEs that mean "the server cannot serve now", as opposed to a statement being wrong.
# Class 08 is every connection exception (refused, lost, rejected, protocol broken).
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08"})
_UNAVAILABLE_SQLSTATES = frozenset(
    {
        "25006",  # read_only_sql_transaction: a standby (failover in progress) refuses writes
        "53000",  # insufficient_resources
        "53100",  # disk_full
        "53200",  # out_of_memory
        "53300",  # too_many_connections (also "remaining connection slots are reserved")
        "57P01",  # admin_shutdown: the server is stopping, or our backend was terminated
        "57P02",  # crash_shutdown: another backend crashed and the server is resetting
        "57P03",  # cannot_connect_now: starting up, shutting down, in recovery
        "57P05",  # idle_session_timeout: the server closed an idle connection
    }
)
# 55000 (object_not_in_prerequisite_state) is also what a statement on a sequence without a
# value gets; only this message is the database refusing connections (ALLOW_CONNECTIONS
# false, set while it is being restored or moved).
_OBJECT_NOT_IN_PREREQUISITE_STATE = "55000"
_NOT_ACCEPTING_CONNECTIONS = "is not currently accepting connections"
# What the driver says when it is asked to use a connection or pool that is gone.
_CLOSED_INTERFACE_MESSAGES = ("connection is closed", "pool is closing", "pool is closed")
# The driver's protocol was not idle when a statement began. The pools hand a connection to
# one user at a time, so this is a connection whose backend was ended while it sat in the
# pool: the server's farewell arrived (the protocol left idle) but the closed socket was
# not read yet. (Two statements at once on one connection is a different error: an
# InterfaceError, "cannot perform operation: another operation is in progress".)
_PROTOCOL_NOT_IDLE = "cannot switch to state"
# How deep to follow __cause__ and __context__: SQLAlchemy wraps the driver's error twice.
_CAUSE_DEPTH = 10


def _cannot_serve_now(error: BaseException) -> bool:
    """One exception (not its causes) means the database cannot serve right now."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError):  # SQLAlchemy's pool stayed exhausted
        return True
    # Refused, reset, unreachable; a connect or pool wait or statement that timed out.
    if isinstance(error, OSError | TimeoutError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = error.sqlstate or ""
        if sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        return sqlstate == _OBJECT_NOT_IN_PREREQUISITE_STATE and _NOT_ACCEPTING_CONNECTIONS in str(
            error
        )
    if isinstance(error, asyncpg.InterfaceError):
        return any(message in str(error) for message in _CLOSED_INTERFACE_MESSAGES)
    if isinstance(error, asyncpg.exceptions.InternalClientError):
        return str(error).startswith(_PROTOCOL_NOT_IDLE)
    return False


def is_database_unavailable(error: BaseException) -> bool:
    """True for errors that mean 'the database cannot serve right now' (unreachable,
    restarting, refusing connections, out of connection slots, our connection killed), as
    opposed to a bug in a query. Those become 503 with Retry-After instead of 500, and the
    background workers wait and retry instead of reporting an error.

    The driver's error is found wherever SQLAlchemy wrapped it, by following the chain of
    causes."""
    cause: BaseException | None = error
    for _ in range(_CAUSE_DEPTH):
        if cause is None:
            return False
        if _cannot_serve_now(cause):
            return True
        cause = cause.__cause__ or cause.__context__
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
