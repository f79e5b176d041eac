"""/api/v1/statuses/:id, its context and who favourited it.

A status id names a post or a comment by its last bit (docs/api.md): even, a post; odd, a
comment, shown as a reply to its post."""

from __future__ import annotations

from aiohttp import web

from service.mastodon.common import (
    accounts_of,
    comment_statuses,
    id_from_path,
    json_response,
    not_found,
    page_response,
    statuses,
    window,
)
from service.reads import comments, people
from service.reads import statuses as status_reads
from service.reads.statements import Reader
from service.reads.views import CommentView, PostView
from service.web.auth import current_user
from service.web.resources import media_urls, reading

COMMENT_KIND = 1


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def _find(
    reader: Reader, request: web.Request, viewer_id: int | None
) -> PostView | CommentView:
    status_id = id_from_path(request)
    if status_id & 1 == COMMENT_KIND:
        found = await comments.by_status_id(reader, status_id, viewer_id)
    else:
        found = await status_reads.by_status_id(reader, media_urls(request), status_id, viewer_id)
    if found is None:
        raise not_found()
    return found


async def _entities(
    reader: Reader, request: web.Request, found: list, viewer_id: int | None
) -> list[dict]:
    if found and isinstance(found[0], CommentView):
        return await comment_statuses(reader, request, found, viewer_id)
    return await statuses(reader, request, found, viewer_id)


async def status(request: web.Request) -> web.Response:
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        [entity] = await _entities(reader, request, [found], viewer_id) or [None]
    if entity is None:
        raise not_found()
    return json_response(entity)


async def context(request: web.Request) -> web.Response:
    """A post's comments are its descendants, oldest first; a comment's ancestor is its
    post."""
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        if isinstance(found, CommentView):
            post = None
            if found.post_status_id is not None:
                post = await status_reads.by_status_id(
                    reader, media_urls(request), found.post_status_id, viewer_id
                )
            ancestors = await statuses(reader, request, [post] if post else [], viewer_id)
            return json_response({"ancestors": ancestors, "descendants": []})
        replies = await comments.replies(reader, found.id, viewer_id)
        descendants = await comment_statuses(reader, request, replies, viewer_id)
    return json_response({"ancestors": [], "descendants": descendants})


async def favourited_by(request: web.Request) -> web.Response:
    """Who liked the post, paged by account id; nobody likes a comment."""
    viewer_id, paging = _viewer_id(request), window(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        if isinstance(found, CommentView):
            return page_response(request, [])
        likers = await people.likers(
            reader, found.id, viewer_id, paging.above, paging.below, paging.oldest_first,
            paging.limit,
        )  # fmt: skip
        accounts = await accounts_of(reader, request, [user.id for user in likers], viewer_id)
    return page_response(request, [accounts[user.id] for user in likers if user.id in accounts])
