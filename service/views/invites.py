"""/settings/invites: invite links a person made, with their uses, to make more and revoke
them. Admins may always invite; others while the instance lets them (docs/moderation.md)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from service.domain import registration
from service.i18n import gettext as _
from service.i18n import lazy_gettext
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
    ("1", 1, lazy_gettext("1 person")),
    ("5", 5, lazy_gettext("5 people")),
    ("10", 10, lazy_gettext("10 people")),
    ("25", 25, lazy_gettext("25 people")),
    ("50", 50, lazy_gettext("50 people")),
    ("100", 100, lazy_gettext("100 people")),
    ("", None, lazy_gettext("No limit")),
]
EXPIRY_OFFERED = [
    ("1800", timedelta(minutes=30), lazy_gettext("30 minutes")),
    ("3600", timedelta(hours=1), lazy_gettext("1 hour")),
    ("21600", timedelta(hours=6), lazy_gettext("6 hours")),
    ("43200", timedelta(hours=12), lazy_gettext("12 hours")),
    ("86400", timedelta(days=1), lazy_gettext("1 day")),
    ("604800", timedelta(days=7), lazy_gettext("7 days")),
    ("", None, lazy_gettext("Never")),
]
MAX_USES_CHOICES = {value: uses for value, uses, _label in USES_OFFERED}
EXPIRY_CHOICES = {value: lasts for value, lasts, _label in EXPIRY_OFFERED}
DEFAULT_CHOICE = {"max_uses": "1", "expires_in": "604800"}
NOT_ALLOWED = lazy_gettext("Only admins can invite people to this server.")


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
        "uses_choices": [(value, str(label)) for value, _uses, label in USES_OFFERED],
        "expiry_choices": [(value, str(label)) for value, _lasts, label in EXPIRY_OFFERED],
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
        errors["max_uses"] = _("Choose one of the numbers offered.")
    if form["expires_in"] not in EXPIRY_CHOICES:
        errors["expires_in"] = _("Choose one of the times offered.")
    if errors:
        return await _page(request, user, form, errors, 422)
    async with request.app[sessionmaker_key].begin() as db:
        await registration.create_invite(
            db, user.id, MAX_USES_CHOICES[form["max_uses"]], EXPIRY_CHOICES[form["expires_in"]]
        )
    await flash(request, _("Your invite link is ready: copy it from the list."), "success")
    raise redirect(url_for(request, "settings_invites"))


async def revoke_invite(request: web.Request) -> web.Response:
    user = require_user(request)
    invite_id = path_id(request, _("There is no such invite."))
    async with request.app[sessionmaker_key].begin() as db:
        if not await registration.revoke_invite(db, user.id, invite_id):
            raise Problem(404, _("There is no such invite."))
    await flash(request, _("The invite was revoked; its link no longer works."), "success")
    raise redirect(url_for(request, "settings_invites"))
