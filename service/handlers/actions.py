"""The actions pages and the JSON API both perform, each a domain command in one unit of
work, with the 4xx answers they share."""

from __future__ import annotations

from aiohttp import web

from service import discovery
from service.domain import blocks, comments, follows, likes, posts, tag_follows
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.i18n import lazy_gettext, ngettext
from service.keys import sessionmaker_key
from service.reads import people
from service.reads.views import SessionUser
from service.web.auth import require_confirmed
from service.web.problems import Problem
from service.web.resources import reading

NO_POST = lazy_gettext("There is no such post.")
NO_USER = lazy_gettext("There is no user by that name.")
CANNOT_FOLLOW = lazy_gettext("You cannot follow this account.")
MUTE_DURATION = lazy_gettext("The duration is a whole number of seconds, 0 for until unmuted.")


async def user_id_for(request: web.Request, username: str, viewer_id: int | None = None) -> int:
    """The id of the user named, if the viewer may look them up (no viewer: whoever is not
    suspended, for actions, whose commands say what may be done to whom); else 404."""
    async with reading(request) as reader:
        user_id = await people.user_id_by_name(reader, username, viewer_id)
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
            raise Problem(403, _("You can only delete your own posts.")) from error


async def change_follow(request: web.Request, start: bool) -> tuple[int, bool]:
    """Follow (or ask to, when the account is private) or unfollow (or withdraw the request)
    the user in the URL as the viewer; their follower count after, and whether the viewer's
    request to follow them is pending."""
    viewer = require_confirmed(request)
    target_id = await user_id_for(request, request.match_info["username"])
    if start:
        await count_action(request, viewer.id, "follows")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await follows.follow(db, viewer.id, target_id)
            else:
                await follows.unfollow(db, viewer.id, target_id)
        except follows.CannotFollowSelf as error:
            raise Problem(422, _("You cannot follow yourself."), "cannot_follow_self") from error
        except follows.Blocked as error:
            raise _follow_refused(error) from error
        except follows.UserNotFound as error:
            raise Problem(404, NO_USER) from error
        count = await follows.followers_count(db, target_id)
        return count, await follows.is_requested(db, viewer.id, target_id)


def written_tag(written: str) -> tuple[str, str]:
    """The tag a path names, in any spelling (with or without its ``#``): (normalised name,
    display form). 404 for what cannot be a tag."""
    if discovery.tag_error(written):
        raise Problem(404, _("There is no such hashtag."))
    written = written.removeprefix("#").removeprefix("\uff03")
    return discovery.normalize_tag(written), discovery.display_tag(written)


async def change_tag_follow(request: web.Request, name: str, display: str, start: bool) -> None:
    """Follow or unfollow the tag stored as ``name`` as the viewer (idempotent); a tag nobody
    has used yet is stored when followed. 422 past the limit of followed tags."""
    viewer = require_confirmed(request)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await tag_follows.follow(db, viewer.id, name, display)
            else:
                await tag_follows.unfollow(db, viewer.id, name)
        except tag_follows.TooManyTags as error:
            raise Problem(422, _too_many_tags(), "too_many_followed_tags") from error
        except tag_follows.UserNotFound as error:
            raise Problem(404, NO_USER) from error


def _too_many_tags() -> str:
    most = tag_follows.MAX_FOLLOWED_TAGS
    return ngettext(
        "You follow %(num)s hashtag, as many as one can: unfollow it to follow another.",
        "You follow %(num)s hashtags, as many as one can: unfollow one to follow another.",
        most,
    ) % {"num": most}


def _follow_refused(error: follows.Blocked) -> Problem:
    if error.by_target:
        return Problem(403, CANNOT_FOLLOW, "blocked")
    return Problem(403, _("You blocked this account: unblock it to follow it."), "blocking")


async def change_block(request: web.Request, target_id: int, start: bool) -> None:
    """Block or unblock the user ``target_id`` as the viewer."""
    viewer = require_confirmed(request)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await blocks.block(db, viewer.id, target_id)
            else:
                await blocks.unblock(db, viewer.id, target_id)
        except blocks.CannotBlockSelf as error:
            raise Problem(422, _("You cannot block yourself."), "cannot_block_self") from error
        except follows.UserNotFound as error:
            raise Problem(404, NO_USER) from error


async def change_mute(
    request: web.Request, target_id: int, start: bool, duration_seconds: int | None = None
) -> None:
    """Mute (for ``duration_seconds``; None or 0: until unmuted) or unmute the user
    ``target_id`` as the viewer."""
    viewer = require_confirmed(request)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if start:
                await blocks.mute(db, viewer.id, target_id, duration_seconds)
            else:
                await blocks.unmute(db, viewer.id, target_id)
        except blocks.CannotMuteSelf as error:
            raise Problem(422, _("You cannot mute yourself."), "cannot_mute_self") from error
        except blocks.BadDuration as error:
            raise Problem(422, MUTE_DURATION, "invalid_duration") from error
        except follows.UserNotFound as error:
            raise Problem(404, NO_USER) from error


async def remove_follower(request: web.Request, follower_id: int) -> None:
    """End the follow of the viewer by ``follower_id``."""
    viewer = require_confirmed(request)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            await blocks.remove_follower(db, viewer.id, follower_id)
        except follows.UserNotFound as error:
            raise Problem(404, NO_USER) from error


NO_REQUEST = lazy_gettext("There is no pending follow request from this account.")


async def answer_request(request: web.Request, requester_id: int, approve: bool) -> None:
    """Approve or reject ``requester_id``'s request to follow the viewer; 404 when there is
    none (withdrawn, answered already, or never made)."""
    viewer = require_confirmed(request)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if approve:
                await follows.approve(db, viewer.id, requester_id)
            else:
                await follows.reject(db, viewer.id, requester_id)
        except (follows.RequestNotFound, follows.UserNotFound) as error:
            raise Problem(404, NO_REQUEST, "no_follow_request") from error


async def set_like(request: web.Request, viewer: SessionUser, post_id: int, liked: bool) -> int:
    """Like or unlike; the post's like count after."""
    if liked:
        await count_action(request, viewer.id, "likes")
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
    await count_action(request, viewer.id, "comments")
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
            raise Problem(404, _("There is no such comment.")) from error
        except comments.NotAllowed as error:
            raise Problem(403, _("You can only delete your own comments.")) from error
