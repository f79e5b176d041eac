"""Periodic deletion of rows that only expire: sessions, email tokens, rate-limit windows,
idempotency keys, uploads never attached to a post, mutes that have ended; and of archives
past their time (their stored files, through durable delete jobs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiohttp import web

from service.domain import (
    accounts,
    blocks,
    exports,
    idempotency,
    oauth,
    posts,
    ratelimit,
    sessions,
)
from service.keys import media_worker_key, scheduler_key, sessionmaker_key

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 15 * 60
# Longer than the longest rate-limit window, so no live count is ever deleted.
RATE_WINDOW_RETENTION = timedelta(days=1)


async def sweep(app: web.Application) -> None:
    async with app[sessionmaker_key].begin() as db:
        await sessions.forget_expired_sessions(db)
        await accounts.forget_expired_tokens(db)
        await oauth.forget_expired_codes(db)
        await ratelimit.forget_expired(db, datetime.now(UTC) - RATE_WINDOW_RETENTION)
        await idempotency.forget_expired(db)
        await posts.forget_unattached_media(db, posts.UNATTACHED_MEDIA_LIFETIME)
        await blocks.forget_expired_mutes(db)
        removed_archives = await exports.remove_expired(db)
    if removed_archives and media_worker_key in app:
        app[media_worker_key].wake()


async def _loop(app: web.Application, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await sweep(app)
        except Exception:
            log.warning("housekeeping failed; retrying later", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL_SECONDS)


async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    job = await app[scheduler_key].spawn(_loop(app, stop))
    yield
    stop.set()
    await job.wait()
