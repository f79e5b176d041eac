"""/api/snapline/v1/tags/{tag}: a hashtag, its posts as its page lists them (newest or
trending first), and following it (docs/discovery.md, docs/trending.md)."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, urls
from service.handlers.actions import change_tag_follow, written_tag
from service.i18n import gettext as _
from service.reads import statuses, tags, trending
from service.reads.views import TagView
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def _tag_json(request: web.Request, name: str, display: str) -> web.Response:
    async with reading(request) as reader:
        found = await tags.by_name(reader, name, _viewer_id(request))
    return json_response(serialize.tag(found or TagView(name, display, 0), urls(request)))


async def tag(request: web.Request) -> web.Response:
    """The tag by any spelling; one no post has had (and nobody follows) has no posts yet,
    as its page says, rather than being an error."""
    name, display = written_tag(request.match_info["tag"])
    return await _tag_json(request, name, display)


async def tag_posts(request: web.Request) -> web.Response:
    """Newest first (``sort=latest``) or trending first (``sort=top``), by any spelling of
    the tag; a tag no post has had is an empty page, a name that cannot be a tag 404
    (docs/discovery.md)."""
    name, _display = written_tag(request.match_info["tag"])
    sort = request.query.get("sort", "latest")
    if sort not in ("latest", "top"):
        raise Problem(400, _("sort must be latest or top."), "invalid_sort")
    viewer_id = _viewer_id(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        if sort == "top":
            page = await trending.tag_posts(
                reader, media_urls(request), name, viewer_id, after, limit
            )
        else:
            page = await statuses.tag_page(
                reader, media_urls(request), name, viewer_id, after, limit
            )
    return page_json(request, page, serialize.post)


async def follow(request: web.Request) -> web.Response:
    """Follow the tag (idempotent): its public posts come into the home timeline. 422 past
    the limit of followed tags."""
    name, display = written_tag(request.match_info["tag"])
    await change_tag_follow(request, name, display, start=True)
    return await _tag_json(request, name, display)


async def unfollow(request: web.Request) -> web.Response:
    name, display = written_tag(request.match_info["tag"])
    await change_tag_follow(request, name, display, start=False)
    return await _tag_json(request, name, display)
