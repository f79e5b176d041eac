"""/api/v1/trends/statuses and /api/v1/trends/tags: what trends here (docs/trending.md), as
Mastodon answers, paged by ``offset`` with a ``Link`` to the next page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from service.mastodon import entities
from service.mastodon.common import json_response, links, listed_statuses
from service.reads import trending
from service.reads.views import TagView, TrendingTagView
from service.web.auth import current_user
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

# Mastodon's limits: statuses 20 by default, at most 40; tags 10, at most 20.
STATUSES_LIMITS = (20, 40)
TAGS_LIMITS = (10, 20)
# How deep an app may page: trending is about the top, and each page of an offset walks
# the pages before it (keyset pages of at most 50 posts: at most six statements).
MAX_STATUSES_OFFSET = 240


def _number(request: web.Request, name: str, default: int, most: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw, 0, 2**31)
    if value is None:
        raise Problem(422, f"{name} must be a number", f"invalid_{name}")
    return min(most, value)


def _answer(request: web.Request, items: list[Any], offset: int, limit: int) -> web.Response:
    headers = {}
    if len(items) == limit:
        kept = [(k, v) for k, v in request.query.items() if k != "offset"]
        url = (
            f"{links(request).base}{request.path}?{urlencode([*kept, ('offset', offset + limit)])}"
        )
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response(items, headers=headers)


async def statuses(request: web.Request) -> web.Response:
    """The posts trending for the viewer, highest first."""
    viewer = current_user(request)
    default, most = STATUSES_LIMITS
    limit = max(1, _number(request, "limit", default, most))
    offset = _number(request, "offset", 0, MAX_STATUSES_OFFSET + 1)
    if offset > MAX_STATUSES_OFFSET:
        return json_response([])
    async with reading(request) as reader:
        listed = await trending.statuses(
            reader, media_urls(request), viewer.id if viewer else None, offset, limit
        )
    return _answer(request, listed_statuses(request, listed), offset, limit)


def _tag(view: TrendingTagView, request: web.Request) -> dict[str, Any]:
    """A Tag entity with one day of history: today's uses among the trending posts."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tag = entities.tag(TagView(view.name, view.display, view.post_count), links(request))
    tag["history"] = [
        {
            "day": str(int(today.timestamp())),
            "uses": str(view.uses),
            "accounts": str(view.accounts),
        }
    ]
    return tag


async def tags(request: web.Request) -> web.Response:
    """The tags of the posts trending for the viewer, most used by most people first."""
    viewer = current_user(request)
    default, most = TAGS_LIMITS
    limit = max(1, _number(request, "limit", default, most))
    offset = _number(request, "offset", 0, most)
    async with reading(request) as reader:
        found = await trending.tags(reader, viewer.id if viewer else None, min(offset + limit, 40))
    items = [_tag(view, request) for view in found[offset : offset + limit]]
    return _answer(request, items, offset, limit)
