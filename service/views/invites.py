"""/settings/invites: invite links a person made, with their uses, to make more and revoke
them. Admins may always invite; others while the instance lets them (docs/moderation.md)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from service.domain import registration
from service.keys import sessionmaker_key
from service.reads import instance
from service.reads.views import InstanceView, SessionUser
from service.views.common import absolute_url, redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.params import path_id
from service.web.problems import Problem
from service.web.resources import reading
from service.web.urls import url_for

# The choices the form offers, as Mastodon's: how many sign-ups, and for how long (""
# is no limit), each with its label.
USES_OFFERED = [
    ("1", 1, "1 person"),
    ("5", 5, "5 people"),
    ("10", 10, "10 people"),
    ("25", 25, "25 people"),
    ("50", 50, "50 people"),
    ("100", 100, "100 people"),
    ("", None, "No limit"),
]
EXPIRY_OFFERED = [
    ("1800", timedelta(minutes=30), "30 minutes"),
    ("3600", timedelta(hours=1), "1 hour"),
    ("21600", timedelta(hours=6), "6 hours"),
    ("43200", timedelta(hours=12), "12 hours"),
    ("86400", timedelta(days=1), "1 day"),
    ("604800", timedelta(days=7), "7 days"),
    ("", None, "Never"),
]
MAX_USES_CHOICES = {value: uses for value, uses, _ in USES_OFFERED}
EXPIRY_CHOICES = {value: lasts for value, lasts, _ in EXPIRY_OFFERED}
DEFAULT_CHOICE = {"max_uses": "1", "expires_in": "604800"}
NOT_ALLOWED = "Only admins can invite people to this server."


def may_invite(user: SessionUser, site: InstanceView) -> bool:
    """Admins always; others with a confirmed address, while the instance lets them."""
    return user.is_admin or (site.invites_by_users and user.is_confirmed)


async def invites_page(request: web.Request) -> web.Response:
    return await _page(request, require_user(request), DEFAULT_CHOICE, {})


async def _page(
    request: web.Request,
    user: SessionUser,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    async with reading(request) as reader:
        site = await instance.instance(reader)
        invites = await instance.own_invites(reader, user.id)
    context = {
        "invites": [
            (invite, absolute_url(request, "invite", code=invite.code)) for invite in invites
        ],
        "may_invite": may_invite(user, site),
        "closed": site.registration_mode == "closed",
        "uses_choices": [(value, label) for value, _, label in USES_OFFERED],
        "expiry_choices": [(value, label) for value, _, label in EXPIRY_OFFERED],
        "form": form,
        "errors": errors,
    }
    return await render(request, "settings/invites.html", context, status)


async def create_invite(request: web.Request) -> web.Response:
    user = require_user(request)
    async with reading(request) as reader:
        site = await instance.instance(reader)
    if not may_invite(user, site):
        raise Problem(403, NOT_ALLOWED)
    raw = await read_form(request)
    form = {"max_uses": raw.get("max_uses", ""), "expires_in": raw.get("expires_in", "")}
    errors = {}
    if form["max_uses"] not in MAX_USES_CHOICES:
        errors["max_uses"] = "Choose one of the numbers offered."
    if form["expires_in"] not in EXPIRY_CHOICES:
        errors["expires_in"] = "Choose one of the times offered."
    if errors:
        return await _page(request, user, form, errors, 422)
    async with request.app[sessionmaker_key].begin() as db:
        await registration.create_invite(
            db, user.id, MAX_USES_CHOICES[form["max_uses"]], EXPIRY_CHOICES[form["expires_in"]]
        )
    await flash(request, "Your invite link is ready: copy it from the list.", "success")
    raise redirect(url_for(request, "settings_invites"))


async def revoke_invite(request: web.Request) -> web.Response:
    user = require_user(request)
    invite_id = path_id(request, "There is no such invite.")
    async with request.app[sessionmaker_key].begin() as db:
        if not await registration.revoke_invite(db, user.id, invite_id):
            raise Problem(404, "There is no such invite.")
    await flash(request, "The invite was revoked; its link no longer works.", "success")
    raise redirect(url_for(request, "settings_invites"))
