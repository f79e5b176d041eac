"""/api/snapline/v1/users: profiles, their posts, relationships, follow and unfollow."""

from __future__ import annotations

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, page_json, urls
from service.handlers.actions import change_follow, user_id_for
from service.reads import people, posts
from service.web.auth import current_user
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
        raise Problem(404, "There is no user by that name.")
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
    count = await change_follow(request, start=True)
    return json_response({"following": True, "followers_count": count})


async def unfollow(request: web.Request) -> web.Response:
    count = await change_follow(request, start=False)
    return json_response({"following": False, "followers_count": count})
