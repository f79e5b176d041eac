"""The home timeline and explore."""

from __future__ import annotations

from aiohttp import web

from service.reads import notifications, posts
from service.views.common import render
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.resources import media_urls, reading


async def home(request: web.Request) -> web.Response:
    viewer = current_user(request)
    if viewer is None:
        return await explore(request)
    after, limit = page_request(request)
    urls = media_urls(request)
    async with reading(request) as reader:
        page = await posts.home(reader, urls, viewer.id, after, limit)
        pending = await posts.pending(reader, urls, viewer.id) if after is None else []
        unread = await notifications.unread_count(reader, viewer.id)
    context = {"page": page, "pending": pending, "errors": {}}
    return await render(
        request, "timeline/home.html", context, unread=unread, fragment="fragments/posts.html"
    )


async def explore(request: web.Request) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await posts.explore(
            reader, media_urls(request), viewer.id if viewer else None, after, limit
        )
    return await render(
        request, "timeline/explore.html", {"page": page}, fragment="fragments/posts.html"
    )
