"""/api/snapline/v1/trending and /api/snapline/v1/trending/tags: what trends, as Explore and
the front page show it (docs/trending.md)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, urls
from service.reads import trending
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.params import query_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

DEFAULT_TAGS = 10
MAX_TAGS = 20


def flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false")
    if raw not in ("true", "false"):
        raise Problem(400, f"{name} must be true or false.", f"invalid_{name}")
    return raw == "true"


async def posts(request: web.Request) -> web.Response:
    """Trending posts, highest first; ``photos=true`` keeps those with photos."""
    viewer = current_user(request)
    photos_only = flag(request, "photos")
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await trending.posts(
            reader, media_urls(request), viewer.id if viewer else None, after, limit, photos_only
        )
    return page_json(request, page, serialize.post)


async def tags(request: web.Request) -> web.Response:
    """The tags of what trends, most used by most people first: one page, no more."""
    viewer = current_user(request)
    limit = query_number(request, "limit", DEFAULT_TAGS, 1, MAX_TAGS)
    async with reading(request) as reader:
        found = await trending.tags(reader, viewer.id if viewer else None, limit)
    template = urls(request).template("tag")
    items = [
        {
            "name": tag.name,
            "display": tag.display,
            "url": template.format(tag=quote(tag.name, safe="")),
            "post_count": tag.post_count,
            "uses": tag.uses,
            "accounts": tag.accounts,
        }
        for tag in found
    ]
    return json_response({"items": items, "next_cursor": None})
