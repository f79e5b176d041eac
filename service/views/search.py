"""/search: one box for finding people (by username or display name, a prefix, a word or a
near miss), tags (by the start of their name) and posts (by their words, docs/discovery.md),
open to everyone, under the visibility rule like every list. ``type`` shows one kind alone,
paged by ``offset``; without it, the first of each."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from service.i18n import gettext as _
from service.reads import people
from service.reads import search as found_by
from service.views.common import render
from service.web.auth import current_user
from service.web.params import query_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

# People shown at once; "More people" shows the next as many.
PEOPLE_PAGE_SIZE = 20
# Tags and posts likewise.
TAGS_PAGE_SIZE = 20
POSTS_PAGE_SIZE = 20
# How many tags the page shows beside people and posts, before "More tags".
TAGS_AT_A_GLANCE = 6
KINDS = ("people", "tags", "posts")


def _more(found: list, offset: int, size: int, most: int) -> int | None:
    """The next page's offset, if there is one within bounds (one more than shown was read)."""
    return offset + size if len(found) > size and offset + size <= most else None


async def search(request: web.Request) -> web.Response:
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    query = request.query.get("q", "").strip()[: people.MAX_SEARCH_CHARS]
    kind = request.query.get("type", "")
    if kind and kind not in KINDS:
        raise Problem(400, _("type must be people, tags or posts."), "invalid_type")
    offset = query_number(request, "offset", 0, 0, people.MAX_SEARCH_OFFSET)
    if offset and not kind:
        # An offset pages one kind; alone, it pages people, as it did before there were kinds.
        kind = "people"
    context: dict = {"query": query, "kind": kind, "offset": offset, "kinds": KINDS}
    found_people: list = []
    tags: list = []
    posts: list = []
    if query:
        # One more than shown of each: whether there are more.
        async with reading(request) as reader:
            if kind in ("", "people"):
                found_people = await people.search_people(
                    reader, query, viewer_id, offset, PEOPLE_PAGE_SIZE + 1
                )
            if kind in ("", "tags"):
                size = TAGS_PAGE_SIZE if kind else TAGS_AT_A_GLANCE
                tags = await found_by.search_tags(reader, query, viewer_id, offset, size + 1)
            if kind in ("", "posts"):
                posts = await found_by.search_posts(
                    reader, media_urls(request), query, viewer_id, offset, POSTS_PAGE_SIZE + 1
                )
    tags_shown = TAGS_PAGE_SIZE if kind else TAGS_AT_A_GLANCE
    context.update(
        people=found_people[:PEOPLE_PAGE_SIZE],
        next_offset=_more(found_people, offset, PEOPLE_PAGE_SIZE, people.MAX_SEARCH_OFFSET),
        tags=tags[:tags_shown],
        next_tags=_more(tags, offset, tags_shown, found_by.MAX_SEARCH_OFFSET),
        posts=[(hit.status, Markup(hit.snippet)) for hit in posts[:POSTS_PAGE_SIZE]],
        next_posts=_more(posts, offset, POSTS_PAGE_SIZE, found_by.MAX_SEARCH_OFFSET),
    )
    return await render(request, "search.html", context)
