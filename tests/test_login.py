"""Logging in and out, revocable sessions, safe redirects and login rate limits."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from service.domain import ratelimit
from service.keys import passwords_key
from service.models import AuthSession
from tests.support import csrf_for, submit

EVIL_NEXT = ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"]


def session_cookie(client: TestClient) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == "snapline_session":
            return cookie.value
    return None


async def is_logged_in(client: TestClient) -> bool:
    html = await (await client.get("/")).text()
    return "Log out" in html


async def test_login_by_username_or_email_in_any_case(client, make_client, factory):
    account = await factory.user()
    for login_name in (account.username, account.username.upper(), account.email.upper()):
        browser = await make_client(client)
        response = await submit(
            browser, "/login", {"login": login_name, "password": account.password}, page="/login"
        )
        assert response.status == 303
        assert response.headers["Location"] == "/"
        assert await is_logged_in(browser)


async def test_wrong_password_and_unknown_user_get_the_same_answer(client, factory):
    account = await factory.user()
    wrong = await submit(
        client, "/login", {"login": account.username, "password": "not-it-at-all"}, page="/login"
    )
    unknown = await submit(
        client, "/login", {"login": "nobody_here", "password": "not-it-at-all"}, page="/login"
    )
    assert wrong.status == unknown.status == 422
    wrong_text, unknown_text = await wrong.text(), await unknown.text()
    assert "do not match an account" in wrong_text and "do not match an account" in unknown_text
    assert "not-it-at-all" not in wrong_text
    assert not await is_logged_in(client)


@pytest.mark.parametrize("target", EVIL_NEXT)
async def test_next_only_ever_leads_to_a_same_site_path(client, factory, target):
    account = await factory.user()
    page = await client.get("/login", params={"next": target})
    assert target not in await page.text()
    response = await submit(
        client,
        "/login",
        {"login": account.username, "password": account.password, "next": target},
        page="/login",
    )
    assert response.status == 303
    assert response.headers["Location"] == "/"


async def test_next_brings_the_user_back_where_they_were(client, factory):
    account = await factory.user()
    page = await client.get("/settings/password", allow_redirects=False)
    assert page.status == 303
    login_page = page.headers["Location"]
    assert login_page.startswith("/login?next=")
    form = await (await client.get(login_page)).text()
    assert 'name="next" value="/settings/password"' in form
    response = await submit(
        client,
        "/login",
        {"login": account.username, "password": account.password, "next": "/settings/password"},
        page=login_page,
    )
    assert response.headers["Location"] == "/settings/password"


async def test_login_issues_a_new_session_cookie(client, factory, login):
    account = await factory.user()
    await client.get("/login")
    before = session_cookie(client)
    assert before is not None
    await login(client, account)
    assert session_cookie(client) not in (None, before)


async def test_cookie_replayed_after_logout_is_anonymous(client, make_client, factory, login):
    account = await factory.user()
    await login(client, account)
    captured = session_cookie(client)
    response = await submit(client, "/logout")
    assert response.status == 303
    assert not await is_logged_in(client)

    thief = await make_client(client)
    thief.session.cookie_jar.update_cookies({"snapline_session": captured})
    assert not await is_logged_in(thief)
    settings = await thief.get("/settings/password", allow_redirects=False)
    assert settings.status == 303 and settings.headers["Location"].startswith("/login")


async def test_garbage_session_cookie_is_treated_as_anonymous(client):
    client.session.cookie_jar.update_cookies({"snapline_session": "not-a-valid-cookie"})
    response = await client.get("/")
    assert response.status == 200
    assert "Log in" in await response.text()


async def test_unconfirmed_users_can_log_in_and_read(client, factory, login):
    account = await factory.user(confirmed=False)
    await login(client, account)
    html = await (await client.get("/")).text()
    assert "Log out" in html
    assert "Confirm your email address to post" in html


async def test_repeated_failures_for_one_account_are_rate_limited(client, factory):
    account = await factory.user()
    statuses = []
    for _ in range(11):
        response = await submit(
            client,
            "/login",
            {"login": account.username, "password": "wrong-password"},
            page="/login",
        )
        statuses.append(response.status)
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert int(response.headers["Retry-After"]) > 0
    # Even the right password waits until the window ends.
    blocked = await submit(
        client, "/login", {"login": account.username, "password": account.password}, page="/login"
    )
    assert blocked.status == 429
    assert not await is_logged_in(client)


async def test_nul_byte_in_login_is_rejected(client, factory):
    account = await factory.user()
    response = await submit(
        client,
        "/login",
        {"login": account.username + "\x00", "password": account.password},
        page="/login",
    )
    assert response.status == 422
    assert not await is_logged_in(client)


async def test_concurrent_guesses_verify_at_most_the_limit(
    client, make_client, factory, monkeypatch
):
    """Simultaneous requests, each from its own browser with its own token: the attempt is
    counted before the password is checked, so no burst gets past the limit."""
    account = await factory.user()
    limit = ratelimit.LOGIN_FAILURES_PER_ACCOUNT.hits
    passwords = client.server.app[passwords_key]
    verify = passwords.verify
    checked: list[str] = []

    async def counting_verify(stored_hash: str | None, password: str) -> bool:
        checked.append(password)
        return await verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    guesses = [f"guess-number-{n}" for n in range(3 * limit)]
    guesses.insert(len(guesses) // 2, account.password)
    browsers = [await make_client(client) for _ in guesses]
    tokens = [await csrf_for(browser, "/login") for browser in browsers]
    responses = await asyncio.gather(
        *(
            submit(browser, "/login", {"login": account.username, "password": guess}, token=token)
            for browser, guess, token in zip(browsers, guesses, tokens, strict=True)
        )
    )
    statuses = [response.status for response in responses]
    wrong_checked = [password for password in checked if password != account.password]
    assert len(wrong_checked) <= limit, statuses
    assert statuses.count(422) == len(wrong_checked)
    assert statuses.count(429) >= len(guesses) - limit - 1
    assert set(statuses) <= {303, 422, 429}


async def test_username_and_email_count_as_one_account(client, factory):
    account = await factory.user()
    forms = [
        account.username,
        account.email,
        f"  {account.username.upper()} ",
        account.email.upper(),
    ]
    statuses = []
    for attempt in range(11):
        response = await submit(
            client,
            "/login",
            {"login": forms[attempt % len(forms)], "password": "wrong-password"},
            page="/login",
        )
        statuses.append(response.status)
    assert statuses == [422] * 10 + [429]
    blocked = await submit(
        client, "/login", {"login": account.email, "password": account.password}, page="/login"
    )
    assert blocked.status == 429


async def test_a_successful_login_gives_its_attempt_back(client, factory, login):
    account = await factory.user()
    for _ in range(3 * ratelimit.LOGIN_FAILURES_PER_ACCOUNT.hits):
        await login(client, account)
    wrong = await submit(
        client, "/login", {"login": account.username, "password": "wrong-password"}, page="/login"
    )
    assert wrong.status == 422


async def test_logging_in_again_ends_the_previous_session(client, make_client, factory, login, db):
    first, second = await factory.user(), await factory.user()
    await login(client, first)
    captured = session_cookie(client)
    await login(client, second)
    await login(client, second)

    thief = await make_client(client)
    thief.session.cookie_jar.update_cookies({"snapline_session": captured})
    assert not await is_logged_in(thief)
    async with db() as session:
        first_sessions = await session.scalar(
            select(func.count()).where(AuthSession.user_id == first.id)
        )
        second_sessions = await session.scalar(
            select(func.count()).where(AuthSession.user_id == second.id)
        )
    assert (first_sessions, second_sessions) == (0, 1)
    assert await is_logged_in(client)
