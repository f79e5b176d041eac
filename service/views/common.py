"""Small helpers every page module uses."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from aiohttp import web

from service.domain import ratelimit
from service.domain import sessions as auth_sessions
from service.keys import session_cache_key, sessionmaker_key, settings_key
from service.models import User
from service.reads import notifications, reports
from service.reads.views import SessionUser
from service.security import token_hash
from service.web import templating
from service.web.auth import (
    current_session_secret,
    current_user,
    end_browser_session,
    start_browser_session,
)
from service.web.problems import Problem
from service.web.resources import reading


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    unread: int | None = None,
    fragment: str | None = None,
    warnings: int | None = None,
) -> web.Response:
    """A page (web.templating.render) with the viewer's count of unread notifications:
    read here unless the handler read it with its own statements, and so are the
    moderators' warnings to the viewer, unless the handler's statements counted none
    (``warnings``). When the request asks for a fragment, the template ``fragment`` alone
    (see templating.FRAGMENT_HEADER)."""
    if fragment is not None and templating.wants_fragment(request):
        return await templating.render_fragment(request, fragment, context, status)
    viewer = current_user(request)
    open_reports = 0
    shown_warnings: list = []
    if viewer is None:
        unread = 0
    elif unread is None or viewer.is_moderator or warnings != 0:
        async with reading(request) as reader:
            if unread is None:
                unread = await notifications.unread_count(reader, viewer.id)
            # Moderators see how many reports wait for them on every page.
            if viewer.is_moderator:
                open_reports = await reports.open_count(reader)
            # A moderators' warning shows on every page until its owner acknowledges it.
            if warnings != 0:
                shown_warnings = await reports.warnings(reader, viewer.id)
    context = {
        **(context or {}),
        "open_reports": open_reports,
        "warnings": shown_warnings,
        "warning_back": request.path_qs if request.method == "GET" else "",
    }
    response = await templating.render(request, template, context, status, unread)
    if fragment is not None:
        # The same URL answers a fragment too: no cache may hand one for the other.
        response.headers.update(templating.FRAGMENT_VARY)
    return response


async def log_in(request: web.Request, user: User) -> None:
    """A new server-side session for the browser. A session the browser held until now
    ends with it: the old cookie, wherever a copy of it went, must not stay signed in."""
    settings = request.app[settings_key]
    previous = await current_session_secret(request)
    async with request.app[sessionmaker_key].begin() as db:
        if previous is not None:
            await auth_sessions.end_session(db, previous)
            request.app[session_cache_key].session_ended(token_hash(previous))
        secret = await auth_sessions.start_session(
            db, user.id, timedelta(days=settings.security.session_max_age_days)
        )
    viewer = SessionUser(
        user.id,
        user.username,
        user.display_name,
        user.email,
        user.role,
        user.is_confirmed,
        user.default_audience,
        user.locked,
        user.language,
    )
    await start_browser_session(request, secret, viewer)


async def log_out(request: web.Request) -> None:
    """End the server-side session (a copy of the old cookie is then useless) and the
    browser's."""
    secret = await current_session_secret(request)
    if secret is not None:
        async with request.app[sessionmaker_key].begin() as db:
            await auth_sessions.end_session(db, secret)
        # At once in this process; the others hear it from the database.
        request.app[session_cache_key].session_ended(token_hash(secret))
    await end_browser_session(request)


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def absolute_url(request: web.Request, route: str, **parts: str) -> str:
    """A link for emails: always from app.public_url, never from the Host header."""
    base = request.app[settings_key].app.public_url.rstrip("/")
    return base + str(request.app.router[route].url_for(**parts))


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def too_many(retry_after: float) -> Problem:
    return Problem(429, headers={"Retry-After": str(math.ceil(retry_after))})


async def count_hit(request: web.Request, limit: ratelimit.Limit, key: str) -> None:
    """Count one use of a limited action; 429 with Retry-After once over the limit. Counted
    in its own transaction so a failing request still counts."""
    async with request.app[sessionmaker_key].begin() as db:
        retry_after = await ratelimit.hit(db, limit, key)
    if retry_after is not None:
        raise too_many(retry_after)


async def reserve_attempt(
    request: web.Request, *uses: tuple[ratelimit.Limit, str]
) -> ratelimit.Reservation:
    """Count an attempt against every (limit, key) before doing the work they guard; 429
    with Retry-After, counting nothing, if any of them is already full."""
    try:
        async with request.app[sessionmaker_key].begin() as db:
            return await ratelimit.reserve(db, *uses)
    except ratelimit.LimitReached as full:
        raise too_many(full.retry_after) from None


async def refund_attempt(request: web.Request, reservation: ratelimit.Reservation) -> None:
    async with request.app[sessionmaker_key].begin() as db:
        await ratelimit.refund(db, reservation)
