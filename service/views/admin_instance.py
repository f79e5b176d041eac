"""The admins' settings of the instance (/admin/settings): how people may sign up, its
name, description and contact, and its rules. Admins only."""

from __future__ import annotations

from aiohttp import web

from service.domain import accounts, registration
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import sessionmaker_key
from service.models import (
    MAX_INSTANCE_DESCRIPTION_CHARS,
    MAX_INSTANCE_NAME_CHARS,
    MAX_RULE_CHARS,
    REGISTRATION_MODES,
)
from service.reads import instance
from service.text import text_error, trim
from service.views.admin import require_admin
from service.views.common import redirect, render
from service.web.flash import flash
from service.web.forms import read_form
from service.web.params import path_id
from service.web.problems import Problem
from service.web.resources import reading
from service.web.urls import url_for

MODE_LABELS = {
    "open": lazy_gettext("Open: anyone may sign up"),
    "approval": lazy_gettext("Approval: anyone may ask; an admin approves each account"),
    "invite": lazy_gettext("Invite only: sign-ups need an invite link"),
    "closed": lazy_gettext("Closed: nobody may sign up"),
}
NO_SUCH_RULE = lazy_gettext("There is no such rule.")
# The checkbox's value: a form that sends anything else did not tick it.
TICKED = "yes"


async def _page(
    request: web.Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    rule_form: dict[str, str] | None = None,
    rule_errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The settings page; ``rule_form`` and ``rule_errors`` by rule id ("new" for the
    rule being added) hold what an admin typed into a rule that could not be saved."""
    async with reading(request) as reader:
        site = await instance.instance(reader)
    if form is None:
        form = {
            "registration_mode": site.registration_mode,
            "invites_by_users": TICKED if site.invites_by_users else "",
            "name": site.name,
            "description": site.description,
            "contact_email": site.contact_email,
        }
    context = {
        "instance": site,
        "form": form,
        "errors": errors or {},
        "rule_form": rule_form or {},
        "rule_errors": rule_errors or {},
        "modes": [(mode, MODE_LABELS[mode]) for mode in REGISTRATION_MODES],
        "ticked": TICKED,
        "max_rules": registration.MAX_RULES,
    }
    return await render(request, "admin/settings.html", context, status)


async def settings_page(request: web.Request) -> web.Response:
    require_admin(request)
    return await _page(request)


def _settings_of(raw) -> tuple[dict[str, str], dict[str, str]]:
    form = {
        "registration_mode": raw.get("registration_mode", ""),
        "invites_by_users": TICKED if raw.get("invites_by_users") == TICKED else "",
        "name": trim(raw.get("name", "")),
        "description": trim(raw.get("description", "")),
        "contact_email": trim(raw.get("contact_email", "")),
    }
    errors: dict[str, str | None] = {}
    if form["registration_mode"] not in REGISTRATION_MODES:
        errors["registration_mode"] = _("Choose one of the ways to sign up.")
    if not form["name"]:
        errors["name"] = _("Give the server a name.")
    elif len(form["name"]) > MAX_INSTANCE_NAME_CHARS:
        errors["name"] = _("At most %(count)s characters.") % {"count": MAX_INSTANCE_NAME_CHARS}
    else:
        errors["name"] = text_error(form["name"], name=True)
    if len(form["description"]) > MAX_INSTANCE_DESCRIPTION_CHARS:
        errors["description"] = _("At most %(count)s characters.") % {
            "count": MAX_INSTANCE_DESCRIPTION_CHARS
        }
    else:
        errors["description"] = text_error(form["description"], multiline=True)
    if form["contact_email"]:
        email, errors["contact_email"] = accounts.normalize_email(form["contact_email"])
        form["contact_email"] = email or form["contact_email"]
    return form, {field: message for field, message in errors.items() if message}


async def save_settings(request: web.Request) -> web.Response:
    require_admin(request)
    form, errors = _settings_of(await read_form(request))
    if errors:
        return await _page(request, form, errors, status=422)
    settings = registration.SiteSettings(
        registration_mode=form["registration_mode"],
        invites_by_users=form["invites_by_users"] == TICKED,
        name=form["name"],
        description=form["description"],
        contact_email=form["contact_email"],
    )
    async with request.app[sessionmaker_key].begin() as db:
        await registration.save_settings(db, settings)
    await flash(request, _("The settings are saved; they apply from now on."), "success")
    raise redirect(url_for(request, "admin_settings"))


def _rule_text(raw) -> tuple[str, str | None]:
    value = trim(raw.get("text", ""))
    if not value:
        return value, _("Write the rule, or delete it.")
    if len(value) > MAX_RULE_CHARS:
        return value, _("At most %(count)s characters.") % {"count": MAX_RULE_CHARS}
    return value, text_error(value)


def _back(request: web.Request) -> web.HTTPSeeOther:
    return redirect(url_for(request, "admin_settings") + "#rules")


async def add_rule(request: web.Request) -> web.Response:
    require_admin(request)
    value, error = _rule_text(await read_form(request))
    if error:
        return await _page(
            request, rule_form={"new": value}, rule_errors={"new": error}, status=422
        )
    async with request.app[sessionmaker_key].begin() as db:
        added = await registration.add_rule(db, value)
    if added is None:
        full = _("There are %(count)s rules already: edit or delete one first.") % {
            "count": registration.MAX_RULES
        }
        return await _page(request, rule_form={"new": value}, rule_errors={"new": full}, status=422)
    await flash(request, _("The rule is added."), "success")
    raise _back(request)


async def edit_rule(request: web.Request) -> web.Response:
    require_admin(request)
    rule_id = path_id(request, NO_SUCH_RULE)
    value, error = _rule_text(await read_form(request))
    if error:
        key = str(rule_id)
        return await _page(request, rule_form={key: value}, rule_errors={key: error}, status=422)
    async with request.app[sessionmaker_key].begin() as db:
        if not await registration.edit_rule(db, rule_id, value):
            raise Problem(404, NO_SUCH_RULE)
    await flash(request, _("The rule is saved."), "success")
    raise _back(request)


async def move_rule(request: web.Request) -> web.Response:
    require_admin(request)
    rule_id = path_id(request, NO_SUCH_RULE)
    step = {"up": -1, "down": 1}.get((await read_form(request)).get("direction", ""))
    if step is None:
        raise Problem(422, _("Move a rule up or down."))
    async with request.app[sessionmaker_key].begin() as db:
        if not await registration.move_rule(db, rule_id, step):
            raise Problem(404, NO_SUCH_RULE)
    raise _back(request)


async def delete_rule(request: web.Request) -> web.Response:
    require_admin(request)
    rule_id = path_id(request, NO_SUCH_RULE)
    async with request.app[sessionmaker_key].begin() as db:
        if not await registration.delete_rule(db, rule_id):
            raise Problem(404, NO_SUCH_RULE)
    await flash(request, _("The rule is deleted."), "success")
    raise _back(request)
