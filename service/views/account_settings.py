"""The signed-in user's own settings: profile fields and password."""

from __future__ import annotations

from aiohttp import web

from service.domain import accounts, profiles
from service.domain import sessions as auth_sessions
from service.keys import passwords_key, sessionmaker_key
from service.text import has_forbidden_characters
from service.views.common import redirect, render
from service.web.auth import current_session_secret, require_user
from service.web.flash import flash
from service.web.forms import read_form

routes = web.RouteTableDef()

WRONG_PASSWORD = "That is not your current password."


@routes.get("/settings/profile", name="settings_profile")
async def profile_form(request: web.Request) -> web.Response:
    user = require_user(request)
    form = {"display_name": user.display_name, "location": user.location, "bio": user.bio}
    return await render(request, "settings/profile.html", {"form": form, "errors": {}})


@routes.post("/settings/profile")
async def profile(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await read_form(request)
    values = {name: form.get(name, "").strip() for name in profiles.PROFILE_LIMITS}
    errors = profiles.profile_errors(values)
    if errors:
        return await render(
            request, "settings/profile.html", {"form": values, "errors": errors}, 422
        )
    async with request.app[sessionmaker_key].begin() as db:
        await profiles.update_profile(db, user.id, **values)
    await flash(request, "Your profile has been saved.", "success")
    raise redirect(str(request.app.router["settings_profile"].url_for()))


@routes.get("/settings/password", name="settings_password")
async def password_form(request: web.Request) -> web.Response:
    require_user(request)
    return await render(request, "settings/password.html", {"errors": {}})


@routes.post("/settings/password")
async def password(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await read_form(request)
    current, new = form.get("current_password", ""), form.get("new_password", "")
    errors: dict[str, str] = {}
    if has_forbidden_characters(new):
        errors["new_password"] = "Contains characters that are not allowed."
    elif message := accounts.password_error(new):
        errors["new_password"] = message
    passwords = request.app[passwords_key]
    if not await passwords.verify(user.password_hash, current[: accounts.MAX_PASSWORD_CHARS + 1]):
        errors["current_password"] = WRONG_PASSWORD
    if errors:
        return await render(request, "settings/password.html", {"errors": errors}, 422)
    new_hash = await passwords.hash(new)
    async with request.app[sessionmaker_key].begin() as db:
        await accounts.change_password(db, user.id, new_hash)
        # Whoever else holds a session (a stolen cookie, a forgotten laptop) is logged out.
        await auth_sessions.end_other_sessions(db, user.id, await current_session_secret(request))
    await flash(
        request, "Your password has been changed. Other sessions were logged out.", "success"
    )
    raise redirect(str(request.app.router["settings_password"].url_for()))
