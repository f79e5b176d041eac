"""Counting post views in memory, and adding them to the database every few seconds in one
statement (docs/trending.md): a view costs no write of its own.

What counts: a post page seen, and a post card a page reports as seen for a moment. What
does not: the author's own views; a repeat by the same viewer within REPEAT_WINDOW (an
account, or for someone signed out a salted hash of their address and browser, the salt
drawn at random by each process and replaced daily, never stored, so the key cannot be
traced back even by whoever reads the memory of a process a day later); and anyone whose
browser says it is a bot. Whether the viewer may see the post at all is the caller's
question, asked through the read layer before a view is offered here.

Each process keeps its own counts and its own memory of recent viewers. A graceful stop
flushes what is pending (``view_counter_ctx``), so losing a process loses at most one flush
interval; two processes may each count a viewer once within the window.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from service.domain import trending
from service.keys import scheduler_key, sessionmaker_key, view_counter_key

log = logging.getLogger(__name__)

# How often each process adds its counted views to the posts' counts: at most this much is
# lost with a process that dies without stopping.
FLUSH_SECONDS = 10.0
# A second view of a post by the same viewer within this long is not counted.
REPEAT_WINDOW_SECONDS = 60 * 60
# How many recent (viewer, post) pairs a process remembers for that: the oldest are
# forgotten first, so memory stays bounded (about 150 bytes a pair: ~15 MB at most).
RECENT_VIEWS_KEPT = 100_000
# User-Agents that say they are a crawler, a link preview or a feed reader.
BOTS = re.compile(
    r"bot|crawl|spider|slurp|scrape|archiver|facebookexternalhit|embedly|preview"
    r"|feedfetcher|mediapartners|httrack|wget|curl/",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    return bool(user_agent) and BOTS.search(user_agent) is not None


class ViewCounter:
    """Views counted since the last flush, and the recent viewers of each post."""

    def __init__(self, kept: int = RECENT_VIEWS_KEPT) -> None:
        self._pending: collections.Counter[int] = collections.Counter()
        # (viewer key, post id) -> when it was last counted, oldest first.
        self._recent: collections.OrderedDict[tuple[str, int], float] = collections.OrderedDict()
        self._kept = kept
        self._salt_day = ""
        self._salt = b""

    def viewer_key(self, user_id: int | None, address: str | None, user_agent: str | None) -> str:
        """Who is viewing, as this process tells repeats apart: the account, or a hash of
        the address and browser salted with today's random salt."""
        if user_id is not None:
            return f"u{user_id}"
        today = datetime.now(UTC).date().isoformat()
        if today != self._salt_day:
            self._salt_day, self._salt = today, secrets.token_bytes(16)
        digest = hashlib.blake2b(
            f"{address or ''}\n{user_agent or ''}".encode(), key=self._salt, digest_size=12
        )
        return "a" + digest.hexdigest()

    def seen(self, post_id: int, author_id: int, viewer_id: int | None, viewer: str) -> bool:
        """Count one view of the post by ``viewer`` (a viewer_key) unless it is the author's
        or a repeat within the window; whether it was counted."""
        if viewer_id is not None and viewer_id == author_id:
            return False
        now = time.monotonic()
        key = (viewer, post_id)
        last = self._recent.get(key)
        if last is not None and now - last < REPEAT_WINDOW_SECONDS:
            return False
        self._recent[key] = now
        self._recent.move_to_end(key)
        while len(self._recent) > self._kept:
            self._recent.popitem(last=False)
        self._pending[post_id] += 1
        return True

    @property
    def pending(self) -> int:
        return sum(self._pending.values())

    async def flush(self, app: web.Application) -> None:
        """Add the pending views to the database in one statement; kept for the next flush
        if the database cannot take them now."""
        if not self._pending:
            return
        taken, self._pending = self._pending, collections.Counter()
        try:
            async with app[sessionmaker_key].begin() as db:
                await trending.add_views(db, taken)
        except Exception:
            self._pending.update(taken)
            log.warning("could not add counted views; kept for the next flush", exc_info=True)


async def _flushing(app: web.Application, counter: ViewCounter, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), FLUSH_SECONDS)
        await counter.flush(app)


async def view_counter_ctx(app: web.Application) -> AsyncIterator[None]:
    """The process's view counter; on a graceful stop its last counts are flushed."""
    counter = ViewCounter()
    app[view_counter_key] = counter
    stopping = asyncio.Event()
    job = await app[scheduler_key].spawn(_flushing(app, counter, stopping))
    yield
    stopping.set()
    await job.wait()
    await counter.flush(app)
