"""Sign-up: the happy path, the confirmation email, and every kind of bad input."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service.domain import ratelimit
from service.models import OutboxMail, User
from tests.support import csrf_for, message_link, submit
from tests.test_login import is_logged_in

CSRF_TOKEN = re.compile(
    r'(?<=name="csrf-token" content=")[^"]+|(?<=name="csrf_token" value=")[^"]+'
)
RELATIVE_TIME = re.compile(r"(<time [^>]*>)[^<]*(</time>)")


async def count_users(db, username: str) -> int:
    async with db() as session:
        return await session.scalar(
            select(func.count()).where(func.lower(User.username) == username.lower())
        )


async def test_signup_sends_confirmation_and_link_confirms(client, mailbox, db, factory):
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
    assert "Check your email to confirm your address, then log in." in home
    assert not await is_logged_in(client)

    [message] = await mailbox.wait_for(address)
    assert "Confirm" in message["Subject"]
    link = message_link(message)
    assert link.startswith("/confirm/")
    # The link comes from app.public_url, never from the request's Host header.
    assert "http://snapline.test/confirm/" in message.get_body(("plain",)).get_content()

    confirmed = await client.get(link, allow_redirects=False)
    assert confirmed.status == 303
    assert confirmed.headers["Location"] == "/login"
    login_page = await (await client.get("/login")).text()
    assert "Your email address is confirmed" in login_page
    logged_in = await submit(
        client, "/login", {"login": username, "password": "s3cret-pass"}, page="/login"
    )
    assert logged_in.status == 303
    home = await (await client.get("/")).text()
    assert "Confirm your email address to post" not in home
    assert await is_logged_in(client)
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


async def test_duplicate_username_is_refused_case_insensitively(client, factory, db):
    existing = await factory.user()
    other_address = f"{factory.unique()}@example.com"
    response = await submit(
        client,
        "/signup",
        {
            "username": existing.username.upper(),
            "email": other_address,
            "password": "plum-kettle-41",
        },
        page="/signup",
    )
    assert response.status == 422
    assert "That username is taken." in await response.text()
    async with db() as session:
        assert await session.scalar(select(func.count()).where(User.email == other_address)) == 0


def comparable(html: str, username: str) -> str:
    """A page with what differs between two browsers anyway (their CSRF tokens and the
    username each typed) blanked out, and what differs between two moments (how long ago
    the posts it shows were made: "just now" turns "1 min ago" between the two)."""
    html = RELATIVE_TIME.sub(r"\1\2", html)
    return CSRF_TOKEN.sub("TOKEN", html).replace(username, "USERNAME")


async def test_signup_with_a_taken_email_answers_like_a_new_one_and_mails_the_owner(
    client, make_client, mailbox, factory, db
):
    existing = await factory.user()
    newcomer, intruder = factory.unique(), factory.unique()
    new_browser, taken_browser = await make_client(client), await make_client(client)
    answers = {}
    for browser, username, address in [
        (new_browser, newcomer, f"{newcomer}@example.com"),
        (taken_browser, intruder, f" {existing.email.upper()} "),
    ]:
        response = await submit(
            browser,
            "/signup",
            {"username": username, "email": address, "password": "plum-kettle-41"},
            page="/signup",
        )
        page = await browser.get(response.headers.get("Location", "/signup"))
        answers[username] = (
            response.status,
            response.headers.get("Location"),
            page.status,
            comparable(await page.text(), username),
            await is_logged_in(browser),
        )
    assert answers[newcomer] == answers[intruder]
    assert answers[intruder][:2] == (303, "/")
    assert "Check your email" in answers[intruder][3]
    assert await count_users(db, intruder) == 0

    [notice] = await mailbox.wait_for(existing.email)
    assert "sign up" in notice["Subject"]
    text = notice.get_body(("plain",)).get_content()
    assert existing.username in text
    assert "http://snapline.test/login" in text
    assert "http://snapline.test/password/forgot" in text
    assert "plum-kettle-41" not in notice.as_string()
    [welcome] = await mailbox.wait_for(f"{newcomer}@example.com")
    assert message_link(welcome).startswith("/confirm/")


async def test_taken_email_notices_are_few_per_hour(client, mailbox, factory, db):
    existing = await factory.user()
    for _ in range(5):
        username = factory.unique()
        response = await submit(
            client,
            "/signup",
            {"username": username, "email": existing.email, "password": "plum-kettle-41"},
            page="/signup",
        )
        assert response.status == 303
    async with db() as session:
        queued = await session.scalar(
            select(func.count()).where(OutboxMail.recipient == existing.email)
        )
    assert queued == ratelimit.SIGNUP_NOTICES_PER_EMAIL.hits
    await mailbox.wait_for(existing.email, count=queued)


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
