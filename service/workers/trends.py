"""The trending job: every RECOMPUTE_SECONDS, the rank of each post whose likes, comments or
views changed since the last run is recomputed (docs/trending.md). Ranks need no aging: the
stored rank is time-free, so only changed posts are ever touched.

Every process runs it; each run takes the changed posts with SKIP LOCKED, so two processes
share the work rather than repeat it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from service.domain import trending
from service.keys import scheduler_key, sessionmaker_key

log = logging.getLogger(__name__)

# How stale a trending rank may be: the time between runs. Views reach the database every
# viewcounts.FLUSH_SECONDS, so a change shows in trending within about a minute.
RECOMPUTE_SECONDS = 60.0


async def recompute(app: web.Application) -> int:
    """Recompute every changed post's rank, a batch per transaction; how many."""
    total = 0
    while True:
        async with app[sessionmaker_key].begin() as db:
            taken = await trending.recompute_changed(db)
        total += taken
        if taken < trending.RECOMPUTE_BATCH_POSTS:
            return total


async def _loop(app: web.Application, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await recompute(app)
        except Exception:
            log.warning("trending ranks not recomputed; retrying later", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RECOMPUTE_SECONDS)


async def trends_ctx(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    job = await app[scheduler_key].spawn(_loop(app, stop))
    yield
    stop.set()
    await job.wait()
