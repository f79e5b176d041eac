"""/oauth/token (RFC 6749 §4.1.3 and §4.4), /oauth/revoke (RFC 7009) and the server's
metadata at /.well-known/oauth-authorization-server (RFC 8414)."""

from __future__ import annotations

from aiohttp import web

from service import scopes
from service.api.common import json_response
from service.domain import oauth
from service.domain.oauth import OAuthError
from service.keys import sessionmaker_key, settings_key, token_cache_key
from service.oauth.common import NO_STORE, client_credentials, oauth_error, read_params, text_param
from service.security import token_hash

GRANT_TYPES = ("authorization_code", "client_credentials")


def _forget(request: web.Request, revoked: tuple[bytes, ...]) -> None:
    # At once in this process; the others hear it from the database (migration 0009).
    for hashed in revoked:
        request.app[token_cache_key].revoked(hashed)


def _invalid_client(basic: bool) -> web.Response:
    # §5.2: 401, with a challenge when the client tried HTTP Basic.
    headers = {"WWW-Authenticate": 'Basic realm="Snapline"'} if basic else {}
    return oauth_error(OAuthError("invalid_client", "Client authentication failed."), 401, headers)


def _token_answer(issued: oauth.IssuedToken) -> web.Response:
    response = json_response(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "scope": scopes.text_of(issued.scopes),
            "created_at": int(issued.created_at.timestamp()),
        }
    )
    response.headers.update(NO_STORE)
    return response


async def token(request: web.Request) -> web.Response:
    params = await read_params(request)
    credentials = client_credentials(request, params)
    if credentials is None:
        return _invalid_client(basic=False)
    client_id, client_secret, basic = credentials
    grant_type = text_param(params, "grant_type")
    if grant_type not in GRANT_TYPES:
        error = OAuthError("unsupported_grant_type", f"grant_type must be one of {GRANT_TYPES}.")
        return oauth_error(error)
    async with request.app[sessionmaker_key].begin() as db:
        app = await oauth.authenticate_client(db, client_id, client_secret)
        if app is None:
            return _invalid_client(basic)
        if grant_type == "authorization_code":
            code = text_param(params, "code")
            if code is None:
                return oauth_error(OAuthError("invalid_request", "The code is missing."))
            outcome = await oauth.exchange_code(
                db, app, code, text_param(params, "redirect_uri"),
                text_param(params, "code_verifier"),
            )  # fmt: skip
        else:
            try:
                requested = scopes.parse(text_param(params, "scope"))
            except scopes.UnknownScope as unknown:
                return oauth_error(OAuthError("invalid_scope", str(unknown)))
            if not scopes.within(requested, scopes.parse(app.scopes)):
                error = OAuthError("invalid_scope", "The app did not register these scopes.")
                return oauth_error(error)
            outcome = await oauth.app_token(db, app, requested)
    # After the commit: a reused code's token is revoked even though the answer is an error.
    if isinstance(outcome, OAuthError):
        _forget(request, outcome.revoked)
        return oauth_error(outcome)
    return _token_answer(outcome)


async def revoke(request: web.Request) -> web.Response:
    params = await read_params(request)
    credentials = client_credentials(request, params)
    if credentials is None:
        return _invalid_client(basic=False)
    client_id, client_secret, basic = credentials
    token_text = text_param(params, "token")
    if token_text is None:
        return oauth_error(OAuthError("invalid_request", "The token is missing."))
    async with request.app[sessionmaker_key].begin() as db:
        app = await oauth.authenticate_client(db, client_id, client_secret)
        if app is None:
            return _invalid_client(basic)
        revoked = await oauth.revoke_by_client(db, app.id, token_text)
    if not revoked:
        error = OAuthError("unauthorized_client", "That token was not given to this app.")
        return oauth_error(error, 403)
    _forget(request, (token_hash(token_text),))
    return json_response({})


async def metadata(request: web.Request) -> web.Response:
    """RFC 8414: where everything is, for clients that look (Mastodon.py does)."""
    base = request.app[settings_key].app.public_url.rstrip("/")
    router = request.app.router

    def at(name: str) -> str:
        return base + str(router[name].url_for())

    return json_response(
        {
            "issuer": base + "/",
            "authorization_endpoint": at("oauth_authorize"),
            "token_endpoint": at("oauth_token"),
            "revocation_endpoint": at("oauth_revoke"),
            "app_registration_endpoint": at("oauth_apps"),
            "scopes_supported": sorted(scopes.KNOWN),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "service_documentation": at("home"),
        }
    )
