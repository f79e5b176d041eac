"""Limits against floods: posts, comments, likes, follows and reports, per account and per client
address in each window (settings ``[limits]``), stricter for accounts younger than
``limits.new_account_seconds``. Past one, 429 with ``Retry-After``: an error page for
pages, the error envelope for the JSON API, ``{"error": ...}`` for the Mastodon API (the
same Problem, answered by service/web/errors.py). Counted in PostgreSQL before the action
(service/domain/ratelimit.py), so every process shares one count and concurrent requests
cannot slip past together."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Literal

from aiohttp import web

from service.domain import ratelimit
from service.i18n import ngettext
from service.keys import sessionmaker_key, settings_key
from service.settings import LimitSettings
from service.web.problems import Problem

Action = Literal["posts", "comments", "likes", "follows", "reports"]


def action_limits(settings: LimitSettings, action: Action) -> ratelimit.ActionLimits:
    window = settings.window_seconds
    per = {
        kind: getattr(settings, f"{action}_per_{kind}")
        for kind in ("account", "new_account", "address")
    }
    return ratelimit.ActionLimits(
        # One count per account whatever its age: a young account's limit is only smaller.
        per_account=ratelimit.Limit(f"{action}-account", per["account"], window),
        per_new_account=ratelimit.Limit(f"{action}-account", per["new_account"], window),
        per_address=ratelimit.Limit(f"{action}-address", per["address"], window),
        new_account=timedelta(seconds=settings.new_account_seconds),
    )


def too_fast(action: Action, seconds: int) -> str:
    """What a person is told, by action: what they did too often, and how long to wait (in
    seconds under two minutes, else in minutes)."""
    if seconds < 120:
        n = seconds
        told = {
            "posts": ngettext(
                "You are posting too fast. Try again in %(num)s second.",
                "You are posting too fast. Try again in %(num)s seconds.",
                n,
            ),
            "comments": ngettext(
                "You are commenting too fast. Try again in %(num)s second.",
                "You are commenting too fast. Try again in %(num)s seconds.",
                n,
            ),
            "likes": ngettext(
                "You are liking posts too fast. Try again in %(num)s second.",
                "You are liking posts too fast. Try again in %(num)s seconds.",
                n,
            ),
            "follows": ngettext(
                "You are following people too fast. Try again in %(num)s second.",
                "You are following people too fast. Try again in %(num)s seconds.",
                n,
            ),
            "reports": ngettext(
                "You are reporting too fast. Try again in %(num)s second.",
                "You are reporting too fast. Try again in %(num)s seconds.",
                n,
            ),
        }
    else:
        n = math.ceil(seconds / 60)
        told = {
            "posts": ngettext(
                "You are posting too fast. Try again in %(num)s minute.",
                "You are posting too fast. Try again in %(num)s minutes.",
                n,
            ),
            "comments": ngettext(
                "You are commenting too fast. Try again in %(num)s minute.",
                "You are commenting too fast. Try again in %(num)s minutes.",
                n,
            ),
            "likes": ngettext(
                "You are liking posts too fast. Try again in %(num)s minute.",
                "You are liking posts too fast. Try again in %(num)s minutes.",
                n,
            ),
            "follows": ngettext(
                "You are following people too fast. Try again in %(num)s minute.",
                "You are following people too fast. Try again in %(num)s minutes.",
                n,
            ),
            "reports": ngettext(
                "You are reporting too fast. Try again in %(num)s minute.",
                "You are reporting too fast. Try again in %(num)s minutes.",
                n,
            ),
        }
    return told[action] % {"num": n}


async def count_action(request: web.Request, user_id: int, action: Action) -> None:
    """Count one action by ``user_id``, before it is done; 429 with Retry-After, counting
    nothing, once the account or its address has done it as often as allowed."""
    limits = action_limits(request.app[settings_key].limits, action)
    try:
        async with request.app[sessionmaker_key].begin() as db:
            await ratelimit.reserve_action(db, limits, user_id, request.remote or "unknown")
    except ratelimit.LimitReached as full:
        seconds = math.ceil(full.retry_after)
        raise Problem(
            429,
            too_fast(action, seconds),
            "rate_limited",
            headers={"Retry-After": str(seconds)},
        ) from None
