"""Profiles, relationship lists, follow buttons and generated avatars."""

from __future__ import annotations

from datetime import UTC

from aiohttp import web
from babel.dates import format_skeleton

from service import i18n
from service.handlers.actions import (
    answer_request,
    change_block,
    change_follow,
    change_mute,
    remove_follower,
    user_id_for,
)
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.reads import notifications, people, posts, statuses
from service.reads.statements import Reader
from service.reads.views import Profile
from service.security import safe_next
from service.views.common import redirect, render
from service.web.auth import current_user, require_confirmed
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.urls import url_for

# The durations the profile menu offers a mute for, in seconds (0: until unmuted).
DAY_SECONDS = 86_400
MUTE_DURATIONS = (
    (lazy_gettext("Until I unmute"), 0),
    (lazy_gettext("1 day"), DAY_SECONDS),
    (lazy_gettext("7 days"), 7 * DAY_SECONDS),
)
MAX_MUTE_SECONDS = 10 * 365 * DAY_SECONDS
# A profile shows its photos as a grid or its posts as cards (?tab=): the grid when not
# asked and there are photos. A page of the grid is seven rows of three tiles.
PROFILE_TABS = frozenset({"photos", "posts"})
GRID_PAGE_SIZE = 21


async def _profile(reader: Reader, request: web.Request) -> Profile:
    viewer = current_user(request)
    found = await people.profile(
        reader, request.match_info["username"], viewer.id if viewer else None
    )
    if found is None:
        raise Problem(404, _("There is no user by that name."))
    return found


def _header(found: Profile) -> dict:
    """What the profile's header needs beside the profile: the month it joined, worded in
    the language in use ("November 2026", "2026年11月"), and the menu's mute durations."""
    language = i18n.locale(i18n.current())
    joined = format_skeleton("yMMMM", found.created_at, tzinfo=UTC, locale=language)
    return {"profile": found, "member_since": joined, "mute_durations": MUTE_DURATIONS}


def _tab(request: web.Request) -> str | None:
    """The tab asked for; None when none was (a cursor without one is a page of posts, as
    the profile's links were before it had a grid)."""
    tab = request.query.get("tab")
    if tab is None:
        return "posts" if "cursor" in request.query else None
    if tab not in PROFILE_TABS:
        raise Problem(400, _("tab must be photos or posts."), "invalid_tab")
    return tab


async def profile(request: web.Request) -> web.Response:
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    tab, urls = _tab(request), media_urls(request)
    async with reading(request) as reader:
        found = await _profile(reader, request)
        page = None
        if tab != "posts":
            after, limit = page_request(request, GRID_PAGE_SIZE)
            page = await statuses.photos_of(reader, urls, found.summary.id, viewer_id, after, limit)
            tab = "photos" if tab or page.items else "posts"
        if tab == "posts":
            after, limit = page_request(request)
            page = await posts.by_author(reader, urls, found.summary.id, viewer_id, after, limit)
        unread = await notifications.unread_count(reader, viewer_id) if viewer else 0
    context = {**_header(found), "page": page, "tab": tab}
    fragment = f"fragments/{tab}.html"
    return await render(request, "users/profile.html", context, unread=unread, fragment=fragment)


async def _relationship_list(request: web.Request, direction: str) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        found = await _profile(reader, request)
        page = await people.relationships(
            reader, found.summary.id, direction, after, limit, viewer.id if viewer else None
        )
    context = {**_header(found), "page": page, "direction": direction}
    return await render(
        request, "users/relationships.html", context, fragment="fragments/people.html"
    )


async def followers(request: web.Request) -> web.Response:
    return await _relationship_list(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _relationship_list(request, "following")


async def follow(request: web.Request) -> web.Response:
    """Follow, or ask to follow a private account."""
    username = request.match_info["username"]
    _count, requested = await change_follow(request, start=True)
    if requested:
        await flash(
            request,
            _("Your request to follow @%(name)s was sent. They will decide.") % {"name": username},
            "info",
        )
    raise redirect(url_for(request, "profile", username=username))


async def unfollow(request: web.Request) -> web.Response:
    """Unfollow, or withdraw a pending request."""
    await change_follow(request, start=False)
    raise redirect(url_for(request, "profile", username=request.match_info["username"]))


def _username(request: web.Request) -> str:
    """The user in the URL, once the one asking may act at all (signed in, confirmed)."""
    require_confirmed(request)
    return request.match_info["username"]


async def _back(request: web.Request, default: str) -> web.HTTPSeeOther:
    """Where the form says to go next (a path of ours: the settings lists), else ``default``."""
    return redirect(safe_next((await read_form(request)).get("next"), default))


async def block(request: web.Request) -> web.Response:
    username = _username(request)
    await change_block(request, await user_id_for(request, username), start=True)
    await flash(
        request,
        _("You blocked @%(name)s. Neither of you follows the other now.") % {"name": username},
    )
    raise await _back(request, url_for(request, "profile", username=username))


async def unblock(request: web.Request) -> web.Response:
    username = _username(request)
    await change_block(request, await user_id_for(request, username), start=False)
    await flash(request, _("You unblocked @%(name)s.") % {"name": username})
    raise await _back(request, url_for(request, "profile", username=username))


async def mute(request: web.Request) -> web.Response:
    username = _username(request)
    raw = (await read_form(request)).get("duration", "")
    seconds = whole_number(raw, 0, MAX_MUTE_SECONDS) if raw else 0
    if seconds is None:
        raise Problem(422, _("Choose how long to mute for."), "invalid_duration")
    await change_mute(request, await user_id_for(request, username), True, seconds)
    await flash(request, _("You muted @%(name)s. They will not know.") % {"name": username})
    raise await _back(request, url_for(request, "profile", username=username))


async def unmute(request: web.Request) -> web.Response:
    username = _username(request)
    await change_mute(request, await user_id_for(request, username), start=False)
    await flash(request, _("You unmuted @%(name)s.") % {"name": username})
    raise await _back(request, url_for(request, "profile", username=username))


async def remove_from_followers(request: web.Request) -> web.Response:
    """Back to one's own followers, without the one removed."""
    viewer, username = require_confirmed(request), _username(request)
    await remove_follower(request, await user_id_for(request, username))
    await flash(request, _("@%(name)s no longer follows you.") % {"name": username})
    raise redirect(url_for(request, "followers", username=viewer.username))


async def follow_requests(request: web.Request) -> web.Response:
    """Who asks to follow the signed-in user, newest first, each with Approve and Reject."""
    viewer = require_confirmed(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await people.relationships(
            reader, viewer.id, "follow_requests", after, limit, viewer.id
        )
        own = await people.profile(reader, viewer.username, viewer.id)
    context = {"page": page, "locked": own is not None and own.locked}
    return await render(request, "users/follow_requests.html", context)


async def _answer(request: web.Request, approve: bool) -> web.Response:
    username = _username(request)
    requester_id = await user_id_for(request, username)
    await answer_request(request, requester_id, approve)
    if approve:
        await flash(request, _("@%(name)s now follows you.") % {"name": username}, "success")
    else:
        await flash(request, _("You rejected the request of @%(name)s.") % {"name": username})
    raise redirect(url_for(request, "follow_requests"))


async def approve_request(request: web.Request) -> web.Response:
    return await _answer(request, approve=True)


async def reject_request(request: web.Request) -> web.Response:
    return await _answer(request, approve=False)
