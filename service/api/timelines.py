"""/api/snapline/v1/timeline and /api/snapline/v1/explore."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import page_json
from service.reads import posts as post_reads
from service.web.auth import current_user, require_user
from service.web.paging import page_request
from service.web.resources import media_urls, reading


async def timeline(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await post_reads.home(reader, media_urls(request), viewer.id, after, limit)
    return page_json(request, page, serialize.post)


async def explore(request: web.Request) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await post_reads.explore(
            reader, media_urls(request), viewer.id if viewer else None, after, limit
        )
    return page_json(request, page, serialize.post)
