"""/api/snapline/v1/posts, /api/snapline/v1/timeline and /api/snapline/v1/explore."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, read_json_object, urls
from service.domain import posts
from service.handlers import posting
from service.handlers.actions import add_comment, delete_post, set_like
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.keys import sessionmaker_key
from service.reads import comments
from service.reads import posts as post_reads
from service.reads.views import PostView
from service.text import trim
from service.web.auth import current_user, require_confirmed, require_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, post_id_from, reading
from service.web.uploads import UploadError


async def _create_from_form(request: web.Request, viewer_id: int) -> web.Response:
    """Multipart, with photos: 202 while they are processed (201 if there were none)."""
    try:
        created = await posting.create_post_from_form(request, viewer_id)
    except UploadError as error:
        raise Problem(error.status, error.message, error.code) from error
    view = await _created(request, created.post_id, viewer_id)
    return json_response(
        serialize.post(view, urls(request)), status=202 if created.has_photos else 201
    )


async def _created(request: web.Request, post_id: int, viewer_id: int) -> PostView:
    """The post just made, as its author sees it (a photo post is not published yet)."""
    async with reading(request) as reader:
        view = await post_reads.post(reader, media_urls(request), post_id, viewer_id)
    if view is None:  # deleted in the moment since it was made
        raise Problem(404, _("There is no such post."))
    return view


async def create(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    if request.content_type == "multipart/form-data":
        return await _create_from_form(request, viewer.id)
    fields = await read_json_object(request, ["body", "audience"])
    body = fields.get("body", "")
    try:
        audience = posting.audience_of(fields.get("audience"))
    except UploadError as error:
        raise Problem(error.status, error.message, error.code) from error
    await count_action(request, viewer.id, "posts")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            post_id = await posts.create_post(db, viewer.id, body, audience=audience)
    except posts.PostRefused as refused:
        raise Problem(422, str(refused), "invalid_body") from refused
    return json_response(
        serialize.post(await _created(request, post_id, viewer.id), urls(request)),
        status=201,
    )


async def post(request: web.Request) -> web.Response:
    viewer = current_user(request)
    async with reading(request) as reader:
        view = await post_reads.post(
            reader, media_urls(request), post_id_from(request), viewer.id if viewer else None
        )
    if view is None:
        raise Problem(404, _("There is no such post."))
    return json_response(serialize.post(view, urls(request)))


async def delete(request: web.Request) -> web.Response:
    await delete_post(request, require_user(request), post_id_from(request))
    return web.Response(status=204)


async def like(request: web.Request) -> web.Response:
    count = await set_like(request, require_confirmed(request), post_id_from(request), True)
    return json_response({"liked": True, "like_count": count})


async def unlike(request: web.Request) -> web.Response:
    count = await set_like(request, require_confirmed(request), post_id_from(request), False)
    return json_response({"liked": False, "like_count": count})


async def list_comments(request: web.Request) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    post_id = post_id_from(request)
    viewer_id = viewer.id if viewer else None
    async with reading(request) as reader:
        if await post_reads.post(reader, media_urls(request), post_id, viewer_id) is None:
            raise Problem(404, _("There is no such post."))
        page = await comments.page(reader, post_id, viewer_id, after, limit)
    return page_json(request, page, serialize.comment)


async def create_comment(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    body = (await read_json_object(request, ["body"])).get("body", "")
    comment_id = await add_comment(request, viewer, post_id_from(request), trim(body))
    async with reading(request) as reader:
        comment = await comments.comment(reader, comment_id, viewer.id)
    if comment is None:  # deleted in the moment since it was made
        raise Problem(404, _("There is no such comment."))
    return json_response(serialize.comment(comment, urls(request)), status=201)
