"""Sign-up: the happy path, the confirmation email, and every kind of bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from service.models import OutboxMail, User
from tests.support import csrf_for, message_link, submit


async def count_users(db, username: str) -> int:
    async with db() as session:
        return await session.scalar(
            select(func.count()).where(func.lower(User.username) == username.lower())
        )


async def test_signup_logs_in_sends_confirmation_and_link_confirms(client, mailbox, db, factory):
    username = factory.unique("ann")
    address = f"{username}@example.com"
    response = await submit(
        client,
        "/signup",
        {"username": username, "email": address, "password": "s3cret-pass"},
        page="/signup",
    )
    assert response.status == 303
    assert response.headers["Location"] == "/"
    home = await (await client.get("/")).text()
    assert "Check your email" in home
    assert "Confirm your email address to post" in home

    [message] = await mailbox.wait_for(address)
    assert "Confirm" in message["Subject"]
    link = message_link(message)
    assert link.startswith("/confirm/")
    # The link comes from app.public_url, never from the request's Host header.
    assert "http://snapline.test/confirm/" in message.get_body(("plain",)).get_content()

    confirmed = await client.get(link, allow_redirects=False)
    assert confirmed.status == 303
    home = await (await client.get("/")).text()
    assert "Your email address is confirmed" in home
    assert "Confirm your email address to post" not in home
    async with db() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user.email_confirmed_at is not None


async def test_confirmation_link_works_logged_out_and_only_once(
    client, make_client, mailbox, factory
):
    username = factory.unique()
    address = f"{username}@example.com"
    await submit(
        client,
        "/signup",
        {"username": username, "email": address, "password": "plum-kettle-41"},
        page="/signup",
    )
    link = message_link((await mailbox.wait_for(address))[0])

    stranger = await make_client(client)
    first = await stranger.get(link, allow_redirects=False)
    assert first.status == 303
    again = await stranger.get(link)
    assert again.status == 400
    assert "not valid" in await again.text()


async def test_duplicate_username_and_email_are_refused_case_insensitively(client, factory, db):
    existing = await factory.user()
    response = await submit(
        client,
        "/signup",
        {
            "username": existing.username.upper(),
            "email": "other@example.com",
            "password": "plum-kettle-41",
        },
        page="/signup",
    )
    assert response.status == 422
    assert "That username is taken." in await response.text()

    other = factory.unique()
    response = await submit(
        client,
        "/signup",
        {"username": other, "email": existing.email.upper(), "password": "plum-kettle-41"},
        page="/signup",
    )
    assert response.status == 422
    assert "already uses that email" in await response.text()
    assert await count_users(db, other) == 0


async def test_bad_fields_answer_422_with_messages_and_keep_input_but_not_password(
    client, db, factory
):
    username = factory.unique()
    cases = [
        (
            {"username": "ab", "email": "a@example.com", "password": "plum-kettle-41"},
            "3 to 30 characters",
        ),
        (
            {"username": "bad name!", "email": "a@example.com", "password": "plum-kettle-41"},
            "3 to 30 characters",
        ),
        (
            {"username": username, "email": "not-an-email", "password": "plum-kettle-41"},
            "valid email",
        ),
        ({"username": username, "email": "a@example.com", "password": "short"}, "at least 8"),
        ({"username": username, "email": "a@example.com", "password": "x" * 1025}, "at most 1024"),
        (
            {"username": username + "\x00", "email": "a@example.com", "password": "plum-kettle-41"},
            "not allowed",
        ),
    ]
    for form, message in cases:
        response = await submit(client, "/signup", form, page="/signup")
        body = await response.text()
        assert response.status == 422, form
        assert message in body, (form, body)
        assert 'class="field-error"' in body
        assert form["password"] not in body
    response = await submit(
        client,
        "/signup",
        {"username": username, "email": "not-an-email", "password": "plum-kettle-41"},
        page="/signup",
    )
    assert 'value="not-an-email"' in await response.text()
    assert f'value="{username}"' in await response.text()
    assert await count_users(db, username) == 0


async def test_invalid_utf8_is_a_400_and_changes_nothing(client, db, factory):
    username = factory.unique()
    token = await csrf_for(client, "/signup")
    body = f"csrf_token={token}&username={username}&email=x%40example.com&password=pass%FF%FEword1"
    response = await client.post(
        "/signup", data=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 400
    assert "UTF-8" in await response.text()
    assert await count_users(db, username) == 0


async def test_thousand_character_password_is_kept_whole(client, make_client, factory, mailbox):
    username = factory.unique()
    password = "p" * 999 + "Q"
    response = await submit(
        client,
        "/signup",
        {"username": username, "email": f"{username}@example.com", "password": password},
        page="/signup",
    )
    assert response.status == 303
    other = await make_client(client)
    truncated = await submit(
        other, "/login", {"login": username, "password": "p" * 999}, page="/login"
    )
    assert truncated.status == 422
    whole = await submit(other, "/login", {"login": username, "password": password}, page="/login")
    assert whole.status == 303


async def test_signup_succeeds_while_smtp_is_down_and_mail_arrives_later(
    client, smtp_server, mailbox, db, factory
):
    username = factory.unique()
    address = f"{username}@example.com"
    smtp_server.stop()
    try:
        response = await submit(
            client,
            "/signup",
            {"username": username, "email": address, "password": "plum-kettle-41"},
            page="/signup",
        )
        assert response.status == 303
        # The worker tries, fails and schedules a retry; the row waits in the outbox.
        async with db() as session:
            row = await session.scalar(select(OutboxMail).where(OutboxMail.recipient == address))
        assert row is not None and row.sent_at is None
    finally:
        smtp_server.start()
    [message] = await mailbox.wait_for(address)
    assert message_link(message).startswith("/confirm/")
