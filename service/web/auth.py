"""Who is asking: the encrypted session cookie, its server-side record, and guards."""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import Session, get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import InvalidToken

from service import scopes
from service.i18n import gettext as _
from service.keys import (
    bearer_key,
    current_user_key,
    read_pool_key,
    route_scopes_key,
    session_cache_key,
    token_cache_key,
)
from service.reads import people, tokens
from service.reads.statements import reading
from service.reads.views import SessionUser, TokenGrant
from service.security import token_hash
from service.settings import Settings
from service.web.problems import Problem, wants_json
from service.web.tokens import invalid_token, outside_scopes
from service.web.urls import url_for

# aiohttp-session keeps its state under plain string keys on the request, which aiohttp
# warns about; the keys are private to it, so the warning is noise for this one library.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_session")

SESSION_COOKIE = "snapline_session"
SID_KEY = "sid"
READ_METHODS = frozenset({"GET", "HEAD"})
# Requests that never need to know the user: skip the database lookup for them (and any
# bearer token: the API's own description is the same for everyone).
ANONYMOUS_PREFIXES = (
    "/static/",
    "/media/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/snapline/v1/openapi.json",
)


def _fernet_key(secret: str) -> bytes:
    # A separate key derived for the cookie, so the raw secret is used for nothing but
    # derivations.
    return hashlib.sha256(b"snapline session cookie\x00" + secret.encode()).digest()


# Decrypted cookies a process keeps: a signed-in browser sends the same cookie with every
# request until something in it changes.
REMEMBERED_COOKIES = 10_000


class RememberingCookieStorage(EncryptedCookieStorage):
    """The encrypted cookie storage, decrypting each cookie once per process.

    Verifying and decrypting the cookie (Fernet: HMAC and AES) was a tenth of a timeline
    request's time, for the same answer every time: a cookie's text decrypts to the same
    data until it is replaced. So the decrypted text of recent cookies is kept, keyed by the
    exact cookie text (only a cookie that decrypted is kept: nothing a client makes up gets
    in), until the cookie's own expiry (its Fernet timestamp plus max_age), and every
    request still gets a session of its own, decoded afresh."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decrypted: dict[str, tuple[str, float]] = {}

    async def load_session(self, request: web.Request) -> Session:
        cookie = self.load_cookie(request)
        remembered = self._decrypted.get(cookie) if cookie is not None else None
        if remembered is not None:
            text, valid_until = remembered
            if time.time() < valid_until:
                return Session(None, data=self._decoder(text), new=False, max_age=self.max_age)
            del self._decrypted[cookie]
        if cookie is None:
            return await super().load_session(request)
        token = cookie.encode()
        try:
            text = self._fernet.decrypt(token, ttl=self.max_age).decode()
        except InvalidToken:
            return await super().load_session(request)  # says so, and starts afresh
        if len(self._decrypted) >= REMEMBERED_COOKIES:
            del self._decrypted[next(iter(self._decrypted))]
        issued = self._fernet.extract_timestamp(token)
        self._decrypted[cookie] = (text, issued + self.max_age if self.max_age else math.inf)
        return Session(None, data=self._decoder(text), new=False, max_age=self.max_age)


def session_cookie_middleware(settings: Settings):
    storage = RememberingCookieStorage(
        _fernet_key(settings.app.secret_key),
        cookie_name=SESSION_COOKIE,
        max_age=int(timedelta(days=settings.security.session_max_age_days).total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=settings.is_https,
    )
    return session_middleware(storage)


BEARER_SCHEME = "bearer"
# Ours are 43 characters; anything much longer is no token of ours, and is not hashed.
MAX_TOKEN_CHARS = 256


# The query parameter Mastodon's streaming API takes a token in (RFC 6750 §2.3), for the
# routes that declare it (routes.QUERY_TOKEN_ROUTES): a browser's EventSource cannot send
# an Authorization header.
ACCESS_TOKEN_PARAMETER = "access_token"


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1), if one was sent;
    else, where the route takes one, the ``access_token`` query parameter's."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == BEARER_SCHEME:
        return token.strip()
    if request.app[route_scopes_key].takes_query_token(request):
        return request.query.get(ACCESS_TOKEN_PARAMETER)
    return None


@web.middleware
async def current_user_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is asking: the holder of a bearer token, or else the browser's session. A request
    with a token is never also taken as the cookie's: whatever a bearer request may do, it
    may do because of the token alone (and so it needs no CSRF token)."""
    request[current_user_key] = None
    request[bearer_key] = None
    if request.path.startswith(ANONYMOUS_PREFIXES):
        return await handler(request)
    route_scopes = request.app[route_scopes_key]
    if route_scopes.is_client_route(request):
        return await handler(request)  # the app authenticates itself, in the body
    token = bearer_token(request)
    if token is not None:
        well_formed = 0 < len(token) <= MAX_TOKEN_CHARS
        grant = await _token_grant(request, token_hash(token)) if well_formed else None
        if grant is None:
            return invalid_token(request)
        if request.match_info.http_exception is not None:
            return await handler(request)  # no such route: its 404 or 405
        required = route_scopes.required(request)
        if required is None or not scopes.grants_any(grant.scopes, required):
            # A route no scope opens (deny by default), or one this token's scopes do not.
            return outside_scopes(request)
        request[bearer_key] = grant
        request[current_user_key] = grant.user
    else:
        session = await get_session(request)
        secret = session.get(SID_KEY)
        if isinstance(secret, str):
            user = await _session_user(request, token_hash(secret))
            if user is None:
                # Logged out elsewhere, expired or revoked: the cookie is now anonymous.
                session.pop(SID_KEY, None)
            request[current_user_key] = user
    return await handler(request)


