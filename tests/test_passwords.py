"""Forgotten passwords by email, and changing a password while signed in."""

from __future__ import annotations

from sqlalchemy import func, select

from service.domain import accounts
from service.models import User
from tests.conftest import TEST_PASSWORD
from tests.support import message_link, submit
from tests.test_login import is_logged_in


async def test_forgot_password_answers_the_same_for_unknown_addresses(client, mailbox, factory):
    account = await factory.user()
    known = await submit(
        client, "/password/forgot", {"email": account.email}, page="/password/forgot"
    )
    unknown = await submit(
        client, "/password/forgot", {"email": "nobody@example.com"}, page="/password/forgot"
    )
    assert known.status == unknown.status == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    [message] = await mailbox.wait_for(account.email)
    assert message_link(message).startswith("/password/reset/")
    assert mailbox.to("nobody@example.com") == []


async def test_reset_link_sets_password_once_and_ends_every_session(
    client, make_client, mailbox, factory, login
):
    account = await factory.user()
    other_device = await make_client(client)
    await login(other_device, account)
    await submit(client, "/password/forgot", {"email": account.email}, page="/password/forgot")
    link = message_link((await mailbox.wait_for(account.email))[0])

    form = await client.get(link)
    assert form.status == 200
    too_short = await submit(client, link, {"password": "short"}, page=link)
    assert too_short.status == 422
    done = await submit(client, link, {"password": "brand-new-password"}, page=link)
    assert done.status == 303 and done.headers["Location"] == "/login"

    assert not await is_logged_in(other_device)
    reused = await submit(client, link, {"password": "another-password"}, page="/login")
    assert reused.status == 400
    old = await submit(
        client, "/login", {"login": account.username, "password": account.password}, page="/login"
    )
    assert old.status == 422
    new = await submit(
        client,
        "/login",
        {"login": account.username, "password": "brand-new-password"},
        page="/login",
    )
    assert new.status == 303


async def test_tampered_reset_token_is_refused(client):
    response = await client.get("/password/reset/not-a-real-token")
    assert response.status == 400
    posted = await submit(client, "/password/reset/not-a-real-token", {"password": "whatever-123"})
    assert posted.status == 400


async def test_change_password_needs_the_current_one_and_ends_other_sessions(
    client, make_client, factory, login
):
    account = await factory.user()
    await login(client, account)
    laptop = await make_client(client)
    await login(laptop, account)

    wrong = await submit(
        client,
        "/settings/password",
        {"current_password": "not-my-password", "new_password": "next-password-1"},
        page="/settings/password",
    )
    assert wrong.status == 422
    assert "not your current password" in await wrong.text()
    assert await is_logged_in(laptop)

    changed = await submit(
        client,
        "/settings/password",
        {"current_password": account.password, "new_password": "next-password-1"},
        page="/settings/password",
    )
    assert changed.status == 303
    assert await is_logged_in(client)
    assert not await is_logged_in(laptop)


async def test_reset_mails_per_address_are_rate_limited(client, mailbox, factory):
    account = await factory.user()
    statuses = [
        (
            await submit(
                client, "/password/forgot", {"email": account.email}, page="/password/forgot"
            )
        ).status
        for _ in range(4)
    ]
    assert statuses == [303, 303, 303, 429]
    await mailbox.wait_for(account.email, count=3)


COMMON = ["password1", "Qwertyuiop", " iloveyou1 ", "1234567890"]


def own_names(account) -> list[str]:
    """The account's username and email address, as typed back in other cases."""
    local_part = account.email.partition("@")[0]
    return [account.username.upper(), account.email.upper(), local_part.swapcase()]


async def test_common_passwords_and_own_names_are_refused_on_signup(client, factory, db):
    username = factory.unique()
    address = f"{username}-mail@example.com"
    for password in [*COMMON, username.swapcase(), address.upper(), f"{username}-MAIL"]:
        response = await submit(
            client,
            "/signup",
            {"username": username, "email": address, "password": password},
            page="/signup",
        )
        assert response.status == 422, password
        body = await response.text()
        assert "one of the most common" in body or "not your username or email" in body
        assert 'class="field-error"' in body
    async with db() as session:
        assert await session.scalar(select(func.count()).where(User.username == username)) == 0


async def test_common_passwords_and_own_names_are_refused_on_change(
    client, make_client, factory, login
):
    account = await factory.user()
    await login(client, account)
    for password in [*COMMON, *own_names(account)]:
        response = await submit(
            client,
            "/settings/password",
            {"current_password": account.password, "new_password": password},
            page="/settings/password",
        )
        assert response.status == 422, password
        assert "field-error" in (body := await response.text())
        assert "one of the most common" in body or "not your username or email" in body
    # Nothing changed: the old password still logs in.
    await login(await make_client(client), account)


async def test_common_passwords_and_own_names_are_refused_on_reset(client, mailbox, factory):
    account = await factory.user()
    await submit(client, "/password/forgot", {"email": account.email}, page="/password/forgot")
    link = message_link((await mailbox.wait_for(account.email))[0])
    for password in [*COMMON, *own_names(account)]:
        response = await submit(client, link, {"password": password}, page=link)
        assert response.status == 422, password
        body = await response.text()
        assert "one of the most common" in body or "not your username or email" in body
    # Refusals leave the link usable.
    done = await submit(client, link, {"password": "a-rarer-choice-77"}, page=link)
    assert done.status == 303


def test_the_suites_own_passwords_are_acceptable():
    assert len(accounts.COMMON_PASSWORDS) >= 10_000
    for password in [
        TEST_PASSWORD,
        "plum-kettle-41",
        "s3cret-pass",
        "brand-new-password",
        "another-password",
        "next-password-1",
        "a-rarer-choice-77",
        "p" * 999 + "Q",
    ]:
        assert accounts.password_error(password, username="ann", email="ann@example.com") is None
