"""Profiles, relationship lists, follow buttons and generated avatars."""

from __future__ import annotations

from aiohttp import web

from service.handlers.actions import change_follow
from service.reads import notifications, people, posts
from service.reads.statements import Reader
from service.reads.views import Profile
from service.views.common import redirect, render
from service.web.auth import current_user
from service.web.paging import page_request
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.urls import url_for


async def _profile(reader: Reader, request: web.Request) -> Profile:
    viewer = current_user(request)
    found = await people.profile(
        reader, request.match_info["username"], viewer.id if viewer else None
    )
    if found is None:
        raise Problem(404, "There is no user by that name.")
    return found


async def profile(request: web.Request) -> web.Response:
    viewer = current_user(request)
    viewer_id = viewer.id if viewer else None
    after, limit = page_request(request)
    async with reading(request) as reader:
        found = await _profile(reader, request)
        page = await posts.by_author(
            reader, media_urls(request), found.summary.id, viewer_id, after, limit
        )
        unread = await notifications.unread_count(reader, viewer_id) if viewer else 0
    context = {"profile": found, "page": page}
    return await render(
        request, "users/profile.html", context, unread=unread, fragment="fragments/posts.html"
    )


async def _relationship_list(request: web.Request, direction: str) -> web.Response:
    viewer = current_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        found = await _profile(reader, request)
        page = await people.relationships(
            reader, found.summary.id, direction, after, limit, viewer.id if viewer else None
        )
    context = {"profile": found, "page": page, "direction": direction}
    return await render(
        request, "users/relationships.html", context, fragment="fragments/people.html"
    )


async def followers(request: web.Request) -> web.Response:
    return await _relationship_list(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _relationship_list(request, "following")


async def follow(request: web.Request) -> web.Response:
    await change_follow(request, start=True)
    raise redirect(url_for(request, "profile", username=request.match_info["username"]))


async def unfollow(request: web.Request) -> web.Response:
    await change_follow(request, start=False)
    raise redirect(url_for(request, "profile", username=request.match_info["username"]))
