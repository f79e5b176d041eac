"""Likes, comments and notifications as HTML forms and pages (no JavaScript needed)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from service.domain import comments, notifications, posts
from service.keys import sessionmaker_key
from service.reads import comments as comment_reads
from service.reads import notifications as notification_reads
from service.reads.views import Page
from service.security import safe_next
from service.views.actions import add_comment, delete_comment, set_like
from service.views.common import redirect, render
from service.views.posts import post_page
from service.web.auth import require_confirmed, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import comment_id_from, post_id_from, reading
from service.web.templating import render_fragment, wants_fragment

routes = web.RouteTableDef()


def back(request: web.Request, default: str) -> str:
    """Where the form was: the Referer's path if it is ours, else ``default``."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc and referer.netloc != request.host:
        return default
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(target, default)


async def _change_like(request: web.Request, liked: bool) -> web.Response:
    """Back to the page the form was on; asked for a fragment, the post's new like button
    (the page's script puts it in place of the old one)."""
    post_id = post_id_from(request)
    count = await set_like(request, require_confirmed(request), post_id, liked)
    if wants_fragment(request):
        context = {"post_id": post_id, "liked": liked, "like_count": count}
        return await render_fragment(request, "fragments/like.html", context)
    raise redirect(back(request, f"/p/{post_id}"))


@routes.post("/p/{id}/like", name="like")
async def like(request: web.Request) -> web.Response:
    return await _change_like(request, True)


@routes.post("/p/{id}/unlike", name="unlike")
async def unlike(request: web.Request) -> web.Response:
    return await _change_like(request, False)


@routes.post("/p/{id}/comments", name="comment")
async def comment(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    post_id = post_id_from(request)
    body = posts.normalize_body((await read_form(request)).get("body", ""))
    fragment = wants_fragment(request)
    if not fragment and (message := comments.body_error(body)):
        return await post_page(request, {"body": message}, body, 422)
    # Asked for a fragment, a refused comment is a 422 whose fragment is the message.
    comment_id = await add_comment(request, viewer, post_id, body)
    if fragment:
        async with reading(request) as reader:
            created = await comment_reads.comment(reader, comment_id, viewer.id)
        if created is None:  # deleted in the moment since it was made
            raise Problem(404, "There is no such comment.")
        context = {"comments": Page([created], None)}
        return await render_fragment(request, "fragments/comments.html", context, 201)
    raise redirect(f"/p/{post_id}#comment-{comment_id}")


@routes.post("/comments/{id}/delete", name="delete_comment")
async def remove_comment(request: web.Request) -> web.Response:
    post_id = await delete_comment(request, require_user(request), comment_id_from(request))
    await flash(request, "The comment has been deleted.", "success")
    raise redirect(f"/p/{post_id}#comments")


@routes.get("/notifications", name="notifications")
async def notifications_page(request: web.Request) -> web.Response:
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await notification_reads.page(reader, viewer.id, after, limit)
        unread = await notification_reads.unread_count(reader, viewer.id)
    return await render(request, "notifications.html", {"page": page}, unread=unread)


@routes.post("/notifications/read", name="notifications_read")
async def read_all(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notifications.mark_all_read(db, viewer.id)
    raise redirect("/notifications")
