"""The home timeline and explore."""

from __future__ import annotations

from aiohttp import web

from service.reads import posts
from service.views.common import render
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.resources import media_urls, reading
from service.web.templating import wants_fragment


async def home(request: web.Request) -> web.Response:
    viewer = current_user(request)
    if viewer is None:
        return await explore(request)
    after, limit = page_request(request)
    urls = media_urls(request)
    fragment = "fragments/posts.html"
    async with reading(request) as reader:
        if after is None and not wants_fragment(request):
            first = await posts.home_first_page(reader, urls, viewer.id, limit)
            page, pending, unread = first.page, first.pending, first.unread_notifications
            warnings = first.warnings
        else:  # pending posts show on the first page only; render() reads a later one's badge
            page = await posts.home(reader, urls, viewer.id, after, limit)
            pending, unread, warnings = [], None, None
    context = {"page": page, "pending": pending, "errors": {}}
    return await render(
        request, "timeline/home.html", context, unread=unread, fragment=fragment, warnings=warnings
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
