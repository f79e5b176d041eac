"""Live updates: PostgreSQL LISTEN/NOTIFY in, Server-Sent Events out.

Every process keeps one listening connection (re-established whenever it drops, e.g. when
the database restarts) and fans events out to the streams open in that process, so any
number of processes behind a load balancer behave as one. SSE rather than WebSocket: the
traffic is one-way, it is plain HTTP through nginx and any proxy, and browsers reconnect by
themselves; the page then catches up from the timeline API, so a dropped stream loses
nothing.

A stream lasts only as long as its session. Deleting an auth_sessions row (logout, a
password change or reset, a deleted account) makes the database announce it from the same
transaction, and every process ends that session's streams on hearing it; a periodic check
catches what no announcement covers (expiry, a moment without the listening connection).

Apps' streams (the Mastodon streaming API, service/mastodon/streaming.py) are told the
events themselves rather than messages: each handler builds the entity of each for its own
reader through the read layer. Such a stream lasts as long as its token: a revoked token's
streams end on its announcement, a suspended user's when their change is announced, and
the periodic check covers both too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import web

from service import events
from service.db import asyncpg_dsn
from service.domain import sessions as auth_sessions
from service.events import CHANNEL
from service.keys import (
    live_hub_key,
    read_pool_key,
    scheduler_key,
    session_cache_key,
    sessionmaker_key,
    settings_key,
    token_cache_key,
)
from service.reads import notifications, posts, tokens
from service.reads.session_cache import SessionCache
from service.reads.statements import reading
from service.reads.token_cache import TokenCache
from service.workers.connection import HeldConnection

log = logging.getLogger(__name__)

# Events waiting for one slow client; past this it misses some and catches up on reconnect.
STREAM_QUEUE_EVENTS = 100
# A stream whose session ended unannounced (it expired, or the announcement came while this
# process was not listening) is closed within this long.
SESSION_CHECK_SECONDS = 5.0

routes = web.RouteTableDef()


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


# Internal to the hub: look again at the tokens of a user's app streams (their user changed,
# perhaps to suspended). Put on the queue of incoming events, so it waits for the database
# behind the events before it rather than on the listener's callback.
RECHECK_TOKENS = "recheck_tokens"


class Outlet:
    """What every open stream has: whose it is, and what waits to be written (None: end)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=STREAM_QUEUE_EVENTS)
        self.ended = False

    def send(self, item: Any) -> None:
        if not self.ended:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(item)

    def end(self) -> None:
        """Close the stream next, dropping what is still waiting: once its session or token
        has ended, not one more event may reach it (and a full queue must not keep the end
        out)."""
        if self.ended:
            return
        self.ended = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Stream(Outlet):
    """A signed-in page's stream: the session it belongs to (the hash stored in
    auth_sessions), and the messages waiting to be written."""

    def __init__(self, user_id: int, session_hash: bytes) -> None:
        super().__init__(user_id)
        self.session_hash = session_hash


class AppStream(Outlet):
    """An app's stream: the token it came with (the hash stored in access_tokens), which
    events its scopes let it hear (posts of the home timeline and their deletion;
    notifications), and the events waiting, as the hub received them."""

    def __init__(
        self, user_id: int, token_hash: bytes, statuses: bool, notifications: bool
    ) -> None:
        super().__init__(user_id)
        self.token_hash = token_hash
        self.statuses = statuses
        self.notifications = notifications


