"""CSRF protection: a secret per browser session, sent back by every state-changing request
in the ``csrf_token`` form field or the ``X-CSRF-Token`` header."""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp_session import get_session

from service.i18n import gettext as _
from service.keys import bearer_key, route_scopes_key
from service.web.forms import read_form
from service.web.problems import Problem

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The first part of a multipart form must be the token; it is never longer than this.
MAX_MULTIPART_TOKEN_BYTES = 256

multipart_key = web.RequestKey("multipart", object)


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


async def _submitted_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type == "multipart/form-data":
        # Uploads are streamed, so the token must come first rather than be searched for in
        # a body of many megabytes. The reader is kept for the handler to continue.
        try:
            reader = await request.multipart()
            request[multipart_key] = reader
            part = await reader.next()
        except ValueError:  # no boundary, or a body that does not start with one
            return ""
        if part is None or getattr(part, "name", None) != CSRF_FIELD:
            return ""
        raw = await part.read_chunk(MAX_MULTIPART_TOKEN_BYTES)
        return raw.decode("ascii", "replace")
    if request.content_type == "application/x-www-form-urlencoded":
        return (await read_form(request)).get(CSRF_FIELD, "")
    return ""


def _needs_token(request: web.Request) -> bool:
    """Unsafe requests that a browser's cookie may have authenticated. Unrouted ones fall
    through to their 404/405 answer: they change nothing anyway. A bearer request carries
    its credential itself, which another site cannot make a browser send; an app's own
    requests to the OAuth endpoints use no cookie (web/auth.py)."""
    return (
        request.method not in SAFE_METHODS
        and request.match_info.http_exception is None
        and request.get(bearer_key) is None
        and not request.app[route_scopes_key].is_client_route(request)
    )


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _needs_token(request):
        session = await get_session(request)
        expected = session.get(CSRF_SESSION_KEY, "")
        submitted = await _submitted_token(request)
        if not expected or not hmac.compare_digest(expected.encode(), submitted.encode()):
            raise Problem(
                403,
                _(
                    "The form has expired or did not come from this site. Reload the page and "
                    "try again."
                ),
                "csrf_failed",
            )
    return await handler(request)
