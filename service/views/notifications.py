"""/notifications: the list, and marking it read."""

from __future__ import annotations

from aiohttp import web

from service.domain import notifications
from service.keys import sessionmaker_key
from service.reads import notifications as notification_reads
from service.reads import people
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.paging import page_request
from service.web.resources import media_urls, reading
from service.web.urls import url_for


async def notifications_page(request: web.Request) -> web.Response:
    """The list, likes of one post grouped. Opening it reads what it shows, as the big apps
    do: the first page marks every notification up to the newest shown as read (they still
    look new on this view), so the badge clears."""
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await notification_reads.page(reader, media_urls(request), viewer.id, after, limit)
        asking = await people.follow_request_count(reader, viewer.id)
        own = await people.profile(reader, viewer.username, viewer.id)
    newest = page.items[0] if page.items else None
    if after is None and newest is not None and any(not item.read for item in page.items):
        async with request.app[sessionmaker_key].begin() as db:
            await notifications.mark_all_read(db, viewer.id, through_id=newest.id)
    context = {
        "page": page,
        "groups": notification_reads.grouped(page.items),
        "follow_requests": asking,
        "locked": own is not None and own.locked,
    }
    return await render(request, "notifications.html", context)


async def read_all(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notifications.mark_all_read(db, viewer.id)
    raise redirect(url_for(request, "notifications"))
