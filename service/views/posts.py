"""Writing, reading and deleting posts."""

from __future__ import annotations

from aiohttp import web

from service.domain import posts
from service.keys import sessionmaker_key
from service.reads import comments, notifications
from service.reads import posts as post_reads
from service.views import posting
from service.views.actions import delete_post
from service.views.common import redirect, render
from service.web.auth import current_user, require_confirmed, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import DEFAULT_PAGE_SIZE, page_request
from service.web.problems import Problem
from service.web.resources import media_urls, post_id_from, reading
from service.web.uploads import UploadError

routes = web.RouteTableDef()


async def _form_again(
    request: web.Request, viewer_id: int, errors: dict[str, str], draft: str, status: int
) -> web.Response:
    async with reading(request) as reader:
        page = await post_reads.home(
            reader, media_urls(request), viewer_id, None, DEFAULT_PAGE_SIZE
        )
    context = {"page": page, "pending": [], "errors": errors, "draft": draft}
    return await render(request, "timeline/home.html", context, status)


@routes.post("/posts", name="create_post")
async def create(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    if request.content_type == "multipart/form-data":
        try:
            created = await posting.create_post_from_form(request, viewer.id)
        except UploadError as error:
            draft = posts.normalize_body(error.texts.get("body", ""))
            errors = {"body" if error.field == "body" else "photos": error.message}
            return await _form_again(request, viewer.id, errors, draft, error.status)
        raise redirect(f"/p/{created.post_id}")
    body = (await read_form(request)).get("body", "")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            post_id = await posts.create_post(db, viewer.id, body)
    except posts.PostRefused as refused:
        draft = posts.normalize_body(body)
        return await _form_again(request, viewer.id, {"body": str(refused)}, draft, 422)
    raise redirect(f"/p/{post_id}")


async def post_page(
    request: web.Request, errors: dict[str, str] | None = None, draft: str = "", status: int = 200
) -> web.Response:
    """The post in the URL with a page of its comments (and, after a refused comment, the
    form's error and the text to try again)."""
    viewer = current_user(request)
    after, limit = page_request(request)
    viewer_id = viewer.id if viewer else None
    async with reading(request) as reader:
        view = await post_reads.post(reader, media_urls(request), post_id_from(request), viewer_id)
        if view is None:
            raise Problem(404, "There is no such post.")
        page = await comments.page(reader, view.id, viewer_id, after, limit)
        unread = await notifications.unread_count(reader, viewer_id) if viewer else 0
    context = {
        "post": view,
        "comments": page,
        "errors": errors or {},
        "draft": draft,
    }
    return await render(
        request, "posts/show.html", context, status, unread, fragment="fragments/comments.html"
    )


@routes.get("/p/{id}", name="post")
async def show(request: web.Request) -> web.Response:
    return await post_page(request)


@routes.post("/p/{id}/delete", name="delete_post")
async def delete(request: web.Request) -> web.Response:
    viewer = require_user(request)
    await delete_post(request, viewer, post_id_from(request))
    await flash(request, "The post has been deleted.", "success")
    raise redirect(f"/@{viewer.username}")
