"""/api/v1/timelines/home, /api/v1/timelines/public and /api/v1/timelines/tag/:hashtag,
paged by status id."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.mastodon.common import listed_statuses, not_found, page_response, window
from service.reads import statuses as status_reads
from service.web.auth import current_user, require_user
from service.web.resources import media_urls, reading


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"true", "1", "on"}


async def public(request: web.Request) -> web.Response:
    """Every published post: all are local here, so ``local=true`` changes nothing and
    ``remote=true`` finds none."""
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    paging = window(request)
    if _flag(request, "remote"):
        return page_response(request, [])
    async with reading(request) as reader:
        listed = await status_reads.public(
            reader, media_urls(request), viewer_id, paging.above, paging.below,
            paging.oldest_first, paging.limit,
        )  # fmt: skip
    return page_response(request, listed_statuses(request, listed))


async def home(request: web.Request) -> web.Response:
    """The viewer's own posts and those of everyone they follow."""
    viewer = require_user(request)
    paging = window(request)
    async with reading(request) as reader:
        listed = await status_reads.home(
            reader, media_urls(request), viewer.id, paging.above, paging.below,
            paging.oldest_first, paging.limit,
        )  # fmt: skip
    return page_response(request, listed_statuses(request, listed))


async def tag(request: web.Request) -> web.Response:
    """The posts tagged with the hashtag (any spelling of it; a tag no post has is an empty
    list, a name that cannot be a tag 404). ``only_media`` keeps those with photos; all are
    local, so ``local=true`` changes nothing and ``remote=true`` finds none. ``any[]``,
    ``all[]`` and ``none[]`` are not supported: they are ignored."""
    written = request.match_info["hashtag"]
    if discovery.tag_error(written):
        raise not_found()
    name = discovery.normalize_tag(written.removeprefix("#").removeprefix("\uff03"))
    viewer = current_user(request)
    paging = window(request)
    if _flag(request, "remote"):
        return page_response(request, [])
    async with reading(request) as reader:
        listed = await status_reads.tagged(
            reader, media_urls(request), viewer.id if viewer else None, name,
            _flag(request, "only_media"), paging.above, paging.below, paging.oldest_first,
            paging.limit,
        )  # fmt: skip
    return page_response(request, listed_statuses(request, listed))
