"""What every page template can use: the viewer, the CSRF token, flash messages, filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import STORAGE_KEY, get_session

from service.db import reading
from service.domain import notifications
from service.keys import read_pool_key
from service.web.auth import current_user
from service.web.csrf import CSRF_SESSION_KEY, csrf_token
from service.web.flash import pop_flashes


async def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render a page with what every page needs: the viewer, the CSRF token, and the flash
    messages (taken from the session here, so only a page that is shown consumes them)."""
    viewer = current_user(request)
    unread = 0
    if viewer is not None:
        async with reading(request.app[read_pool_key]) as connection:
            unread = await notifications.unread_count(connection, viewer.id)
    page = {
        "current_user": viewer,
        "csrf_token": await csrf_token(request),
        "flashes": await pop_flashes(request),
        "unread_notifications": unread,
        **(context or {}),
    }
    return aiohttp_jinja2.render_template(template, request, page, status=status)


async def render_error_page(
    request: web.Request, context: dict[str, Any], status: int
) -> web.Response:
    """Error pages render outside the session middleware (a failure may come before it), so
    they read the session without changing it."""
    token = ""
    if request.get(STORAGE_KEY) is not None:
        token = (await get_session(request)).get(CSRF_SESSION_KEY, "")
    page = {
        "current_user": current_user(request),
        "csrf_token": token,
        "flashes": [],
        "unread_notifications": 0,
        **context,
    }
    return aiohttp_jinja2.render_template("error.html", request, page, status=status)


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the API and <time datetime> use."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'3 min ago' for the page; scripts keep it fresh, the exact time is in the tooltip."""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for unit_seconds, unit in (
        (86400 * 365, "y"),
        (86400 * 7, "w"),
        (86400, "d"),
        (3600, "h"),
        (60, "min"),
    ):
        if seconds >= unit_seconds:
            return f"{seconds // unit_seconds} {unit} ago"
    return "just now"


def exact_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def template_filters() -> dict[str, Any]:
    return {"iso_time": iso_time, "relative_time": relative_time, "exact_time": exact_time}
