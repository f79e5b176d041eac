"""Signing up, as the instance's registration mode allows (docs/moderation.md): open to
all, with an admin's approval, with an invite, or not at all; invite links; and the page an
applicant waits on."""

from __future__ import annotations

from aiohttp import web
from babel.support import LazyProxy

from service.domain import accounts, ratelimit, registration
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import mail_templates_key, mail_worker_key, passwords_key, sessionmaker_key
from service.models import MAX_APPLICATION_REASON_CHARS
from service.reads import instance
from service.reads.views import InstanceView
from service.text import text_error, trim
from service.views.auth import form_fields, send_link
from service.views.common import absolute_url, client_address, count_hit, redirect, render
from service.web.flash import flash
from service.web.forms import read_form
from service.web.language import mail_language_of
from service.web.resources import reading
from service.web.urls import url_for
from service.workers.mail import compose, enqueue

CLOSED = lazy_gettext("This server is not taking new accounts at the moment.")
INVITE_NEEDED = lazy_gettext(
    "Sign-ups here are by invitation: open the invite link someone sent you."
)
INVITE_REFUSED = lazy_gettext(
    "That invite link can no longer be used: it expired, was used up or was revoked."
    " Ask the person who sent it for a new one."
)
RULES_NOT_ACCEPTED = lazy_gettext(
    "Tick the box to accept the rules: you cannot sign up without it."
)
# The checkbox's value: a form that sends anything else did not tick it.
ACCEPTED = "yes"


class InviteRefused(Exception):
    """The invite a sign-up came with cannot be used (any more)."""


async def _instance(request: web.Request) -> InstanceView:
    async with reading(request) as reader:
        return await instance.instance(reader)


async def _page(
    request: web.Request,
    site: InstanceView,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    invite: str = "",
    refusal: str | LazyProxy | None = None,
    status: int = 200,
) -> web.Response:
    """The sign-up page: the form the mode allows, or why there is none (``refusal``)."""
    context = {
        "form": form or {},
        "errors": errors or {},
        "instance": site,
        "invite": invite,
        "refusal": None if refusal is None else str(refusal),
        # With an invite nobody waits for approval (as on Mastodon): the inviter vouches.
        "asks_reason": site.approval_required and not invite,
        "shows_form": site.registration_mode != "closed" and (site.open_to_all or bool(invite)),
        "accepted": ACCEPTED,
    }
    return await render(request, "auth/signup.html", context, status)


async def signup_form(request: web.Request) -> web.Response:
    site = await _instance(request)
    refusal = {"closed": CLOSED, "invite": INVITE_NEEDED}.get(site.registration_mode)
    return await _page(request, site, refusal=refusal)


async def invite_form(request: web.Request) -> web.Response:
    """An invite link: the sign-up form carrying its code, while the invite may be used."""
    code = request.match_info["code"]
    async with reading(request) as reader:
        site = await instance.instance(reader)
        usable = await instance.usable_invite(reader, code)
    if site.registration_mode == "closed":
        return await _page(request, site, refusal=CLOSED)
    if not usable:
        return await _page(request, site, refusal=INVITE_REFUSED, status=404)
    return await _page(request, site, invite=code)


def _check(raw, site: InstanceView, invite: str) -> tuple[dict[str, str], dict[str, str], str, str]:
    """The fields kept for the form again, the errors by field, the normalised address and
    the reason an applicant gives."""
    form, errors = form_fields(raw, "username", "email", "password")
    username = form["username"].strip()
    email, email_error = accounts.normalize_email(form["email"].strip())
    errors.setdefault("username", accounts.username_error(username))
    errors.setdefault("email", email_error)
    errors.setdefault(
        "password",
        accounts.password_error(form["password"], username=username, email=form["email"].strip()),
    )
    reason = trim(raw.get("reason", ""))
    if site.approval_required and not invite:
        if not reason:
            errors["reason"] = _("Tell the admins why you want to join.")
        elif len(reason) > MAX_APPLICATION_REASON_CHARS:
            errors["reason"] = _("At most %(count)s characters.") % {
                "count": MAX_APPLICATION_REASON_CHARS
            }
        else:
            errors.setdefault("reason", text_error(reason, multiline=True))
    accepted = raw.get("accept_rules", "") == ACCEPTED
    if site.rules and not accepted:
        errors["accept_rules"] = str(RULES_NOT_ACCEPTED)
    keep = {
        "username": username,
        "email": form["email"],
        "reason": reason,
        "accept_rules": ACCEPTED if accepted else "",
    }
    errors = {field: message for field, message in errors.items() if message}
    return keep, errors, email or "", reason


