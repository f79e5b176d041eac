"""/api/snapline/v1/stream: the signed-in user's live events as Server-Sent Events (see
service/live.py)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from service.i18n import gettext as _
from service.keys import live_hub_key, read_pool_key
from service.live import sse
from service.reads import notifications
from service.reads.statements import reading
from service.security import token_hash
from service.web.auth import current_session_secret, require_user
from service.web.problems import Problem

# Comments keep idle streams open through proxies that drop silent connections.
HEARTBEAT_SECONDS = 15.0
# How long a browser waits before reconnecting a dropped stream.
CLIENT_RETRY_MS = 3000


async def stream(request: web.Request) -> web.StreamResponse:
    viewer = require_user(request)
    secret = await current_session_secret(request)
    if secret is None:  # a user without a session id: never, but no stream we cannot end
        raise Problem(401, _("Log in to do that."), "login_required")
    hub = request.app[live_hub_key]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            # nginx: pass events through as they come instead of buffering them.
            "X-Accel-Buffering": "no",
        }
    )
    live_stream = hub.subscribe(viewer.id, token_hash(secret))
    try:
        await response.prepare(request)
        async with reading(request.app[read_pool_key]) as reader:
            unread = await notifications.unread_count(reader, viewer.id)
        await response.write(f"retry: {CLIENT_RETRY_MS}\n\n".encode())
        await response.write(sse("notifications", {"unread": unread}))
        while True:
            try:
                message = await asyncio.wait_for(live_stream.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if message is None:
                break
            await response.write(message)
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        hub.unsubscribe(live_stream)
    return response
