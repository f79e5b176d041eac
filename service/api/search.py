"""/api/snapline/v1/search: people, tags and posts matching ``q``, as /search finds them
(docs/discovery.md)."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, urls
from service.i18n import gettext as _
from service.reads import people
from service.reads import search as found_by
from service.web.auth import current_user
from service.web.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.web.params import query_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

KINDS = ("people", "tags", "posts")


async def search(request: web.Request) -> web.Response:
    """Up to ``limit`` of each kind from ``offset``, or of one with ``type``; with a type,
    ``next_offset`` is the next page's offset while there are more."""
    query = request.query.get("q", "").strip()
    if not query:
        raise Problem(400, _("q is required."), "invalid_q")
    kind = request.query.get("type", "")
    if kind and kind not in KINDS:
        raise Problem(400, _("type must be people, tags or posts."), "invalid_type")
    limit = query_number(request, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = query_number(request, "offset", 0, 0, found_by.MAX_SEARCH_OFFSET)
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    found: dict[str, list] = {name: [] for name in KINDS}
    # One more than asked of the kind asked for: whether there is a next page.
    extra = 1 if kind else 0
    async with reading(request) as reader:
        if kind in ("", "people"):
            found["people"] = await people.search_people(
                reader, query, viewer_id, offset, limit + extra
            )
        if kind in ("", "tags"):
            found["tags"] = await found_by.search_tags(
                reader, query, viewer_id, offset, limit + extra
            )
        if kind in ("", "posts"):
            found["posts"] = await found_by.search_posts(
                reader, media_urls(request), query, viewer_id, offset, limit + extra
            )
    more = bool(kind) and len(found[kind]) > limit
    next_offset = offset + limit if more and offset + limit <= found_by.MAX_SEARCH_OFFSET else None
    links = urls(request)
    return json_response(
        {
            "people": [serialize.user(profile, links) for profile in found["people"][:limit]],
            "tags": [serialize.found_tag(tag, links) for tag in found["tags"][:limit]],
            "posts": [
                {"post": serialize.post(hit.status.post, links), "snippet_html": hit.snippet}
                for hit in found["posts"][:limit]
            ],
            "next_offset": next_offset,
        }
    )
