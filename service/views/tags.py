"""A hashtag's page: its posts, newest first or trending first, and a button to follow it;
the tags one follows, in the settings (docs/discovery.md, docs/trending.md)."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.handlers.actions import change_tag_follow, written_tag
from service.i18n import gettext as _
from service.reads import statuses, tags, trending
from service.reads.views import TagView
from service.security import safe_next
from service.views.common import redirect, render
from service.web.auth import current_user, require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.templating import wants_fragment
from service.web.urls import url_for

# A tag's page lists its latest posts unless asked for its top (trending) ones.
TAG_SORTS = ("latest", "top")


def tag_name(request: web.Request, part: str = "tag") -> tuple[str, str]:
    """The tag a path names, by its normalised or its display form (with or without its
    ``#``): (normalised name, as written). 404 for what cannot be a tag."""
    written = request.match_info[part]
    if discovery.tag_error(written):
        raise Problem(404, _("There is no such hashtag."))
    written = written.removeprefix("#").removeprefix("＃")
    return discovery.normalize_tag(written), written


async def tag(request: web.Request) -> web.Response:
    """A tag that no post ever had is an empty page, not an error: its posts may come."""
    name, written = tag_name(request)
    viewer = current_user(request)
    sort = request.query.get("sort", TAG_SORTS[0])
    if sort not in TAG_SORTS:
        raise Problem(400, _("sort must be latest or top."), "invalid_sort")
    after, limit = page_request(request)
    viewer_id = viewer.id if viewer else None
    async with reading(request) as reader:
        if sort == "top":
            page = await trending.tag_posts(
                reader, media_urls(request), name, viewer_id, after, limit
            )
        else:
            page = await statuses.tag_page(
                reader, media_urls(request), name, viewer_id, after, limit
            )
        found = None if wants_fragment(request) else await tags.by_name(reader, name, viewer_id)
    shown = found or TagView(name, discovery.display_tag(written), 0)
    return await render(
        request,
        "tags/show.html",
        {
            "page": page,
            "tag": shown,
            "sort": sort,
            "more_query": "" if sort == TAG_SORTS[0] else f"sort={sort}",
            "empty_message": _("No posts with this hashtag yet.")
            if sort == "latest"
            else _("None of this hashtag's posts is trending."),
        },
        fragment="fragments/posts.html",
    )


async def _follow(request: web.Request, start: bool) -> web.Response:
    name, display = written_tag(request.match_info["tag"])
    await change_tag_follow(request, name, display, start)
    if start:
        await flash(
            request,
            _("You follow #%(tag)s: its public posts come into your home.") % {"tag": display},
        )
    else:
        await flash(request, _("You no longer follow #%(tag)s.") % {"tag": display})
    default = url_for(request, "tag", tag=name)
    raise redirect(safe_next((await read_form(request)).get("next"), default))


async def follow(request: web.Request) -> web.Response:
    return await _follow(request, start=True)


async def unfollow(request: web.Request) -> web.Response:
    return await _follow(request, start=False)


async def followed(request: web.Request) -> web.Response:
    """The tags the user follows, latest first, each with a way to unfollow it."""
    user = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await tags.followed(reader, user.id, after, limit)
    return await render(request, "settings/tags.html", {"page": page})
