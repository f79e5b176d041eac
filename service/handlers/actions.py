"""The actions pages and the JSON API both perform, each a domain command in one unit of
work, with the 4xx answers they share."""

from __future__ import annotations

from aiohttp import web

from service.domain import comments, follows, likes, posts
from service.keys import sessionmaker_key
from service.reads import people
from service.reads.views import SessionUser
from service.web.auth import require_confirmed
from service.web.problems import Problem
from service.web.resources import reading

NO_POST = "There is no such post."
NO_USER = "There is no user by that name."


async def user_id_for(request: web.Request, username: str) -> int:
    async with reading(request) as reader:
        user_id = await people.user_id_by_name(reader, username)
    if user_id is None:
        raise Problem(404, NO_USER)
    return user_id


async def delete_post(request: web.Request, viewer: SessionUser, post_id: int) -> None:
    async with request.app[sessionmaker_key].begin() as db:
        try:
            await posts.delete_as(db, post_id, viewer.id, viewer.is_moderator)
        except posts.PostNotFound as error:
            raise Problem(404, NO_POST) from error
        except posts.NotAllowed as error:
            raise Problem(403, "You can only delete your own posts.") from error


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
            raise Problem(404, NO_USER) from error
        return await follows.followers_count(db, target_id)


async def set_like(request: web.Request, viewer: SessionUser, post_id: int, liked: bool) -> int:
    """Like or unlike; the post's like count after."""
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if liked:
                return await likes.like(db, viewer.id, post_id)
            return await likes.unlike(db, viewer.id, post_id)
        except likes.PostNotFound as error:
            raise Problem(404, NO_POST) from error


async def add_comment(request: web.Request, viewer: SessionUser, post_id: int, body: str) -> int:
    """The new comment's id."""
    if message := comments.body_error(body):
        raise Problem(422, message, "invalid_body")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            return await comments.add(db, post_id, viewer.id, body)
        except likes.PostNotFound as error:
            raise Problem(404, NO_POST) from error


async def delete_comment(request: web.Request, viewer: SessionUser, comment_id: int) -> int:
    """The id of the post the comment was under."""
    async with request.app[sessionmaker_key].begin() as db:
        try:
            return await comments.delete_as(db, comment_id, viewer.id, viewer.is_moderator)
        except comments.CommentNotFound as error:
            raise Problem(404, "There is no such comment.") from error
        except comments.NotAllowed as error:
            raise Problem(403, "You can only delete your own comments.") from error
