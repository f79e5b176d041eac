"""The admin page: users and their roles. Admins only."""

from __future__ import annotations

from aiohttp import web

from service.domain import admin
from service.keys import sessionmaker_key
from service.models import ROLES
from service.reads import people
from service.reads.views import SessionUser
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import reading
from service.web.urls import url_for


def require_admin(request: web.Request) -> SessionUser:
    user = require_user(request)
    if not user.is_admin:
        raise Problem(403, "Only admins can do that.")
    return user


async def users(request: web.Request) -> web.Response:
    require_admin(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await people.accounts(reader, after, limit)
    return await render(request, "admin/users.html", {"page": page, "roles": ROLES})


async def set_role(request: web.Request) -> web.Response:
    acting = require_admin(request)
    username = request.match_info["username"]
    role = (await read_form(request)).get("role", "")
    if role not in ROLES:
        raise Problem(422, "Choose one of: " + ", ".join(ROLES) + ".")
    if username.lower() == acting.username.lower() and role != "admin":
        raise Problem(422, "You cannot remove your own admin role.")
    async with request.app[sessionmaker_key].begin() as db:
        if not await admin.set_role(db, username, role):
            raise Problem(404, "There is no user by that name.")
    await flash(request, f"@{username} is now {role}.", "success")
    raise redirect(url_for(request, "admin_users"))
