"""Forgotten passwords by email, and changing a password while signed in."""

from __future__ import annotations

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
