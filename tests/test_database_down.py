"""A private PostgreSQL that this test stops and starts: 503 while it is down, and full
recovery without restarting the app once it is back."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from service import migrate
from service.app import create_app
from service.db import is_broken_connection, is_database_unavailable
from service.embedded_pg import EmbeddedPostgres
from tests.support import submit
from tests.test_login import is_logged_in


@pytest.mark.deploy
async def test_database_outage_answers_503_and_recovers(aiohttp_client, settings, tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", durable=False)
    url = await asyncio.to_thread(server.start)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        client = await aiohttp_client(create_app(settings.replace(database={"url": url})))
        response = await submit(
            client,
            "/signup",
            {
                "username": "outage_user",
                "email": "outage@example.com",
                "password": "plum-kettle-41",
            },
            page="/signup",
        )
        assert response.status == 303
        response = await submit(
            client,
            "/login",
            {"login": "outage_user", "password": "plum-kettle-41"},
            page="/login",
        )
        assert response.status == 303
        assert await is_logged_in(client)

        await asyncio.to_thread(server.stop)
        page = await client.get("/")
        assert page.status == 503
        assert int(page.headers["Retry-After"]) > 0
        assert "temporarily unavailable" in await page.text()
        api = await client.get("/", headers={"Accept": "application/json"})
        assert api.status == 503
        assert (await api.json())["error"]["code"] == "unavailable"
        assert (await client.get("/readyz")).status == 503
        assert (await client.get("/healthz")).status == 200

        await asyncio.to_thread(server.start)
        assert (await client.get("/readyz")).status == 200
        assert await is_logged_in(client)
    finally:
        await asyncio.to_thread(server.discard)


def wrapped(error: BaseException) -> sa_exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it: its own error, caused by the driver's."""
    outer = sa_exc.DBAPIError("SELECT 1", None, Exception(str(error)))
    outer.__cause__ = error
    return outer


def in_handler(error: BaseException) -> ValueError:
    """An error raised while handling ``error`` (its __context__)."""
    try:
        try:
            raise error
        except BaseException:
            raise ValueError("while handling it") from None
    except ValueError as outer:
        outer.__suppress_context__ = False
        return outer


CANNOT_SERVE_NOW = [
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError(),
    sa_exc.TimeoutError("QueuePool limit of size 4 overflow 0 reached"),
    asyncpg.exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"
    ),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.ClientCannotConnectError("cannot connect"),
    asyncpg.exceptions.ProtocolViolationError("unexpected message"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection because of crash"),
    asyncpg.exceptions.CannotConnectNowError("the database system is in recovery mode"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.IdleSessionTimeoutError(
        "terminating connection due to idle-session timeout"
    ),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.TooManyConnectionsError("remaining connection slots are reserved"),
    asyncpg.exceptions.OutOfMemoryError("out of memory"),
    asyncpg.exceptions.DiskFullError("could not extend file: No space left on device"),
    asyncpg.exceptions.ReadOnlySQLTransactionError(
        "cannot execute INSERT in a read-only transaction"
    ),
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError(
        'database "snapline" is not currently accepting connections'
    ),
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    asyncpg.InterfaceError("pool is closing"),
    asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    ),
]
A_BUG = [
    ValueError("invalid literal for int()"),
    KeyError("id"),
    asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.exceptions.ForeignKeyViolationError("violates foreign key constraint"),
    asyncpg.exceptions.PostgresSyntaxError('syntax error at or near "SELEC"'),
    asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist'),
    asyncpg.exceptions.DataError("invalid input for query argument"),
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError(
        'currval of sequence "posts_id_seq" is not yet defined in this session'
    ),
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    asyncpg.exceptions.InternalClientError("unexpected error while performing authentication"),
]


@pytest.mark.parametrize("error", CANNOT_SERVE_NOW, ids=repr)
def test_a_database_that_cannot_serve_now_is_recognised_however_wrapped(error):
    assert is_database_unavailable(error)
    assert is_database_unavailable(wrapped(error))
    assert is_database_unavailable(in_handler(wrapped(error)))
    # The connection it came from is not used again.
    assert is_broken_connection(wrapped(error))


@pytest.mark.parametrize("error", A_BUG, ids=repr)
def test_a_bug_is_not_mistaken_for_an_unavailable_database(error):
    assert not is_database_unavailable(error)
    assert not is_database_unavailable(wrapped(error))


def test_a_statement_error_keeps_its_connection_and_a_driver_fault_does_not():
    assert not is_broken_connection(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not is_broken_connection(ValueError("a bug in our code"))
    assert is_broken_connection(
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
    )
