"""Confirmation links: expiry, tampering, and asking for a new one."""

from __future__ import annotations

from sqlalchemy import text

from tests.support import message_link, submit


async def signup(client, factory, mailbox) -> tuple[str, str]:
    username = factory.unique()
    address = f"{username}@example.com"
    response = await submit(
        client,
        "/signup",
        {"username": username, "email": address, "password": "plum-kettle-41"},
        page="/signup",
    )
    assert response.status == 303
    return address, message_link((await mailbox.wait_for(address))[0])


async def test_expired_link_is_refused(client, factory, mailbox, db):
    address, link = await signup(client, factory, mailbox)
    async with db.begin() as session:
        await session.execute(
            text(
                "UPDATE email_tokens SET expires_at = now() - interval '1 second' "
                "WHERE user_id = (SELECT id FROM users WHERE email = :email)"
            ),
            {"email": address},
        )
    response = await client.get(link)
    assert response.status == 400
    async with db() as session:
        confirmed = await session.scalar(
            text("SELECT email_confirmed_at FROM users WHERE email = :email"), {"email": address}
        )
    assert confirmed is None


async def test_link_is_valid_for_48_hours(client, factory, mailbox, db):
    address, _ = await signup(client, factory, mailbox)
    async with db() as session:
        lifetime = await session.scalar(
            text(
                "SELECT extract(epoch FROM expires_at - created_at) FROM email_tokens "
                "WHERE user_id = (SELECT id FROM users WHERE email = :email)"
            ),
            {"email": address},
        )
    assert abs(float(lifetime) - 48 * 3600) < 5


async def test_tampered_link_is_refused(client, factory, mailbox):
    _, link = await signup(client, factory, mailbox)
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    response = await client.get(tampered)
    assert response.status == 400


async def test_resend_sends_a_new_working_link_and_is_rate_limited(client, factory, mailbox):
    address, first = await signup(client, factory, mailbox)
    logged_in = await submit(
        client, "/login", {"login": address, "password": "plum-kettle-41"}, page="/login"
    )
    assert logged_in.status == 303
    response = await submit(client, "/confirm/resend")
    assert response.status == 303
    messages = await mailbox.wait_for(address, count=2)
    second = message_link(messages[1])
    assert second != first
    statuses = [(await submit(client, "/confirm/resend")).status for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert (await client.get(second, allow_redirects=False)).status == 303


async def test_resend_needs_a_login(client):
    response = await submit(client, "/confirm/resend")
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
