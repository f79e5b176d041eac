"""Likes and comments as pages and API both perform them, with their 4xx answers."""

from __future__ import annotations

from aiohttp import web

from service.domain import comments, likes
from service.domain.comments import CommentView
from service.keys import sessionmaker_key
from service.models import User
from service.web.params import path_id
from service.web.problems import Problem

NO_POST = "There is no such post."


async def set_like(request: web.Request, viewer: User, post_id: int, liked: bool) -> int:
    """Like or unlike; the post's like count after."""
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if liked:
                return await likes.like(db, viewer.id, post_id)
            return await likes.unlike(db, viewer.id, post_id)
        except likes.PostNotFound as error:
            raise Problem(404, NO_POST) from error


async def add_comment(request: web.Request, viewer: User, post_id: int, body: str) -> CommentView:
    if message := comments.body_error(body):
        raise Problem(422, message, "invalid_body")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            return await comments.add(db, post_id, viewer.id, body)
        except likes.PostNotFound as error:
            raise Problem(404, NO_POST) from error


async def delete_comment(request: web.Request, viewer: User, comment_id: int) -> int:
    async with request.app[sessionmaker_key].begin() as db:
        try:
            return await comments.delete_as(db, comment_id, viewer.id, viewer.is_moderator)
        except comments.CommentNotFound as error:
            raise Problem(404, "There is no such comment.") from error
        except comments.NotAllowed as error:
            raise Problem(403, "You can only delete your own comments.") from error


def comment_id_from(request: web.Request) -> int:
    return path_id(request, "There is no such comment.")
