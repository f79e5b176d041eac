"""/posts and /p/: writing, reading and deleting posts, liking them and commenting on them."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from service.domain import comments, posts
from service.handlers import posting
from service.handlers.actions import add_comment, delete_post, set_like
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import media_worker_key, sessionmaker_key, view_counter_key
from service.models import AUDIENCES
from service.reads import comments as comment_reads
from service.reads import notifications, trending
from service.reads import posts as post_reads
from service.reads.views import Page
from service.security import safe_next
from service.views.common import redirect, render
from service.web.auth import current_user, require_confirmed, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import DEFAULT_PAGE_SIZE, page_request
from service.web.problems import Problem
from service.web.resources import media_urls, post_id_from, reading
from service.web.templating import render_fragment, wants_fragment
from service.web.uploads import UploadError
from service.web.urls import url_for
from service.workers.viewcounts import is_bot

# The most post ids one report of cards seen may carry (the page sends them in batches).
MAX_VIEWS_REPORTED = 50


async def _form_again(
    request: web.Request,
    viewer_id: int,
    errors: dict[str, str],
    draft: str,
    status: int,
    audience: str | None = None,
) -> web.Response:
    async with reading(request) as reader:
        page = await post_reads.home(
            reader, media_urls(request), viewer_id, None, DEFAULT_PAGE_SIZE
        )
    context = {"page": page, "pending": [], "errors": errors, "draft": draft}
    if audience in AUDIENCES:  # as chosen, to try again
        context["audience"] = audience
    return await render(request, "timeline/home.html", context, status)


FORM_FIELDS = {"body": "body", "audience": "audience"}
# The flash after a change, saying who the post is for now: a whole sentence for each.
AUDIENCE_CHANGED = {
    "public": lazy_gettext("This post is now public."),
    "unlisted": lazy_gettext("This post is now unlisted: not on explore or the public timelines."),
    "followers": lazy_gettext("This post is now for your followers only."),
}


async def create(request: web.Request) -> web.Response:
    viewer = require_confirmed(request)
    if request.content_type == "multipart/form-data":
        try:
            created = await posting.create_post_from_form(request, viewer.id)
        except UploadError as error:
            draft = posts.normalize_body(error.texts.get("body", ""))
            errors = {FORM_FIELDS.get(error.field, "photos"): error.message}
            audience = error.texts.get("audience")
            return await _form_again(request, viewer.id, errors, draft, error.status, audience)
        raise redirect(url_for(request, "post", id=created.post_id))
    form = await read_form(request)
    body = form.get("body", "")
    try:
        audience = posting.audience_of(form.get("audience"))
    except UploadError as error:
        draft = posts.normalize_body(body)
        return await _form_again(request, viewer.id, {"audience": error.message}, draft, 422)
    await count_action(request, viewer.id, "posts")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            post_id = await posts.create_post(db, viewer.id, body, audience=audience)
    except posts.PostRefused as refused:
        draft = posts.normalize_body(body)
        return await _form_again(request, viewer.id, {"body": str(refused)}, draft, 422, audience)
    raise redirect(url_for(request, "post", id=post_id))


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
            raise Problem(404, _("There is no such post."))
        page = await comment_reads.page(reader, view.id, viewer_id, after, limit)
        unread = await notifications.unread_count(reader, viewer_id) if viewer else 0
        # Moderators may take it off trends, or put it back.
        off_trends = (
            await trending.removed(reader, view.id) if viewer and viewer.is_moderator else None
        )
    if request.method == "GET" and after is None and view.published_at is not None:
        _count_views(request, [(view.id, view.author.id)], viewer_id)
    context = {
        "post": view,
        "comments": page,
        "errors": errors or {},
        "draft": draft,
        "off_trends": off_trends,
    }
    return await render(
        request, "posts/show.html", context, status, unread, fragment="fragments/comments.html"
    )


async def show(request: web.Request) -> web.Response:
    return await post_page(request)


def _count_views(request: web.Request, seen: list[tuple[int, int]], viewer_id: int | None) -> None:
    """Offer views of posts the viewer may see (post id, author id) to the process's
    counter, which leaves out the author's and repeats; nothing from a bot."""
    user_agent = request.headers.get("User-Agent")
    if is_bot(user_agent):
        return
    counter = request.app[view_counter_key]
    viewer = counter.viewer_key(viewer_id, request.remote, user_agent)
    for post_id, author_id in seen:
        counter.seen(post_id, author_id, viewer_id, viewer)


async def record_views(request: web.Request) -> web.Response:
    """A page reports the cards of its feed that were seen (``post``, repeated): each counts
    as a view if the viewer may see it (docs/trending.md). No answer to read: 204."""
    form = await read_form(request)
    raw = form.getall("post", [])
    if not raw:
        raise Problem(400, _("Say which posts were seen."))
    if len(raw) > MAX_VIEWS_REPORTED:
        raise Problem(400, _("At most %(num)s posts at a time.") % {"num": MAX_VIEWS_REPORTED})
    try:
        ids = {int(value) for value in raw}
    except ValueError:
        raise Problem(400, _("A post id is a number.")) from None
    if not all(0 < post_id < 2**63 for post_id in ids):
        raise Problem(400, _("A post id is a number."))
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    if not is_bot(request.headers.get("User-Agent")):
        async with reading(request) as reader:
            seen = await post_reads.viewable(reader, sorted(ids), viewer_id)
        _count_views(request, seen, viewer_id)
    return web.Response(status=204)


async def change_audience(request: web.Request) -> web.Response:
    """The author changes who their post is for, from the post page: it takes effect in
    every list and answer at once, since each reads it from the post."""
    viewer = require_confirmed(request)
    post_id = post_id_from(request)
    chosen = (await read_form(request)).get("audience", "")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            await posts.set_audience(db, post_id, viewer.id, chosen)
    except posts.PostRefused as refused:
        raise Problem(422, str(refused), "invalid_audience") from refused
    except posts.PostNotFound as missing:
        raise Problem(404, _("There is no such post.")) from missing
    request.app[media_worker_key].wake()  # its photos, if any, move
    await flash(request, str(AUDIENCE_CHANGED[chosen]), "success")
    raise redirect(url_for(request, "post", id=post_id))


async def delete(request: web.Request) -> web.Response:
    viewer = require_user(request)
    await delete_post(request, viewer, post_id_from(request))
    await flash(request, _("The post has been deleted."), "success")
    raise redirect(url_for(request, "profile", username=viewer.username))


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
    raise redirect(back(request, url_for(request, "post", id=post_id)))


async def like(request: web.Request) -> web.Response:
    return await _change_like(request, True)


async def unlike(request: web.Request) -> web.Response:
    return await _change_like(request, False)


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
            raise Problem(404, _("There is no such comment."))
        context = {"comments": Page([created], None)}
        return await render_fragment(request, "fragments/comments.html", context, 201)
    raise redirect(url_for(request, "post", id=post_id) + f"#comment-{comment_id}")
