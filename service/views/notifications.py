"""/notifications: the list, and marking it read."""

from __future__ import annotations

from aiohttp import web

from service.domain import notifications
from service.keys import sessionmaker_key
from service.reads import notifications as notification_reads
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.paging import page_request
from service.web.resources import reading
from service.web.urls import url_for


async def notifications_page(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await notification_reads.page(reader, viewer.id, after, limit)
        unread = await notification_reads.unread_count(reader, viewer.id)
    return await render(request, "notifications.html", {"page": page}, unread=unread)


async def read_all(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notifications.mark_all_read(db, viewer.id)
    raise redirect(url_for(request, "notifications"))
