"""Each process remembers who is signed in, and forgets at once what the database says has
changed: a session that ended, a user whose name, role or suspension changed. Two apps on
one database stand for two processes behind a load balancer."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service.app import create_app
from service.domain import accounts
from service.keys import session_cache_key
from service.reads.session_cache import SessionCache
from service.reads.views import SessionUser
from service.web.auth import SESSION_COOKIE
from tests.support import csrf_of, submit

ANNOUNCEMENT_TIMEOUT_SECONDS = 5.0
ANN = SessionUser(1, "ann", "", "ann@example.com", "user", True)
LATER = datetime.now(UTC) + timedelta(days=1)


def listening_cache() -> SessionCache:
    cache = SessionCache()
    cache.listening(True)
    return cache


@pytest.mark.unit
def test_a_lookup_that_raced_an_announcement_is_not_remembered():
    cache = listening_cache()
    before_lookup = cache.generation
    cache.session_ended(b"s1")  # announced while the lookup was on its way
    cache.put(b"s1", ANN, LATER, before_lookup)
    assert cache.get(b"s1") is None
    cache.put(b"s1", ANN, LATER, cache.generation)
    assert cache.get(b"s1") == ANN


@pytest.mark.unit
def test_nothing_is_remembered_without_the_listener_and_all_is_forgotten_when_it_drops():
    cache = SessionCache()
    cache.put(b"s1", ANN, LATER, cache.generation)
    assert cache.get(b"s1") is None
    cache.listening(True)
    cache.put(b"s1", ANN, LATER, cache.generation)
    assert cache.get(b"s1") == ANN
    cache.listening(False)
    assert cache.get(b"s1") is None and len(cache) == 0


@pytest.mark.unit
def test_a_user_change_forgets_every_session_of_that_user_only():
    cache = listening_cache()
    bob = SessionUser(2, "bob", "", "bob@example.com", "user", True)
    for session_hash, user in ((b"a1", ANN), (b"a2", ANN), (b"b1", bob)):
        cache.put(session_hash, user, LATER, cache.generation)
    cache.user_changed(ANN.id)
    assert [cache.get(h) for h in (b"a1", b"a2", b"b1")] == [None, None, bob]


@pytest.mark.unit
def test_an_entry_lapses_with_its_session_and_the_oldest_go_first():
    cache = SessionCache(max_entries=2)
    cache.listening(True)
    cache.put(b"soon", ANN, datetime.now(UTC) + timedelta(seconds=0.05), cache.generation)
    time.sleep(0.06)
    assert cache.get(b"soon") is None
    for session_hash in (b"1", b"2", b"3"):
        cache.put(session_hash, ANN, LATER, cache.generation)
    assert [cache.get(h) for h in (b"1", b"2", b"3")] == [None, ANN, ANN]


def session_cookie(client: TestClient) -> str:
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    return f"{SESSION_COOKIE}={jar[SESSION_COOKIE].value}"


async def eventually(check, what: str) -> None:
    deadline = time.monotonic() + ANNOUNCEMENT_TIMEOUT_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"not within {ANNOUNCEMENT_TIMEOUT_SECONDS} s: {what}"
        await asyncio.sleep(0.01)


async def test_two_processes_forget_an_ended_session_and_a_changed_user(
    client, aiohttp_client, settings, factory, login, db
):
    other: TestClient = await aiohttp_client(create_app(settings))
    # Only the cookie given here, never what the other process set in its own jar.
    other.session._cookie_jar = aiohttp.DummyCookieJar()
    other_cache = other.server.app[session_cache_key]
    await eventually(lambda: asyncio.sleep(0, other_cache._listening), "the other process listens")
    account = await factory.user()
    await login(client, account)
    # The same cookie in the other process, as a load balancer would send it.
    cookie = {"Cookie": session_cookie(client)}
    as_json = {**cookie, "Accept": "application/json"}

    async def other_sees() -> int:
        return (await other.get("/api/snapline/v1/timeline", headers=as_json)).status

    # The other process remembers the session after its first request.
    assert await other_sees() == 200
    assert len(other_cache) == 1

    # A role given by an admin is seen by the other process as soon as it is announced:
    # the navigation gains the admin's page.
    async with db.begin() as session:
        await accounts.set_role(session, account.id, "admin")

    async def promoted() -> bool:
        page = await other.get("/", headers=cookie)
        return 'href="/admin/users"' in await page.text()

    await eventually(promoted, "the other process sees the new role")

    # A session ended without a word reaching the other process (a lost announcement,
    # here by running the delete with triggers off): its reads may still be served from
    # memory, but a write there asks the database, and is refused.
    token = csrf_of(await (await client.get("/")).text())
    cookie["Cookie"] = session_cookie(client)  # now with the CSRF secret of that token
    as_json.update(cookie)
    async with db.begin() as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            text("DELETE FROM auth_sessions WHERE user_id = :id"), {"id": account.id}
        )
    assert await other_sees() == 200
    write = await other.post(
        "/api/snapline/v1/posts",
        json={"body": "after logout"},
        headers={**as_json, "X-CSRF-Token": token},
    )
    assert write.status == 401
    assert await other_sees() == 401  # the write's lookup replaced what was remembered

    # Logged out in the first process: the other forgets as soon as it hears of it.
    await login(client, account)
    cookie["Cookie"] = session_cookie(client)
    as_json.update(cookie)
    assert await other_sees() == 200
    assert len(other_cache) == 1
    assert (await submit(client, "/logout")).status == 303

    async def anonymous() -> bool:
        return await other_sees() == 401

    await eventually(anonymous, "the other process forgets the ended session")
    assert len(other_cache) == 0
