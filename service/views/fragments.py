"""Fragments no page URL answers: the cards of given posts, which the home page's "N new
posts" fetches once the live stream has named them. Lists answer their own fragments at
their page's URL (service/web/templating.FRAGMENT_HEADER)."""

from __future__ import annotations

from aiohttp import web

from service.cursor import MAX_ID
from service.reads import posts
from service.reads.paging import MAX_PAGE_SIZE
from service.reads.views import Page
from service.web.auth import current_user
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.templating import render_fragment

# As many as one page of a list shows: the banner asks for at most this many new posts.
MAX_IDS = MAX_PAGE_SIZE


def _post_ids(request: web.Request) -> list[int]:
    """``?ids=3,1,2``: post ids, at least one and at most MAX_IDS, each named once."""
    raw = request.query.get("ids", "")
    ids = [whole_number(part, 1, MAX_ID) for part in raw.split(",")] if raw else []
    if not ids or len(ids) > MAX_IDS or None in ids:
        message = f"ids must be 1 to {MAX_IDS} post ids separated by commas."
        raise Problem(400, message, "invalid_ids")
    return list(dict.fromkeys(ids))


async def post_cards(request: web.Request) -> web.Response:
    """The cards of the posts named that the viewer may see, newest first as in every
    feed; the others (not there, or not the viewer's to see) are left out without a word,
    as a page would."""
    viewer = current_user(request)
    ids = _post_ids(request)
    async with reading(request) as reader:
        views = await posts.by_ids(reader, media_urls(request), ids, viewer.id if viewer else None)
    views.sort(key=lambda view: (view.shown_at, view.id), reverse=True)
    context = {"page": Page(views, None)}
    return await render_fragment(request, "fragments/posts.html", context)