async def signup(request: web.Request) -> web.Response:
    site = await _instance(request)
    if site.registration_mode == "closed":
        return await _page(request, site, refusal=CLOSED, status=403)
    raw = await read_form(request)
    invite = raw.get("invite", "").strip()
    if invite and not registration.INVITE_CODE.fullmatch(invite):
        return await _page(request, site, refusal=INVITE_REFUSED, status=403)
    if not invite and not site.open_to_all:
        return await _page(request, site, refusal=INVITE_NEEDED, status=403)
    keep, errors, email, reason = _check(raw, site, invite)
    if errors:
        return await _page(request, site, form=keep, errors=errors, invite=invite, status=422)
    await count_hit(request, ratelimit.SIGNUPS_PER_ADDRESS, client_address(request))
    applies = site.approval_required and not invite
    # Hashed whether or not the address turns out to be taken: both answers take as long.
    password_hash = await request.app[passwords_key].hash(raw.get("password", ""))
    try:
        async with request.app[sessionmaker_key].begin() as db:
            # The invite first: refused or not, it says nothing of whether the address has
            # an account. A sign-up that fails after it gives the use back (one transaction).
            if invite and not await registration.use_invite(db, invite):
                raise InviteRefused
            user = await accounts.create_user(db, keep["username"], email, password_hash)
            if applies:
                admins = await registration.apply(db, user.id, reason)
                if admins is not None:
                    _tell_admins(request, db, site, admins, user.username, reason)
            await send_link(request, db, user, "confirm")
    except InviteRefused:
        form = keep if site.open_to_all else None
        return await _page(request, site, form=form, refusal=INVITE_REFUSED, status=403)
    except accounts.DuplicateAccount as duplicate:
        # Usernames are public (every profile shows one); email addresses are not.
        if duplicate.field == "username":
            errors = {"username": _("That username is taken.")}
            return await _page(request, site, form=keep, errors=errors, invite=invite, status=422)
        await _tell_owner_of_signup(request, email)
    request.app[mail_worker_key].wake()
    # The same answer for a taken address as for a new account, and no login (being signed
    # in or not would tell the two apart): the inbox is where they differ.
    if applies:
        raise redirect(url_for(request, "signup_pending"))
    await flash(
        request,
        _("Welcome, %(username)s! Check your email to confirm your address, then log in.")
        % {"username": keep["username"]},
        "success",
    )
    raise redirect(url_for(request, "home"))


def _tell_admins(
    request: web.Request,
    db,
    site: InstanceView,
    admins: registration.AdminsToTell,
    username: str,
    reason: str,
) -> None:
    """Mail the admins that a sign-up waits for them (in the sign-up's unit of work)."""
    for address, language in admins.recipients:
        message = compose(
            request.app[mail_templates_key],
            "application_waiting",
            language=mail_language_of(request, language, caused_it=False),
            username=username,
            reason=reason,
            waiting=admins.waiting,
            instance_name=site.name,
            queue_link=absolute_url(request, "admin_applications"),
        )
        enqueue(db, address, message)


async def pending(request: web.Request) -> web.Response:
    """Where an applicant lands: their account waits for an admin."""
    return await render(request, "auth/pending.html", {"username": None})


async def _tell_owner_of_signup(request: web.Request, email: str) -> None:
    """Someone signed up with an address that has an account: tell its owner, at most a few
    times an hour (a stranger could otherwise fill their inbox)."""
    async with request.app[sessionmaker_key].begin() as db:
        owner = await accounts.user_by_email(db, email)
        if owner is None or await ratelimit.hit(db, ratelimit.SIGNUP_NOTICES_PER_EMAIL, email):
            return
        message = compose(
            request.app[mail_templates_key],
            "signup_taken",
            # Most likely the owner, signing up again: the language they are using.
            language=mail_language_of(request, owner.language, caused_it=True),
            user=owner,
            login_link=absolute_url(request, "login"),
            reset_link=absolute_url(request, "password_forgot"),
        )
        enqueue(db, owner.email, message)
