"""The admin pages: users and their roles, and the sign-ups waiting for approval. Admins
only."""

from __future__ import annotations

from aiohttp import web

from service.domain import admin, registration
from service.i18n import gettext as _
from service.i18n import lazy_gettext, pgettext
from service.keys import mail_templates_key, mail_worker_key, sessionmaker_key
from service.models import ROLES
from service.reads import instance, people
from service.reads.views import SessionUser
from service.views.common import absolute_url, redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.language import mail_language_of
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import reading
from service.web.urls import url_for
from service.workers.mail import compose, enqueue

# What an admin is told once a role is given: one sentence for each role.
ROLE_GIVEN = {
    "user": lazy_gettext("@%(username)s is now user."),
    "moderator": lazy_gettext("@%(username)s is now moderator."),
    "admin": lazy_gettext("@%(username)s is now admin."),
}
assert tuple(ROLE_GIVEN) == ROLES


def role_names() -> dict[str, str]:
    """Each role as the role menu names it, in the language in use."""
    return {
        "user": pgettext("role", "user"),
        "moderator": pgettext("role", "moderator"),
        "admin": pgettext("role", "admin"),
    }


def require_admin(request: web.Request) -> SessionUser:
    user = require_user(request)
    if not user.is_admin:
        raise Problem(403, _("Only admins can do that."))
    return user


async def users(request: web.Request) -> web.Response:
    require_admin(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await people.accounts(reader, after, limit)
    context = {"page": page, "roles": ROLES, "role_names": role_names()}
    return await render(request, "admin/users.html", context)


async def set_role(request: web.Request) -> web.Response:
    acting = require_admin(request)
    username = request.match_info["username"]
    role = (await read_form(request)).get("role", "")
    if role not in ROLES:
        raise Problem(422, _("Choose one of: %(roles)s.") % {"roles": ", ".join(ROLES)})
    if username.lower() == acting.username.lower() and role != "admin":
        raise Problem(422, _("You cannot remove your own admin role."))
    async with request.app[sessionmaker_key].begin() as db:
        if not await admin.set_role(db, username, role):
            raise Problem(404, _("There is no user by that name."))
    await flash(request, str(ROLE_GIVEN[role]) % {"username": username}, "success")
    raise redirect(url_for(request, "admin_users"))


async def applications(request: web.Request) -> web.Response:
    """The queue of sign-ups waiting for an admin, newest first."""
    require_admin(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await instance.applications(reader, after, limit)
    return await render(request, "admin/applications.html", {"page": page})


async def _decide(request: web.Request, approved: bool) -> web.Response:
    require_admin(request)
    username = request.match_info["username"]
    async with reading(request) as reader:
        site = await instance.instance(reader)
    decide = registration.approve if approved else registration.reject
    async with request.app[sessionmaker_key].begin() as db:
        user = await decide(db, username)
        if user is None:
            raise Problem(404, _("No sign-up by that name is waiting."))
        template = "application_approved" if approved else "application_rejected"
        message = compose(
            request.app[mail_templates_key],
            template,
            language=mail_language_of(request, user.language, caused_it=False),
            username=user.username,
            instance_name=site.name,
            login_link=absolute_url(request, "login"),
        )
        enqueue(db, user.email, message)
    request.app[mail_worker_key].wake()
    if approved:
        told = _("@%(username)s was approved: they may log in now. We emailed them.")
    else:
        told = _("@%(username)s was rejected and the account removed. We emailed them.")
    await flash(request, told % {"username": user.username}, "success")
    raise redirect(url_for(request, "admin_applications"))


async def approve(request: web.Request) -> web.Response:
    return await _decide(request, approved=True)


async def reject(request: web.Request) -> web.Response:
    return await _decide(request, approved=False)