async def _session_user(request: web.Request, session_hash: bytes) -> SessionUser | None:
    """The signed-in user: remembered by this process for reads (reads.session_cache),
    always looked up for requests that may change something."""
    cache = request.app[session_cache_key]
    if request.method in READ_METHODS and (user := cache.get(session_hash)) is not None:
        return user
    generation = cache.generation
    async with reading(request.app[read_pool_key]) as reader:
        found = await people.session_user(reader, session_hash)
    if found is None:
        cache.session_ended(session_hash)  # a write may learn of it before the announcement
        return None
    user, expires_at = found
    cache.put(session_hash, user, expires_at, generation)
    return user


async def _token_grant(request: web.Request, hashed: bytes) -> TokenGrant | None:
    """What the token grants: remembered by this process for reads (reads.token_cache),
    always looked up for requests that may change something, as sessions are."""
    cache = request.app[token_cache_key]
    if request.method in READ_METHODS and (grant := cache.get(hashed)) is not None:
        return grant
    generation = cache.generation
    async with reading(request.app[read_pool_key]) as reader:
        grant = await tokens.token_grant(reader, hashed)
    if grant is None:
        cache.revoked(hashed)
        return None
    cache.put(hashed, grant, generation)
    return grant


def current_user(request: web.Request) -> SessionUser | None:
    return request.get(current_user_key)


def _login_redirect(request: web.Request) -> web.HTTPException:
    target = request.path_qs if request.method == "GET" else request.headers.get("Referer", "/")
    if not target.startswith("/"):
        target = "/"
    return web.HTTPSeeOther(url_for(request, "login", {"next": target}))


def current_token(request: web.Request) -> TokenGrant | None:
    """The bearer token the request came with, or None for the browser's session."""
    return request.get(bearer_key)


def require_user(request: web.Request) -> SessionUser:
    """The signed-in user; pages send others to the login form, the API answers 401."""
    user = current_user(request)
    if user is None:
        if wants_json(request):
            raise Problem(401, _("Log in to do that."), "login_required")
        raise _login_redirect(request)
    return user


def require_confirmed(request: web.Request) -> SessionUser:
    user = require_user(request)
    if not user.is_confirmed:
        raise Problem(
            403,
            _("Confirm your email address first: use the link we sent you, or ask for a new one."),
            "email_unconfirmed",
        )
    return user


async def start_browser_session(request: web.Request, secret: str, user: SessionUser) -> None:
    """Give the browser a fresh cookie session (never one that existed before the login)
    holding the new session's ``secret``."""
    session = await new_session(request)
    session[SID_KEY] = secret
    request[current_user_key] = user


async def end_browser_session(request: web.Request) -> None:
    """Clearing the data re-issues the cookie without the session id (and without the old
    CSRF secret)."""
    (await get_session(request)).invalidate()
    request[current_user_key] = None


async def current_session_secret(request: web.Request) -> str | None:
    secret = (await get_session(request)).get(SID_KEY)
    return secret if isinstance(secret, str) else None
