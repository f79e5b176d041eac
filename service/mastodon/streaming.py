"""/api/v1/streaming: the Mastodon streaming API as Server-Sent Events (docs/api.md).

The user stream carries Mastodon's ``update`` (a post of the home timeline: the reader's own
or of someone they follow), ``delete`` (such a post's status id, when it is deleted) and
``notification``; ``user:notification`` the notifications alone. The live hub
(service/live.py) hands each app stream the events its reader may hear of; each is turned
into its entity here through the read layer, with the stream's reader as the viewer, so the
visibility rule (blocks, mutes, suspension) applies to each reader as it does to every
page. A stream lasts as long as its token: revoked, or its user suspended, the hub ends it.

WebSocket is not served: apps that stream over HTTP (Mastodon.py, most libraries) find the
stream at the instance's streaming URL, which is this server's public URL.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from service import scopes
from service.i18n import gettext as _
from service.keys import live_hub_key
from service.live import AppStream
from service.mastodon.common import statuses
from service.mastodon.notifications import notification_entities
from service.reads import notifications
from service.reads import posts as post_reads
from service.security import token_hash
from service.web.auth import bearer_token, current_token, require_user
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.tokens import outside_scopes

log = logging.getLogger(__name__)

# Mastodon's streaming server sends this comment every 15 s; proxies that drop a silent
# connection keep it open.
HEARTBEAT_SECONDS = 15.0
HEARTBEAT = b":thump\n"
# Mastodon's first line of a stream, a comment: the headers are out and the stream is live.
OPENED = b":)\n"
USER = "user"
USER_NOTIFICATION = "user:notification"
# The scope each stream needs, as Mastodon's streaming server asks (``read`` includes both).
STREAM_SCOPES = {USER: "read:statuses", USER_NOTIFICATION: "read:notifications"}


def event_message(name: str, payload: str) -> bytes:
    """One event as Mastodon writes it: the payload on one line (JSON has no raw newline)."""
    return f"event: {name}\ndata: {payload}\n\n".encode()


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK", content_type="text/plain")


async def user(request: web.Request) -> web.StreamResponse:
    return await _stream(request, USER)


async def user_notification(request: web.Request) -> web.StreamResponse:
    return await _stream(request, USER_NOTIFICATION)


async def by_name(request: web.Request) -> web.StreamResponse:
    """``/api/v1/streaming?stream=user``: the stream named by the query. Of Mastodon's
    streams only the user's are served: public, hashtag, list and direct are unknown here."""
    name = request.query.get("stream", "")
    if name not in STREAM_SCOPES:
        raise Problem(400, _("Unknown stream type"))
    return await _stream(request, name)


async def _stream(request: web.Request, name: str) -> web.StreamResponse:
    grant = current_token(request)
    token = bearer_token(request)
    if grant is None or token is None:
        # A stream ends with its token; a browser's session has its own stream.
        raise Problem(401, _("Missing access token"))
    viewer = require_user(request)  # an app's own token has nobody to stream for
    if not scopes.grants(grant.scopes, STREAM_SCOPES[name]):
        return outside_scopes(request)
    hub = request.app[live_hub_key]
    live_stream = hub.subscribe_app(
        viewer.id,
        token_hash(token),
        statuses=name == USER,
        notifications=scopes.grants(grant.scopes, "read:notifications"),
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            # nginx: pass events through as they come instead of buffering them.
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await response.prepare(request)
        await response.write(OPENED)
        await _pass_events(request, response, live_stream, viewer.id)
    except (ConnectionResetError, ConnectionError):
        pass  # the app went away
    finally:
        hub.unsubscribe(live_stream)
    return response


async def _pass_events(
    request: web.Request, response: web.StreamResponse, live_stream: AppStream, viewer_id: int
) -> None:
    while True:
        try:
            event = await asyncio.wait_for(live_stream.queue.get(), HEARTBEAT_SECONDS)
        except TimeoutError:
            await response.write(HEARTBEAT)
            continue
        if event is None:
            return  # the token was revoked, its user suspended, or the server stops
        try:
            message = await _message(request, event, viewer_id)
        except Exception:  # a database hiccup costs this event, not the stream
            log.warning("could not build a streamed event: %r", event, exc_info=True)
            continue
        if message is not None and not live_stream.ended:
            await response.write(message)


async def _message(request: web.Request, event: dict[str, Any], viewer_id: int) -> bytes | None:
    """The event as Mastodon sends it to this reader; None when there is nothing they may
    see (the post was deleted meanwhile, its author is hidden from them)."""
    kind = event.get("type")
    if kind == "post_deleted":
        return event_message("delete", str(int(event["status_id"])))
    async with reading(request) as reader:
        if kind == "post":
            found = await post_reads.by_ids(
                reader, media_urls(request), [int(event["post_id"])], viewer_id
            )
            entities = await statuses(reader, request, found, viewer_id)
            name = "update"
        elif kind == "notification":
            one = await notifications.event(reader, viewer_id, int(event["notification_id"]))
            found_notifications = [one] if one is not None else []
            entities = await notification_entities(reader, request, found_notifications, viewer_id)
            name = "notification"
        else:
            return None
    if not entities:
        return None
    return event_message(name, orjson.dumps(entities[0]).decode())
