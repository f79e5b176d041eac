"""/api/snapline/v1/tags/{tag}/posts: a hashtag's posts, as its page lists them."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.api import serialize
from service.api.common import page_json
from service.reads import statuses
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading


async def tag_posts(request: web.Request) -> web.Response:
    """Newest first, by any spelling of the tag; a tag no post has had is an empty page,
    a name that cannot be a tag 404 (docs/discovery.md)."""
    written = request.match_info["tag"]
    if discovery.tag_error(written):
        raise Problem(404, "There is no such hashtag.")
    name = discovery.normalize_tag(written.removeprefix("#").removeprefix("\uff03"))
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await statuses.tag_page(
            reader, media_urls(request), name, viewer.id if viewer else None, after, limit
        )
    return page_json(request, page, serialize.post)
