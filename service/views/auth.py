"""Confirm, log in and out, forgotten passwords (signing up: views/signup.py)."""

from __future__ import annotations

from aiohttp import web

from service.domain import accounts, deletion, ratelimit, registration
from service.domain import sessions as auth_sessions
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import mail_templates_key, mail_worker_key, passwords_key, sessionmaker_key
from service.security import safe_next
from service.text import text_error
from service.views.common import (
    absolute_url,
    client_address,
    count_hit,
    log_in,
    log_out,
    redirect,
    refund_attempt,
    render,
    reserve_attempt,
)
from service.web.auth import current_user, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.language import mail_language_of
from service.web.urls import url_for
from service.workers.mail import compose, enqueue

BAD_LOGIN = lazy_gettext("That login and password do not match an account.")
# Said only to whoever knows the password: nobody else learns that the account exists.
SUSPENDED = lazy_gettext("This account is suspended. Contact the people who run this site.")
DELETION_CANCELLED = lazy_gettext(
    "Welcome back! Your account is no longer going to be deleted: everything is as you left it."
)


def form_fields(form, *names: str) -> tuple[dict[str, str], dict[str, str]]:
    """The named fields as strings, and an error for each one with characters user text
    may not have (a username is a name: no invisible formatting either)."""
    values = {field: form.get(field, "") for field in names}
    errors = {
        field: message
        for field, value in values.items()
        if (message := text_error(value, name=field == "username"))
    }
    return values, errors


async def send_link(request: web.Request, db, user, purpose: str) -> None:
    token = await accounts.issue_token(db, user.id, purpose)
    route = "confirm" if purpose == "confirm" else "password_reset"
    template = "confirm" if purpose == "confirm" else "reset"
    link = absolute_url(request, route, token=token)
    # Asked for by the account's owner (a sign-up, a resend, a reset): in their language.
    language = mail_language_of(request, user.language, caused_it=True)
    message = compose(
        request.app[mail_templates_key], template, language=language, user=user, link=link
    )
    enqueue(db, user.email, message)