class LiveHub:
    """The streams open in this process, by user id."""

    def __init__(
        self,
        sessionmaker,
        read_pool: asyncpg.Pool,
        sessions: SessionCache,
        tokens: TokenCache | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_pool = read_pool
        self.sessions = sessions
        self.tokens = tokens if tokens is not None else TokenCache()
        self.streams: dict[int, set[Stream | AppStream]] = {}
        self.incoming: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    @property
    def open_streams(self) -> int:
        return sum(len(streams) for streams in self.streams.values())

    def subscribe(self, user_id: int, session_hash: bytes) -> Stream:
        stream = Stream(user_id, session_hash)
        self.streams.setdefault(user_id, set()).add(stream)
        return stream

    def subscribe_app(
        self, user_id: int, token_hash: bytes, statuses: bool, notifications: bool
    ) -> AppStream:
        stream = AppStream(user_id, token_hash, statuses, notifications)
        self.streams.setdefault(user_id, set()).add(stream)
        return stream

    def unsubscribe(self, stream: Stream | AppStream) -> None:
        streams = self.streams.get(stream.user_id, set())
        streams.discard(stream)
        if not streams:
            self.streams.pop(stream.user_id, None)

    def _pages(self, user_id: int) -> list[Stream]:
        return [s for s in self.streams.get(user_id, ()) if isinstance(s, Stream)]

    def _apps(self, user_id: int) -> list[AppStream]:
        return [s for s in self.streams.get(user_id, ()) if isinstance(s, AppStream)]

    def _send(self, user_id: int, message: bytes) -> None:
        for stream in self._pages(user_id):
            stream.send(message)

    def _tell_apps(self, user_id: int, event: dict[str, Any], about_statuses: bool) -> None:
        """Hand the event to the user's app streams whose scopes cover it."""
        for stream in self._apps(user_id):
            if stream.statuses if about_statuses else stream.notifications:
                stream.send(event)

    def broadcast(self, message: bytes) -> None:
        for user_id in list(self.streams):
            self._send(user_id, message)

    def end_all(self) -> None:
        for streams in self.streams.values():
            for stream in streams:
                stream.end()

    def end_session(self, user_id: int, session_hash: bytes) -> None:
        for stream in self._pages(user_id):
            if stream.session_hash == session_hash:
                stream.end()

    def end_token(self, token_hash: bytes) -> None:
        for streams in self.streams.values():
            for stream in streams:
                if isinstance(stream, AppStream) and stream.token_hash == token_hash:
                    stream.end()

    async def _end_dead_tokens(self, streams: list[AppStream]) -> None:
        """End the streams whose token no longer grants anything: revoked, or its user
        suspended."""
        if not streams:
            return
        async with reading(self.read_pool) as reader:
            live = await tokens.live_tokens(reader, {stream.token_hash for stream in streams})
        for stream in streams:
            if stream.token_hash not in live:
                stream.end()

    def _session_ended(self, event: dict[str, Any]) -> None:
        try:
            user_id, session_hash = int(event["user_id"]), bytes.fromhex(event["session"])
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring a malformed session event: %r", event)
            # Which session it was is unknown: forget them all rather than keep it.
            self.sessions.listening(True)
            return
        self.sessions.session_ended(session_hash)
        self.end_session(user_id, session_hash)

    async def check_sessions(self, stopping: asyncio.Event) -> None:
        """Every few seconds, end the streams whose session is gone: it expired (nobody
        deletes a row for that), or its end was announced while this process was not
        listening; and apps' streams whose token was revoked or whose user was suspended
        unheard. Until the database answers again, streams stay open."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), SESSION_CHECK_SECONDS)
            open_streams = [stream for streams in self.streams.values() for stream in streams]
            if stopping.is_set() or not open_streams:
                continue
            pages = [stream for stream in open_streams if isinstance(stream, Stream)]
            try:
                if pages:
                    async with self.sessionmaker() as db:
                        live = await auth_sessions.live_sessions(
                            db, {stream.session_hash for stream in pages}
                        )
                    for stream in pages:
                        if stream.session_hash not in live:
                            stream.end()
                await self._end_dead_tokens(
                    [stream for stream in open_streams if isinstance(stream, AppStream)]
                )
            except Exception:  # a database hiccup must not end the check for good
                log.warning("could not check the sessions of live streams", exc_info=True)

    def stopped_listening(self) -> None:
        """The listening connection is lost: announcements may be missed from now on."""
        self.sessions.listening(False)
        self.tokens.listening(False)

    def on_notify(self, connection, pid, channel, payload: str) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed event: %r", payload[:200])
            return
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == events.SESSION_ENDED:
            # At once, not behind the events waiting for delivery: nothing queued after
            # this may reach the stream, nor may the session serve another request.
            self._session_ended(event)
        elif kind == events.USER_CHANGED:
            try:
                user_id = int(event["user_id"])
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a malformed user event: %r", event)
                return
            self.sessions.user_changed(user_id)
            self.tokens.user_changed(user_id)
            if self._apps(user_id):
                self.incoming.put_nowait({"type": RECHECK_TOKENS, "user_id": user_id})
        elif kind == events.TOKEN_REVOKED:
            try:
                token_hash = bytes.fromhex(event["token"])
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring a malformed token event: %r", event)
                # Which token it was is unknown: forget them all rather than keep it.
                self.tokens.listening(True)
                return
            # At once, as for sessions: no event queued after this may reach its streams.
            self.tokens.revoked(token_hash)
            self.end_token(token_hash)
        else:
            self.incoming.put_nowait(event)

    async def _deliver(self, event: dict[str, Any]) -> None:
        connected = list(self.streams)
        if not connected:
            return
        kind = event.get("type")
        if kind == "post":
            author = int(event["author_id"])
            # Whose home it comes into (the author's followers, a public post's tags'
            # followers) who may see it: not across a block, nor muting them.
            async with reading(self.read_pool) as reader:
                readers = await posts.readers(reader, int(event["post_id"]), connected)
            readers.add(author)
            message = sse("post", {"post_id": event["post_id"], "author_id": author})
            for user_id in readers & set(connected):
                self._send(user_id, message)
                self._tell_apps(user_id, event, about_statuses=True)
        elif kind == "post_deleted":
            author = int(event["author_id"])
            # Apps alone hear of it (pages drop a deleted post when next loaded): the
            # author and their followers who may see what they write.
            listening = [u for u in connected if any(s.statuses for s in self._apps(u))]
            if not listening:
                return
            async with reading(self.read_pool) as reader:
                readers = await posts.author_readers(reader, author, listening)
            for user_id in (readers | {author}) & set(listening):
                self._tell_apps(user_id, event, about_statuses=True)
        elif kind == "post_failed":
            author = int(event["author_id"])
            self._send(author, sse("post-failed", {"post_id": event["post_id"]}))
        elif kind == "notification":
            user_id = int(event["user_id"])
            if self._pages(user_id):
                async with reading(self.read_pool) as reader:
                    unread = await notifications.unread_count(reader, user_id)
                self._send(user_id, sse("notifications", {"unread": unread}))
            if "notification_id" in event:
                self._tell_apps(user_id, event, about_statuses=False)
        elif kind == RECHECK_TOKENS:
            await self._end_dead_tokens(self._apps(int(event["user_id"])))

    async def dispatch(self) -> None:
        """Fan incoming events out to streams, one at a time, until told to stop (None)."""
        while (event := await self.incoming.get()) is not None:
            try:
                await self._deliver(event)
            except Exception:  # one bad event or a database hiccup must not end live updates
                log.warning("could not deliver %s", event, exc_info=True)


async def _listen(hub: LiveHub, connection: asyncpg.Connection, reconnected: bool) -> None:
    await connection.add_listener(CHANNEL, hub.on_notify)
    # From here on no announcement is missed: sessions may be remembered again.
    hub.sessions.listening(True)
    hub.tokens.listening(True)
    if reconnected:
        # Events sent while we were away are gone: tell clients to catch up.
        hub.broadcast(sse("resync", {}))
    log.info("listening for live events")


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = LiveHub(
        app[sessionmaker_key], app[read_pool_key], app[session_cache_key], app[token_cache_key]
    )
    app[live_hub_key] = hub
    listener = HeldConnection(
        asyncpg_dsn(app[settings_key].database.url),
        "live events",
        functools.partial(_listen, hub),
        on_lost=hub.stopped_listening,
    )
    scheduler = app[scheduler_key]
    listening = await scheduler.spawn(listener.run())
    dispatching = await scheduler.spawn(hub.dispatch())
    checking = await scheduler.spawn(hub.check_sessions(listener.stopping))
    yield
    listener.stopping.set()
    hub.incoming.put_nowait(None)
    hub.end_all()
    await listening.wait()
    await dispatching.wait()
    # Not waited for: with the database unreachable its check could hold up the stop.
    await checking.close()


async def close_streams(app: web.Application) -> None:
    """At shutdown, end open streams so the server need not wait for them to time out."""
    app[live_hub_key].end_all()
