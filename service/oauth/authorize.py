"""/oauth/authorize: the consent page of the authorization-code flow (RFC 6749 §4.1, PKCE
per RFC 7636), behind login and CSRF like every form.

Until the client and its redirect URI are known good, errors are shown on a page, never
sent anywhere (§4.1.2.1): a redirect to an unchecked URI would make us an open redirector.
After that, errors go back to the app at its redirect URI, with its state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from service import scopes
from service.domain import oauth
from service.i18n import gettext as _
from service.keys import sessionmaker_key
from service.oauth.common import OOB, with_query
from service.reads import tokens
from service.reads.views import OAuthAppView
from service.views.common import render
from service.web.auth import require_user
from service.web.forms import read_form
from service.web.headers import content_security_policy
from service.web.problems import Problem
from service.web.resources import reading

MAX_STATE_CHARS = 2000


@dataclasses.dataclass(frozen=True)
class AuthorizationRequest:
    app: OAuthAppView
    redirect_uri: str  # where the answer goes
    given_redirect_uri: str | None  # as the request named it, for the token request's check
    scopes: frozenset[str]
    state: str | None
    code_challenge: str | None

    def answer(self, **params: str | None) -> web.HTTPException:
        """Back to the app with ``params`` (and the state it sent)."""
        location = with_query(self.redirect_uri, {**params, "state": self.state})
        return web.HTTPSeeOther(location)

    def hidden_fields(self) -> dict[str, str]:
        fields = {
            "client_id": self.app.client_id,
            "redirect_uri": self.given_redirect_uri,
            "scope": scopes.text_of(self.scopes),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256" if self.code_challenge else None,
            "response_type": "code",
        }
        return {name: value for name, value in fields.items() if value is not None}


async def _checked(request: web.Request, params: Mapping[str, str]) -> AuthorizationRequest:
    """The request, checked; raises a Problem (shown here) or a redirect to the app."""
    client_id = params.get("client_id", "")
    async with reading(request) as reader:
        app = await tokens.app_by_client_id(reader, client_id[:64]) if client_id else None
    if app is None:
        raise Problem(400, _("This app is not registered here (unknown client_id)."))
    given = params.get("redirect_uri") or None
    if given is None and len(app.redirect_uris) != 1:
        raise Problem(400, _("The app did not say where to return (redirect_uri)."))
    if given is not None and given not in app.redirect_uris:
        raise Problem(400, _("The app asked to return to an address it did not register."))
    state = params.get("state") or None
    if state is not None and len(state) > MAX_STATE_CHARS:
        raise Problem(400, _("The state parameter is too long."))
    partial = AuthorizationRequest(
        app, given or app.redirect_uris[0], given, frozenset(), state, None
    )

    def refused(error: str, description: str) -> Exception:
        if partial.redirect_uri == OOB:
            return Problem(400, description)
        return partial.answer(error=error, error_description=description)

    if params.get("response_type") != "code":
        raise refused("unsupported_response_type", "Only response_type=code is supported.")
    try:
        requested = scopes.parse(params.get("scope") or params.get("scopes"))
    except scopes.UnknownScope as unknown:
        raise refused("invalid_scope", str(unknown)) from None
    if not scopes.within(requested, app.scopes):
        raise refused("invalid_scope", "The app asked for scopes it did not register.")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None and method is not None:
        raise refused("invalid_request", "code_challenge_method without a code_challenge.")
    if challenge is not None:
        # Plain challenges protect nothing S256 does not; RFC 7636 §4.2 asks clients that
        # can use S256 to use it, and Mastodon supports S256 alone.
        if method != "S256":
            raise refused("invalid_request", "Only code_challenge_method=S256 is supported.")
        if not oauth.S256_CHALLENGE.fullmatch(challenge):
            raise refused("invalid_request", "The code_challenge is not an S256 challenge.")
    return dataclasses.replace(partial, scopes=requested, code_challenge=challenge)


def _form_action(redirect_uri: str) -> str:
    """The CSP source the consent form may be redirected to: browsers apply form-action to
    the redirect after a form is sent, and the app's redirect URI is elsewhere."""
    if redirect_uri == OOB:
        return "'self'"
    parts = urlsplit(redirect_uri)
    if parts.scheme.lower() in {"http", "https"}:
        return f"'self' {parts.scheme}://{parts.netloc}"
    return f"'self' {parts.scheme}:"


async def authorize_form(request: web.Request) -> web.Response:
    user = require_user(request)
    checked = await _checked(request, request.query)
    context = {
        "app": checked.app,
        "scopes": [
            (scope, scopes.describe(scope)) for scope in scopes.text_of(checked.scopes).split()
        ],
        "fields": checked.hidden_fields(),
        "account": user,
    }
    response = await render(request, "oauth/authorize.html", context)
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_action=_form_action(checked.redirect_uri)
    )
    return response


async def authorize(request: web.Request) -> web.Response:
    user = require_user(request)
    form = await read_form(request)
    checked = await _checked(request, form)
    if form.get("decision") != "approve":
        if checked.redirect_uri == OOB:
            raise Problem(403, _("You did not authorize the app."))
        raise checked.answer(error="access_denied", error_description="The user refused.")
    async with request.app[sessionmaker_key].begin() as db:
        code = await oauth.issue_code(
            db, checked.app.id, user.id, checked.given_redirect_uri, checked.scopes,
            checked.code_challenge,
        )  # fmt: skip
    if checked.redirect_uri == OOB:
        return await render(request, "oauth/code.html", {"app": checked.app, "code": code})
    raise checked.answer(code=code)
