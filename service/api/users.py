"""/api/snapline/v1/users: profiles, their posts, relationships, follow and unfollow, block,
mute and remove a follower."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import duration_param, json_response, page_json, urls
from service.handlers.actions import (
    change_block,
    change_follow,
    change_mute,
    remove_follower,
    user_id_for,
)
from service.i18n import gettext as _
from service.reads import people, posts
from service.web.auth import current_user, require_confirmed
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def user(request: web.Request) -> web.Response:
    async with reading(request) as reader:
        profile = await people.profile(reader, request.match_info["username"], _viewer_id(request))
    if profile is None:
        raise Problem(404, _("There is no user by that name."))
    return json_response(serialize.user(profile, urls(request)))


async def user_posts(request: web.Request) -> web.Response:
    after, limit = page_request(request)
    author_id = await user_id_for(request, request.match_info["username"], _viewer_id(request))
    async with reading(request) as reader:
        page = await posts.by_author(
            reader, media_urls(request), author_id, _viewer_id(request), after, limit
        )
    return page_json(request, page, serialize.post)


async def _relationships(request: web.Request, direction: str) -> web.Response:
    after, limit = page_request(request)
    viewer_id = _viewer_id(request)
    user_id = await user_id_for(request, request.match_info["username"], viewer_id)
    async with reading(request) as reader:
        page = await people.relationships(reader, user_id, direction, after, limit, viewer_id)
    return page_json(request, page, serialize.relationship)


async def followers(request: web.Request) -> web.Response:
    return await _relationships(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _relationships(request, "following")


async def follow(request: web.Request) -> web.Response:
    """Follow; a private account is asked instead: ``following`` false, ``requested`` true
    until its owner approves."""
    count, requested = await change_follow(request, start=True)
    return json_response(
        {"following": not requested, "followers_count": count, "requested": requested}
    )


async def unfollow(request: web.Request) -> web.Response:
    """Unfollow, or withdraw a pending request."""
    count, _requested = await change_follow(request, start=False)
    return json_response({"following": False, "followers_count": count, "requested": False})


async def _as_seen_now(request: web.Request, username: str) -> web.Response:
    """The user as the viewer sees them after an action: the answer of every action here."""
    async with reading(request) as reader:
        profile = await people.profile(reader, username, _viewer_id(request))
    if profile is None:
        raise Problem(404, _("There is no user by that name."))
    return json_response(serialize.user(profile, urls(request)))


async def _target(request: web.Request) -> tuple[str, int]:
    require_confirmed(request)
    username = request.match_info["username"]
    return username, await user_id_for(request, username)


async def block(request: web.Request) -> web.Response:
    username, target_id = await _target(request)
    await change_block(request, target_id, start=True)
    return await _as_seen_now(request, username)


async def unblock(request: web.Request) -> web.Response:
    username, target_id = await _target(request)
    await change_block(request, target_id, start=False)
    return await _as_seen_now(request, username)


async def mute(request: web.Request) -> web.Response:
    """Mute; a JSON body ``{"duration": seconds}`` makes it end (0 or none: until unmuted)."""
    username, target_id = await _target(request)
    await change_mute(request, target_id, True, await duration_param(request))
    return await _as_seen_now(request, username)


async def unmute(request: web.Request) -> web.Response:
    username, target_id = await _target(request)
    await change_mute(request, target_id, start=False)
    return await _as_seen_now(request, username)


async def remove_from_followers(request: web.Request) -> web.Response:
    username, target_id = await _target(request)
    await remove_follower(request, target_id)
    return await _as_seen_now(request, username)
