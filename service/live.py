"""Live updates: PostgreSQL LISTEN/NOTIFY in, Server-Sent Events out.

Every process keeps one listening connection (re-established whenever it drops, e.g. when
the database restarts) and fans events out to the streams open in that process, so any
number of processes behind a load balancer behave as one. SSE rather than WebSocket: the
traffic is one-way, it is plain HTTP through nginx and any proxy, and browsers reconnect by
themselves; the page then catches up from the timeline API, so a dropped stream loses
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import web
from sqlalchemy import select

from service.db import asyncpg_dsn, reading
from service.domain import notifications
from service.events import CHANNEL
from service.keys import live_hub_key, read_pool_key, scheduler_key, sessionmaker_key, settings_key
from service.models import Follow
from service.web.auth import require_user

log = logging.getLogger(__name__)

# A quiet connection is checked this often, so a vanished database is noticed promptly.
LISTENER_CHECK_SECONDS = 2.0
RECONNECT_DELAY_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5.0
# Comments keep idle streams open through proxies that drop silent connections.
HEARTBEAT_SECONDS = 15.0
# How long a browser waits before reconnecting a dropped stream.
CLIENT_RETRY_MS = 3000
# Events waiting for one slow client; past this it misses some and catches up on reconnect.
STREAM_QUEUE_EVENTS = 100

routes = web.RouteTableDef()


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class LiveHub:
    """The streams open in this process, by user id."""

    def __init__(self, sessionmaker, read_pool: asyncpg.Pool) -> None:
        self.sessionmaker = sessionmaker
        self.read_pool = read_pool
        self.streams: dict[int, set[asyncio.Queue]] = {}
        self.incoming: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    @property
    def open_streams(self) -> int:
        return sum(len(queues) for queues in self.streams.values())

    def subscribe(self, user_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=STREAM_QUEUE_EVENTS)
        self.streams.setdefault(user_id, set()).add(queue)
        return queue

    def unsubscribe(self, user_id: int, queue: asyncio.Queue) -> None:
        queues = self.streams.get(user_id, set())
        queues.discard(queue)
        if not queues:
            self.streams.pop(user_id, None)

    def _send(self, user_id: int, message: bytes | None) -> None:
        for queue in self.streams.get(user_id, ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)

    def broadcast(self, message: bytes | None) -> None:
        for user_id in list(self.streams):
            self._send(user_id, message)

    def on_notify(self, connection, pid, channel, payload: str) -> None:
        try:
            self.incoming.put_nowait(json.loads(payload))
        except ValueError:
            log.warning("ignoring a malformed event: %r", payload[:200])

    async def _deliver(self, event: dict[str, Any]) -> None:
        connected = list(self.streams)
        if not connected:
            return
        if event.get("type") == "post":
            author = int(event["author_id"])
            async with self.sessionmaker() as db:
                readers = set(
                    await db.scalars(
                        select(Follow.follower_id).where(
                            Follow.followed_id == author, Follow.follower_id.in_(connected)
                        )
                    )
                )
            readers.add(author)
            message = _sse("post", {"post_id": event["post_id"], "author_id": author})
            for user_id in readers & set(connected):
                self._send(user_id, message)
        elif event.get("type") == "notification":
            user_id = int(event["user_id"])
            if user_id in self.streams:
                async with reading(self.read_pool) as connection:
                    unread = await notifications.unread_count(connection, user_id)
                self._send(user_id, _sse("notifications", {"unread": unread}))

    async def dispatch(self) -> None:
        """Fan incoming events out to streams, one at a time, until told to stop (None)."""
        while (event := await self.incoming.get()) is not None:
            try:
                await self._deliver(event)
            except Exception:  # one bad event or a database hiccup must not end live updates
                log.warning("could not deliver %s", event, exc_info=True)


class Listener:
    """One LISTEN connection, reconnected for as long as the process runs."""

    def __init__(self, dsn: str, hub: LiveHub) -> None:
        self.dsn = dsn
        self.hub = hub
        self.stopping = asyncio.Event()

    async def _listen_once(self, reconnected: bool) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(CHANNEL, self.hub.on_notify)
            if reconnected:
                # Events sent while we were away are gone: tell clients to catch up.
                self.hub.broadcast(_sse("resync", {}))
            log.info("listening for live events")
            while not self.stopping.is_set() and not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), LISTENER_CHECK_SECONDS)
                if not self.stopping.is_set() and not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)

    async def run(self) -> None:
        attempts = 0
        while not self.stopping.is_set():
            try:
                await self._listen_once(reconnected=attempts > 0)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("live events connection lost (%s); reconnecting", error)
            attempts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), RECONNECT_DELAY_SECONDS)


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = LiveHub(app[sessionmaker_key], app[read_pool_key])
    app[live_hub_key] = hub
    listener = Listener(asyncpg_dsn(app[settings_key].database.url), hub)
    scheduler = app[scheduler_key]
    listening = await scheduler.spawn(listener.run())
    dispatching = await scheduler.spawn(hub.dispatch())
    yield
    listener.stopping.set()
    hub.incoming.put_nowait(None)
    hub.broadcast(None)
    await listening.wait()
    await dispatching.wait()


async def close_streams(app: web.Application) -> None:
    """At shutdown, end open streams so the server need not wait for them to time out."""
    app[live_hub_key].broadcast(None)


@routes.get("/api/v1/stream", name="api_stream")
async def stream(request: web.Request) -> web.StreamResponse:
    viewer = require_user(request)
    hub = request.app[live_hub_key]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            # nginx: pass events through as they come instead of buffering them.
            "X-Accel-Buffering": "no",
        }
    )
    queue = hub.subscribe(viewer.id)
    try:
        await response.prepare(request)
        async with reading(request.app[read_pool_key]) as connection:
            unread = await notifications.unread_count(connection, viewer.id)
        await response.write(f"retry: {CLIENT_RETRY_MS}\n\n".encode())
        await response.write(_sse("notifications", {"unread": unread}))
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if message is None:
                break
            await response.write(message)
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        hub.unsubscribe(viewer.id, queue)
    return response
