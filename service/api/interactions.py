"""/api/v1: likes, comments and notifications."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, read_json_object
from service.domain import notifications
from service.keys import sessionmaker_key
from service.reads import comments
from service.reads import notifications as notification_reads
from service.reads import posts as post_reads
from service.text import trim
from service.views.actions import add_comment, delete_comment, set_like
from service.web.auth import current_user, require_confirmed, require_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import comment_id_from, media_urls, post_id_from, reading

routes = web.RouteTableDef()


@routes.post("/api/v1/posts/{id}/like", name="api_like")
async def like(request: web.Request) -> web.Response:
    count = await set_like(request, require_confirmed(request), post_id_from(request), True)
    return json_response({"liked": True, "like_count": count})


@routes.delete("/api/v1/posts/{id}/like")
async def unlike(request: web.Request) -> web.Response:
    count = await set_like(request, require_confirmed(request), post_id_from(request), False)
    return json_response({"liked": False, "like_count": count})


@routes.get("/api/v1/posts/{id}/comments", name="api_comments")
async def list_comments(request: web.Request) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    post_id = post_id_from(request)
    viewer_id = viewer.id if viewer else None
    async with reading(request) as reader:
        if await post_reads.post(reader, media_urls(request), post_id, viewer_id) is None:
            raise Problem(404, "There is no such post.")
        page = await comments.page(reader, post_id, viewer_id, after, limit)
    return page_json(page, serialize.comment)


@routes.post("/api/v1/posts/{id}/comments")
async def create_comment(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    body = (await read_json_object(request, ["body"])).get("body", "")
    comment_id = await add_comment(request, viewer, post_id_from(request), trim(body))
    async with reading(request) as reader:
        comment = await comments.comment(reader, comment_id, viewer.id)
    if comment is None:  # deleted in the moment since it was made
        raise Problem(404, "There is no such comment.")
    return json_response(serialize.comment(comment), status=201)


@routes.delete("/api/v1/comments/{id}", name="api_comment")
async def remove_comment(request: web.Request) -> web.Response:
    await delete_comment(request, require_user(request), comment_id_from(request))
    return web.Response(status=204)


@routes.get("/api/v1/notifications", name="api_notifications")
async def list_notifications(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await notification_reads.page(reader, viewer.id, after, limit)
    return page_json(page, serialize.notification)


@routes.post("/api/v1/notifications/read", name="api_notifications_read")
async def read_all(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notifications.mark_all_read(db, viewer.id)
    return json_response({"unread": 0})
