"""A hashtag's page: its posts, newest first (docs/discovery.md)."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.reads import statuses, tags
from service.reads.views import TagView
from service.views.common import render
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.templating import wants_fragment


def tag_name(request: web.Request, part: str = "tag") -> tuple[str, str]:
    """The tag a path names, by its normalised or its display form (with or without its
    ``#``): (normalised name, as written). 404 for what cannot be a tag."""
    written = request.match_info[part]
    if discovery.tag_error(written):
        raise Problem(404, "There is no such hashtag.")
    written = written.removeprefix("#").removeprefix("＃")
    return discovery.normalize_tag(written), written


async def tag(request: web.Request) -> web.Response:
    """A tag that no post ever had is an empty page, not an error: its posts may come."""
    name, written = tag_name(request)
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await statuses.tag_page(
            reader, media_urls(request), name, viewer.id if viewer else None, after, limit
        )
        found = None if wants_fragment(request) else await tags.by_name(reader, name)
    shown = found or TagView(name, discovery.display_tag(written), 0)
    return await render(
        request,
        "tags/show.html",
        {"page": page, "tag": shown, "empty_message": "No posts with this hashtag yet."},
        fragment="fragments/posts.html",
    )
