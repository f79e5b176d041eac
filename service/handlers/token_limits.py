"""Rate limits on bearer requests, per token and per client address, answered as Mastodon
does: X-RateLimit-Limit, -Remaining and -Reset on every answer, 429 past the limit.

Counted with ratelimit.BatchedCounter: in memory, added to the shared PostgreSQL counters
about once a second by ``token_limits_ctx``, so a request pays no write for its count."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from service.domain import ratelimit
from service.i18n import gettext
from service.keys import scheduler_key, sessionmaker_key, settings_key, token_limits_key
from service.web.auth import current_token
from service.web.times import iso_millis

log = logging.getLogger(__name__)

# How often each process adds its counts to the shared ones: the most one process can
# let through past a limit is what it receives in this long.
FLUSH_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class TokenLimits:
    per_token: ratelimit.Limit
    per_address: ratelimit.Limit
    counter: ratelimit.BatchedCounter


def _reset_at(seconds_left: float) -> str:
    return iso_millis(datetime.now(UTC) + timedelta(seconds=seconds_left))


@web.middleware
async def token_limits_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    grant = current_token(request)
    if grant is None:
        return await handler(request)
    limits = request.app[token_limits_key]
    token_hits, token_left = limits.counter.hit(limits.per_token, str(grant.token_id))
    address_hits, address_left = limits.counter.hit(limits.per_address, request.remote or "unknown")
    headers = {
        "X-RateLimit-Limit": str(limits.per_token.hits),
        "X-RateLimit-Remaining": str(max(0, limits.per_token.hits - token_hits)),
        "X-RateLimit-Reset": _reset_at(token_left),
    }
    if token_hits > limits.per_token.hits or address_hits > limits.per_address.hits:
        retry_after = token_left if token_hits > limits.per_token.hits else address_left
        return web.Response(
            body=orjson.dumps({"error": gettext("Too many requests")}),
            status=429,
            content_type="application/json",
            charset="utf-8",
            headers={**headers, "Retry-After": str(math.ceil(retry_after))},
        )
    response = await handler(request)
    if not response.prepared:
        response.headers.update(headers)
    return response


async def _flush(app: web.Application, counter: ratelimit.BatchedCounter) -> None:
    try:
        async with app[sessionmaker_key].begin() as db:
            await counter.flush(db)
    except Exception:  # a database hiccup: the counts stay pending for the next flush
        log.warning("could not add request counts to the shared rate limits", exc_info=True)


async def _flushing(app: web.Application, counter, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), FLUSH_SECONDS)
        await _flush(app, counter)


async def token_limits_ctx(app: web.Application) -> AsyncIterator[None]:
    security = app[settings_key].security
    window = security.api_rate_window_seconds
    counter = ratelimit.BatchedCounter()
    app[token_limits_key] = TokenLimits(
        ratelimit.Limit("api-token", security.api_requests_per_token, window),
        ratelimit.Limit("api-address", security.api_requests_per_address, window),
        counter,
    )
    stopping = asyncio.Event()
    job = await app[scheduler_key].spawn(_flushing(app, counter, stopping))
    yield
    stopping.set()
    await job.wait()
