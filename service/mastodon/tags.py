"""/api/v1/tags/:name: a hashtag as Mastodon's Tag entity (docs/discovery.md)."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.mastodon import entities
from service.mastodon.common import json_response, links, not_found
from service.reads import tags
from service.web.resources import reading


async def tag(request: web.Request) -> web.Response:
    """The tag by any spelling of its name; 404 for one that no post ever had. It keeps no
    usage history, and cannot be followed yet."""
    written = request.match_info["name"]
    if discovery.tag_error(written):
        raise not_found()
    name = discovery.normalize_tag(written.removeprefix("#").removeprefix("\uff03"))
    async with reading(request) as reader:
        found = await tags.by_name(reader, name)
    if found is None:
        raise not_found()
    return json_response(entities.tag(found, links(request)))
