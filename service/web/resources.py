"""Looking up what a URL names, with the 404/403 answers pages and API share."""

from __future__ import annotations

import contextlib

import asyncpg
from aiohttp import web

from service import db
from service.domain import follows, posts, users
from service.keys import read_pool_key, sessionmaker_key, storage_key
from service.media.urls import MediaUrls
from service.models import User
from service.web.auth import require_confirmed
from service.web.params import path_id
from service.web.problems import Problem


def reading(request: web.Request) -> contextlib.AbstractAsyncContextManager[asyncpg.Connection]:
    """A connection for the reads of one request (see db.create_read_pool)."""
    return db.reading(request.app[read_pool_key])


def media_urls(request: web.Request) -> MediaUrls:
    """How this app's storage names a stored photo for browsers."""
    return request.app[storage_key].urls


async def user_id_for(request: web.Request, username: str) -> int:
    if len(username) > 30:
        raise Problem(404, "There is no user by that name.")
    async with request.app[sessionmaker_key]() as db:
        user_id = await users.user_id_by_username(db, username)
    if user_id is None:
        raise Problem(404, "There is no user by that name.")
    return user_id


def post_id_from(request: web.Request) -> int:
    return path_id(request, "There is no such post.")


async def delete_post_as(request: web.Request, viewer: User, post_id: int) -> None:
    """Authors delete their own posts; moderators and admins delete anyone's."""
    async with request.app[sessionmaker_key].begin() as db:
        author_id = await posts.author_of(db, post_id)
        if author_id is None:
            raise Problem(404, "There is no such post.")
        if author_id != viewer.id and not viewer.is_moderator:
            raise Problem(403, "You can only delete your own posts.")
        await posts.delete_post(db, post_id)


async def change_follow(request: web.Request, start: bool) -> int:
    """Follow or unfollow the user in the URL as the viewer; their follower count after."""
    viewer = require_confirmed(request)
    target_id = await user_id_for(request, request.match_info["username"])
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await follows.follow(db, viewer.id, target_id)
            else:
                await follows.unfollow(db, viewer.id, target_id)
        except follows.CannotFollowSelf as error:
            raise Problem(422, "You cannot follow yourself.", "cannot_follow_self") from error
        except follows.UserNotFound as error:
            raise Problem(404, "There is no user by that name.") from error
        return await follows.followers_count(db, target_id)
