"""/api/v1/posts, /api/v1/timeline and /api/v1/explore."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, read_json_object
from service.domain import posts
from service.keys import sessionmaker_key
from service.reads import posts as post_reads
from service.reads.views import PostView
from service.views import posting
from service.views.actions import delete_post
from service.web.auth import current_user, require_confirmed, require_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, post_id_from, reading
from service.web.uploads import UploadError

routes = web.RouteTableDef()


@routes.get("/api/v1/timeline", name="api_timeline")
async def timeline(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await post_reads.home(reader, media_urls(request), viewer.id, after, limit)
    return page_json(page, serialize.post)


@routes.get("/api/v1/explore", name="api_explore")
async def explore(request: web.Request) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await post_reads.explore(
            reader, media_urls(request), viewer.id if viewer else None, after, limit
        )
    return page_json(page, serialize.post)


async def _create_from_form(request: web.Request, viewer_id: int) -> web.Response:
    """Multipart, with photos: 202 while they are processed (201 if there were none)."""
    try:
        created = await posting.create_post_from_form(request, viewer_id)
    except UploadError as error:
        raise Problem(error.status, error.message, error.code) from error
    view = await _created(request, created.post_id, viewer_id)
    return json_response(serialize.post(view), status=202 if created.has_photos else 201)


async def _created(request: web.Request, post_id: int, viewer_id: int) -> PostView:
    """The post just made, as its author sees it (a photo post is not published yet)."""
    async with reading(request) as reader:
        view = await post_reads.post(reader, media_urls(request), post_id, viewer_id)
    if view is None:  # deleted in the moment since it was made
        raise Problem(404, "There is no such post.")
    return view


@routes.post("/api/v1/posts", name="api_posts")
async def create(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    if request.content_type == "multipart/form-data":
        return await _create_from_form(request, viewer.id)
    body = (await read_json_object(request, ["body"])).get("body", "")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            post_id = await posts.create_post(db, viewer.id, body)
    except posts.PostRefused as refused:
        raise Problem(422, str(refused), "invalid_body") from refused
    return json_response(serialize.post(await _created(request, post_id, viewer.id)), status=201)


@routes.get("/api/v1/posts/{id}", name="api_post")
async def post(request: web.Request) -> web.Response:
    viewer = current_user(request)
    async with reading(request) as reader:
        view = await post_reads.post(
            reader, media_urls(request), post_id_from(request), viewer.id if viewer else None
        )
    if view is None:
        raise Problem(404, "There is no such post.")
    return json_response(serialize.post(view))


@routes.delete("/api/v1/posts/{id}")
async def delete(request: web.Request) -> web.Response:
    await delete_post(request, require_user(request), post_id_from(request))
    return web.Response(status=204)
