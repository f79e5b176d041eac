"""/api/snapline/v1/notifications: the list, and marking it read."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json
from service.domain import notifications
from service.keys import sessionmaker_key
from service.reads import notifications as notification_reads
from service.web.auth import require_user
from service.web.paging import page_request
from service.web.resources import media_urls, reading


async def list_notifications(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await notification_reads.page(reader, media_urls(request), viewer.id, after, limit)
    return page_json(request, page, serialize.notification)


async def read_all(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notifications.mark_all_read(db, viewer.id)
    return json_response({"unread": 0})
