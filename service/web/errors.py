"""Every error becomes a clean page or JSON body: no tracebacks, a request id to quote."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from service.db import is_database_unavailable
from service.i18n import lazy_gettext
from service.keys import request_id_key
from service.observability import current_request_id
from service.web.language import use_request_language
from service.web.problems import Problem, wants_json
from service.web.templating import render_error_page

log = logging.getLogger(__name__)

# How long clients should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5
MASTODON_ROUTE_PREFIX = "mastodon_"
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Request ids this process makes: a random prefix of its own and a count, unique across
# processes without asking the kernel for randomness on every request.
_REQUEST_ID_PREFIX = secrets.token_hex(8)
_request_numbers = itertools.count(1)


async def error_response(request: web.Request, problem: Problem) -> web.Response:
    # Chosen again here: the error may have come before the request's language was.
    use_request_language(request)
    request_id = request.get(request_id_key, "")
    headers = {**problem.headers, "X-Request-Id": request_id}
    if is_mastodon_route(request):
        return web.json_response({"error": problem.message}, status=problem.status, headers=headers)
    if wants_json(request):
        body = {"error": {"code": problem.code, "message": problem.message}}
        return web.json_response(body, status=problem.status, headers=headers)
    context = {"status": problem.status, "message": problem.message, "request_id": request_id}
    try:
        response = await render_error_page(request, context, problem.status)
    except Exception:  # a broken template must not hide the original error
        log.exception("rendering the error page failed")
        response = web.Response(
            text=f"{problem.status}: {problem.message}\n", status=problem.status
        )
    response.headers.update(headers)
    return response


def is_mastodon_route(request: web.Request) -> bool:
    """The Mastodon client API's routes (named ``mastodon_*``) answer errors as Mastodon
    does, ``{"error": "<human text>"}``, which apps show to their users."""
    name = request.match_info.route.name
    return name is not None and name.startswith(MASTODON_ROUTE_PREFIX)


def _from_http_exception(exc: web.HTTPException) -> Problem:
    # aiohttp's own texts ("Maximum request body size 1048576 exceeded...") are for
    # developers; users read ours.
    headers = {
        key: value
        for key, value in exc.headers.items()
        if key in {"Allow", "Retry-After", "WWW-Authenticate"}
    }
    return Problem(exc.status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    request[request_id_key] = (
        given
        if _REQUEST_ID_PATTERN.match(given)
        else f"{_REQUEST_ID_PREFIX}{next(_request_numbers):016x}"
    )
    # Log lines written while handling this request, and jobs it spawns, carry the id.
    current_request_id.set(request[request_id_key])
    try:
        response = await handler(request)
    except Problem as problem:
        return await error_response(request, problem)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers["X-Request-Id"] = request[request_id_key]
            raise
        return await error_response(request, _from_http_exception(exc))
    except HttpProcessingError as exc:
        # aiohttp refused the body while a handler read it (a multipart part's headers, a
        # broken chunked encoding): the client's bytes, so the client's error.
        log.info("unreadable request body: %s", exc.message)
        problem = Problem(400, lazy_gettext("The request body could not be read."), "invalid_body")
        return await error_response(request, problem)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if is_database_unavailable(exc):
            log.warning("database unavailable: %s", exc.__class__.__name__)
            retry = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
            return await error_response(request, Problem(503, headers=retry))
        log.exception("unhandled error, request id %s", request[request_id_key])
        return await error_response(request, Problem(500))
    response.headers.setdefault("X-Request-Id", request[request_id_key])
    return response
