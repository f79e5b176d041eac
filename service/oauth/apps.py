"""/api/v1/apps: registering an app, and an app's look at its own credentials."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service import scopes
from service.api.common import json_response
from service.domain import oauth, ratelimit
from service.i18n import gettext
from service.keys import sessionmaker_key
from service.oauth.common import (
    MAX_REDIRECT_URIS,
    OOB,
    read_params,
    redirect_uri_error,
    text_param,
)
from service.reads import tokens
from service.reads.views import OAuthAppView
from service.text import text_error, trim
from service.web.auth import current_token
from service.web.resources import reading
from service.web.tokens import invalid_token

# Anyone may register apps; this many per address keeps a script from filling the table.
APPS_PER_ADDRESS = ratelimit.Limit("oauth-app-address", 30, 5 * 60)
MAX_NAME_CHARS = 100
MAX_WEBSITE_CHARS = 2000


def _unprocessable(message: str) -> web.Response:
    # Mastodon's validation answer.
    return json_response({"error": f"Validation failed: {message}"}, status=422)


def application(
    app: OAuthAppView | oauth.RegisteredApp | None,
    name: str,
    website: str | None,
    redirect_uris: list[str],
    app_scopes: frozenset[str],
) -> dict[str, Any]:
    """Mastodon's Application entity."""
    return {
        "id": str(app.id) if app is not None else None,
        "name": name,
        "website": website,
        "scopes": scopes.text_of(app_scopes).split(),
        "redirect_uri": "\n".join(redirect_uris),
        "redirect_uris": redirect_uris,
    }


async def create(request: web.Request) -> web.Response:
    params = await read_params(request, lists=frozenset({"redirect_uris"}))
    name = trim(text_param(params, "client_name") or "")
    if not name:
        return _unprocessable("Application name can't be blank")
    if len(name) > MAX_NAME_CHARS or text_error(name):
        return _unprocessable(f"Application name must be at most {MAX_NAME_CHARS} characters")
    given = params.get("redirect_uris") or OOB
    # One string of URIs separated by new lines (Mastodon's form), or a list of them.
    uris = [uri for item in ([given] if isinstance(given, str) else given) for uri in item.split()]
    uris = list(dict.fromkeys(uri for uri in uris if uri))
    if not uris or len(uris) > MAX_REDIRECT_URIS:
        return _unprocessable(f"Redirect URI: give 1 to {MAX_REDIRECT_URIS} URIs")
    for uri in uris:
        if (problem := redirect_uri_error(uri)) is not None:
            return _unprocessable(f"Redirect URI {problem}")
    try:
        app_scopes = scopes.parse(text_param(params, "scopes"))
    except scopes.UnknownScope as unknown:
        return _unprocessable(f"Scopes: {unknown}")
    website = text_param(params, "website")
    if website is not None and (
        len(website) > MAX_WEBSITE_CHARS or redirect_uri_error(website) or text_error(website)
    ):
        return _unprocessable("Website must be an absolute URL")
    async with request.app[sessionmaker_key].begin() as db:
        retry_after = await ratelimit.hit(db, APPS_PER_ADDRESS, request.remote or "unknown")
    if retry_after is not None:
        return json_response({"error": gettext("Too many requests")}, status=429)
    async with request.app[sessionmaker_key].begin() as db:
        registered = await oauth.register_app(db, name, uris, app_scopes, website)
    entity = application(registered, name, website, uris, app_scopes)
    entity |= {
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "client_secret_expires_at": 0,
    }
    return json_response(entity)


async def verify_credentials(request: web.Request) -> web.Response:
    """The app behind the token; a personal access token answers as an app of its own name."""
    grant = current_token(request)
    if grant is None:
        return invalid_token(request)
    if grant.app_id is None:
        async with reading(request) as reader:
            own = [
                t for t in await tokens.own_tokens(reader, grant.user.id) if t.id == grant.token_id
            ]
        name = own[0].name if own else "Personal access token"
        return json_response(application(None, name or "", None, [], grant.scopes))
    async with reading(request) as reader:
        app = await tokens.app_by_id(reader, grant.app_id)
    if app is None:
        return invalid_token(request)
    return json_response(
        application(app, app.name, app.website, list(app.redirect_uris), app.scopes)
    )