async def login_form(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    return await render(request, "auth/login.html", {"form": {"next": next_path}, "errors": {}})


async def login(request: web.Request) -> web.Response:
    form, errors = form_fields(await read_form(request), "login", "password", "next")
    login_name = form["login"].strip()
    next_path = safe_next(form["next"])
    keep = {"login": login_name, "next": next_path}
    if not login_name:
        errors.setdefault("login", _("Enter your username or email."))
    if not form["password"]:
        errors.setdefault("password", _("Enter your password."))
    if errors:
        return await render(request, "auth/login.html", {"form": keep, "errors": errors}, 422)
    passwords = request.app[passwords_key]
    async with request.app[sessionmaker_key]() as db:
        user = None
        if len(login_name) <= accounts.MAX_EMAIL_CHARS:
            user = await accounts.user_by_login(db, login_name)
    # One count per account however it is named (username or email, in any case); logins
    # that match no account are counted by their normalised spelling.
    account_key = f"user:{user.id}" if user else f"login:{accounts.normalize_login(login_name)}"
    # Counted before the password is checked: simultaneous guesses cannot all slip past the
    # limit before any of them is counted.
    attempt = await reserve_attempt(
        request,
        (ratelimit.LOGIN_FAILURES_PER_ADDRESS, client_address(request)),
        (ratelimit.LOGIN_FAILURES_PER_ACCOUNT, account_key),
    )
    password = form["password"][: accounts.MAX_PASSWORD_CHARS + 1]
    # Unknown accounts are verified against a dummy hash: same time, same answer.
    verified = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not verified:
        return await render(
            request, "auth/login.html", {"form": keep, "errors": {"login": str(BAD_LOGIN)}}, 422
        )
    # The right password is no guess: the limits count failures only.
    await refund_attempt(request, attempt)
    if user.suspended_at is not None:
        context = {
            "form": keep,
            "errors": {"login": str(SUSPENDED)},
            "suspension_reason": user.suspension_reason,
        }
        return await render(request, "auth/login.html", context, 403)
    async with request.app[sessionmaker_key]() as db:
        waiting = await registration.awaiting_approval(db, user.id)
    if waiting:
        return await render(request, "auth/pending.html", {"username": user.username}, 403)
    came_back = False
    if user.deletion_due_at is not None:
        # Logging in is how an owner takes back the deletion they asked for.
        async with request.app[sessionmaker_key].begin() as db:
            came_back = await deletion.cancel_deletion(db, user.id)
        if came_back is None:  # its grace period ended while this login was checked
            return await render(
                request, "auth/login.html", {"form": keep, "errors": {"login": str(BAD_LOGIN)}}, 422
            )
    if passwords.needs_rehash(user.password_hash):
        new_hash = await passwords.hash(password)
        async with request.app[sessionmaker_key].begin() as db:
            await accounts.store_password_hash(db, user.id, new_hash)
    await log_in(request, user)
    if came_back:
        await flash(request, str(DELETION_CANCELLED), "success")
    raise redirect(next_path)


async def logout(request: web.Request) -> web.Response:
    await log_out(request)
    await flash(request, _("You have logged out."), "info")
    raise redirect(url_for(request, "home"))


async def confirm(request: web.Request) -> web.Response:
    # The one GET that changes state: a link in an email can only be followed with GET.
    async with request.app[sessionmaker_key].begin() as db:
        user = await accounts.confirm_email(db, request.match_info["token"])
        waiting = user is not None and await registration.awaiting_approval(db, user.id)
    if user is None:
        return await render(request, "auth/link_invalid.html", {"purpose": "confirm"}, 400)
    if waiting:
        await flash(request, _("Your email address is confirmed."), "success")
        raise redirect(url_for(request, "signup_pending"))
    if current_user(request) is None:
        await flash(request, _("Your email address is confirmed. Log in to start."), "success")
        raise redirect(str(request.app.router["login"].url_for()))
    await flash(request, _("Your email address is confirmed. Welcome to Snapline!"), "success")
    raise redirect(url_for(request, "home"))


async def confirm_resend(request: web.Request) -> web.Response:
    user = require_user(request)
    if user.is_confirmed:
        await flash(request, _("Your email address is already confirmed."), "info")
        raise redirect(url_for(request, "home"))
    await count_hit(request, ratelimit.CONFIRM_MAILS_PER_USER, str(user.id))
    async with request.app[sessionmaker_key].begin() as db:
        await send_link(request, db, user, "confirm")
    request.app[mail_worker_key].wake()
    sent = _("We sent a new confirmation link to %(email)s.") % {"email": user.email}
    await flash(request, sent, "success")
    raise redirect(url_for(request, "home"))


async def forgot_form(request: web.Request) -> web.Response:
    return await render(request, "auth/forgot.html", {"form": {}, "errors": {}})


async def forgot(request: web.Request) -> web.Response:
    form, errors = form_fields(await read_form(request), "email")
    email, email_error = accounts.normalize_email(form["email"].strip())
    if email_error:
        errors.setdefault("email", email_error)
    if errors:
        return await render(request, "auth/forgot.html", {"form": form, "errors": errors}, 422)
    await count_hit(request, ratelimit.RESET_MAILS_PER_ADDRESS, client_address(request))
    await count_hit(request, ratelimit.RESET_MAILS_PER_EMAIL, email)
    async with request.app[sessionmaker_key].begin() as db:
        user = await accounts.user_by_email(db, email)
        if user is not None:
            await send_link(request, db, user, "reset")
    request.app[mail_worker_key].wake()
    # The same answer whether or not the address has an account: no enumeration.
    await flash(
        request,
        _("If an account uses that address, we have sent it a link to choose a new password."),
        "info",
    )
    raise redirect(url_for(request, "login"))


async def reset_form(request: web.Request) -> web.Response:
    async with request.app[sessionmaker_key]() as db:
        user = await accounts.token_user(db, request.match_info["token"], "reset")
    if user is None:
        return await render(request, "auth/link_invalid.html", {"purpose": "reset"}, 400)
    return await render(request, "auth/reset.html", {"errors": {}})


async def reset(request: web.Request) -> web.Response:
    form, errors = form_fields(await read_form(request), "password")
    async with request.app[sessionmaker_key]() as db:
        owner = await accounts.token_user(db, request.match_info["token"], "reset")
    if owner is None:
        return await render(request, "auth/link_invalid.html", {"purpose": "reset"}, 400)
    errors.setdefault(
        "password",
        accounts.password_error(form["password"], username=owner.username, email=owner.email),
    )
    errors = {field: message for field, message in errors.items() if message}
    if errors:
        return await render(request, "auth/reset.html", {"errors": errors}, 422)
    password_hash = await request.app[passwords_key].hash(form["password"])
    async with request.app[sessionmaker_key].begin() as db:
        user_id = await accounts.reset_password(db, request.match_info["token"], password_hash)
        if user_id is not None:
            await auth_sessions.end_other_sessions(db, user_id, keep_secret=None)
    if user_id is None:
        return await render(request, "auth/link_invalid.html", {"purpose": "reset"}, 400)
    if current_user(request) is not None:
        await log_out(request)
    changed = _("Your password has been changed. Log in with the new one.")
    await flash(request, changed, "success")
    raise redirect(url_for(request, "login"))
