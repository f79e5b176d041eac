"""/settings/apps and /settings/tokens: the apps a person has connected to their account,
and their personal access tokens (for scripts and bots), each revocable at once."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from aiohttp import web

from service import scopes
from service.domain import oauth
from service.i18n import gettext as _
from service.keys import sessionmaker_key, token_cache_key
from service.reads import tokens
from service.reads.views import OwnToken, SessionUser
from service.text import text_error, trim
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.params import path_id
from service.web.resources import reading

MAX_TOKEN_NAME_CHARS = 100
# The choices the token form offers: the broad scopes, then the granular ones.
OFFERED_SCOPES = [
    *(scope for scope in scopes.TOP_LEVEL if scope != "push"),
    *(f"{group}:{name}" for group, names in scopes.GRANULAR.items() for name in names),
]


@dataclasses.dataclass(frozen=True)
class ConnectedApp:
    id: int
    name: str
    website: str | None
    scopes: str
    since: datetime
    tokens: int


def _connected(own: list[OwnToken]) -> list[ConnectedApp]:
    by_app: dict[int, list[OwnToken]] = {}
    for token in own:
        if token.app_id is not None:
            by_app.setdefault(token.app_id, []).append(token)
    return [
        ConnectedApp(
            app_id, held[0].app_name or "", held[0].app_website,
            scopes.text_of(frozenset().union(*(token.scopes for token in held))),
            min(token.created_at for token in held), len(held),
        )
        for app_id, held in by_app.items()
    ]  # fmt: skip


async def _own(request: web.Request, user: SessionUser) -> list[OwnToken]:
    async with reading(request) as reader:
        return await tokens.own_tokens(reader, user.id)


async def connected_apps(request: web.Request) -> web.Response:
    user = require_user(request)
    apps = _connected(await _own(request, user))
    return await render(request, "settings/apps.html", {"apps": apps})


def _forget(request: web.Request, revoked: list[bytes]) -> None:
    # At once in this process; the others hear it from the database (migration 0010).
    cache = request.app[token_cache_key]
    for token_hash in revoked:
        cache.revoked(token_hash)


def _target_id(request: web.Request) -> int:
    return path_id(request, _("There is no such app or token."))


async def revoke_app(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        revoked = await oauth.revoke_app(db, user.id, _target_id(request))
    _forget(request, revoked)
    if revoked:
        await flash(request, _("The app was disconnected; its access ended at once."), "success")
    raise redirect(str(request.app.router["settings_apps"].url_for()))


async def _tokens_page(
    request: web.Request,
    user: SessionUser,
    form: dict[str, object],
    errors: dict[str, str],
    status: int = 200,
    created: str | None = None,
) -> web.Response:
    personal = [token for token in await _own(request, user) if token.app_id is None]
    context = {
        "tokens": [(token, scopes.text_of(token.scopes)) for token in personal],
        "offered": [(scope, scopes.describe(scope)) for scope in OFFERED_SCOPES],
        "form": form,
        "errors": errors,
        "created": created,
    }
    response = await render(request, "settings/tokens.html", context, status)
    if created is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


async def personal_tokens(request: web.Request) -> web.Response:
    user = require_user(request)
    return await _tokens_page(request, user, {"name": "", "scopes": ["read"]}, {})


async def create_token(request: web.Request) -> web.Response:
    """The new token is shown on the answer to this form and never again: only its hash
    is kept."""
    user = require_user(request)
    form = await read_form(request)
    name = trim(form.get("name", ""))
    chosen = form.getall("scopes", [])
    values = {"name": name, "scopes": chosen}
    errors = {}
    if not name:
        errors["name"] = _("Give the token a name, to know it again.")
    elif len(name) > MAX_TOKEN_NAME_CHARS:
        errors["name"] = _("At most %(count)s characters.") % {"count": MAX_TOKEN_NAME_CHARS}
    elif message := text_error(name):
        errors["name"] = message
    granted = frozenset(chosen)
    if not granted:
        errors["scopes"] = _("Choose at least one scope.")
    elif not granted <= scopes.KNOWN:
        errors["scopes"] = _("Choose among the scopes listed.")
    if errors:
        return await _tokens_page(request, user, values, errors, 422)
    async with request.app[sessionmaker_key].begin() as db:
        issued = await oauth.personal_token(db, user.id, name, granted)
    return await _tokens_page(
        request, user, {"name": "", "scopes": ["read"]}, {}, 201, created=issued.token
    )


async def revoke_token(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        revoked = await oauth.revoke_own_token(db, user.id, _target_id(request))
    _forget(request, revoked)
    if revoked:
        await flash(request, _("The token was revoked; it stopped working at once."), "success")
    raise redirect(str(request.app.router["settings_tokens"].url_for()))
