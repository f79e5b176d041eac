"""The home timeline, explore (trending or latest) and the signed-out front page."""

from __future__ import annotations

from aiohttp import web

from service.i18n import gettext as _
from service.reads import posts, trending
from service.views.common import render
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.templating import wants_fragment

# Explore lists everyone's public posts, trending first unless asked for the latest.
EXPLORE_SORTS = ("trending", "latest")
# The signed-out front page's grid of trending photos: seven rows of three tiles.
FRONT_GRID_SIZE = 21


async def home(request: web.Request) -> web.Response:
    viewer = current_user(request)
    if viewer is None:
        return await front(request)
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


async def front(request: web.Request) -> web.Response:
    """For someone not signed in: trending photos as a grid; the latest posts instead while
    nothing with photos trends (a new instance)."""
    after, limit = page_request(request, FRONT_GRID_SIZE)
    async with reading(request) as reader:
        page = await trending.posts(reader, media_urls(request), None, after, limit, True)
    if not page.items and after is None:
        return await explore(request, "latest")
    return await render(
        request, "timeline/front.html", {"page": page}, fragment="fragments/photos.html"
    )


def _sort(request: web.Request, sorts: tuple[str, ...]) -> str:
    sort = request.query.get("sort", sorts[0])
    if sort not in sorts:
        raise Problem(400, f"sort must be {' or '.join(sorts)}.", "invalid_sort")
    return sort


async def explore(request: web.Request, sort: str | None = None) -> web.Response:
    viewer = current_user(request)
    sort = sort or _sort(request, EXPLORE_SORTS)
    after, limit = page_request(request)
    viewer_id = viewer.id if viewer else None
    async with reading(request) as reader:
        if sort == "trending":
            page = await trending.posts(reader, media_urls(request), viewer_id, after, limit)
        else:
            page = await posts.explore(reader, media_urls(request), viewer_id, after, limit)
    context = {
        "page": page,
        "sort": sort,
        "more_query": "" if sort == EXPLORE_SORTS[0] else f"sort={sort}",
        "empty_message": _("Nothing is trending yet.")
        if sort == "trending"
        else _("No posts yet."),
    }
    return await render(request, "timeline/explore.html", context, fragment="fragments/posts.html")
