"""Small helpers every page module uses."""

from __future__ import annotations

import math

from aiohttp import web

from service.domain import ratelimit
from service.keys import sessionmaker_key, settings_key
from service.web.problems import Problem
from service.web.templating import render

__all__ = ["render"]


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
