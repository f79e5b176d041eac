"""/api/v1/statuses: posting (a post, or a reply: a comment), a status, its context, who
favourited it, favouriting and deleting.

A status id names a post or a comment by its last bit (docs/api.md): even, a post; odd, a
comment, shown as a reply to its post."""

from __future__ import annotations

from aiohttp import web

from service.cursor import MAX_ID
from service.domain import comments as comment_commands
from service.domain import idempotency, likes, posts
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.keys import media_worker_key, sessionmaker_key
from service.mastodon import entities
from service.mastodon.common import (
    Params,
    accounts_of,
    comment_statuses,
    id_from_path,
    ids_of,
    json_response,
    not_found,
    page_response,
    read_params,
    statuses,
    text_of,
    window,
)
from service.reads import comments, people
from service.reads import posts as post_reads
from service.reads import statuses as status_reads
from service.reads.statements import Reader
from service.reads.views import CommentView, PostView, SessionUser
from service.text import trim
from service.web.auth import current_user, require_confirmed
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

COMMENT_KIND = 1
# Mastodon's audiences: public, unlisted and private (followers only) are a post's audiences
# (entities.AUDIENCE); there are no direct messages, so "direct" is refused.
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})
MAX_SPOILER_CHARS = 10_000


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def _find(
    reader: Reader, request: web.Request, viewer_id: int | None, status_id: int | None = None
) -> PostView | CommentView:
    """The post or comment a status id names, if the viewer may see it; else 404."""
    status_id = id_from_path(request) if status_id is None else status_id
    if status_id & 1 == COMMENT_KIND:
        found = await comments.by_status_id(reader, status_id, viewer_id)
    else:
        found = await status_reads.by_status_id(reader, media_urls(request), status_id, viewer_id)
    if found is None:
        raise not_found()
    return found


async def _entities(
    reader: Reader, request: web.Request, found: list, viewer_id: int | None
) -> list[dict]:
    if found and isinstance(found[0], CommentView):
        return await comment_statuses(reader, request, found, viewer_id)
    return await statuses(reader, request, found, viewer_id)


async def status(request: web.Request) -> web.Response:
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        [entity] = await _entities(reader, request, [found], viewer_id) or [None]
    if entity is None:
        raise not_found()
    return json_response(entity)


async def context(request: web.Request) -> web.Response:
    """A post's comments are its descendants, oldest first; a comment's ancestor is its
    post."""
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        if isinstance(found, CommentView):
            post = None
            if found.post_status_id is not None:
                post = await status_reads.by_status_id(
                    reader, media_urls(request), found.post_status_id, viewer_id
                )
            ancestors = await statuses(reader, request, [post] if post else [], viewer_id)
            return json_response({"ancestors": ancestors, "descendants": []})
        replies = await comments.replies(reader, found.id, viewer_id)
        descendants = await comment_statuses(reader, request, replies, viewer_id)
    return json_response({"ancestors": [], "descendants": descendants})


async def favourited_by(request: web.Request) -> web.Response:
    """Who liked the post, paged by account id; nobody likes a comment."""
    viewer_id, paging = _viewer_id(request), window(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id)
        if isinstance(found, CommentView):
            return page_response(request, [])
        likers = await people.likers(
            reader, found.id, viewer_id, paging.above, paging.below, paging.oldest_first,
            paging.limit,
        )  # fmt: skip
        accounts = await accounts_of(reader, request, [user.id for user in likers], viewer_id)
    return page_response(request, [accounts[user.id] for user in likers if user.id in accounts])


async def _entity_of(
    reader: Reader, request: web.Request, found: PostView | CommentView, viewer_id: int
) -> dict:
    [entity] = await _entities(reader, request, [found], viewer_id) or [None]
    if entity is None:
        raise not_found()
    return entity


async def _made(
    request: web.Request, viewer_id: int, post_id: int | None, comment_id: int | None
) -> dict:
    """The status just made (or made earlier with the same idempotency key), as its author
    sees it, through the read layer."""
    async with reading(request) as reader:
        found: PostView | CommentView | None = None
        if comment_id is not None:
            found = await comments.comment(reader, comment_id, viewer_id)
        elif post_id is not None:
            found = await post_reads.post(reader, media_urls(request), post_id, viewer_id)
        if found is None:  # deleted in the moment since it was made
            raise not_found()
        return await _entity_of(reader, request, found, viewer_id)


async def _reply_target(request: web.Request, raw: str, viewer_id: int) -> int:
    """The post a reply goes under: the post ``in_reply_to_id`` names, or the post of the
    comment it names. Snapline's comments are flat, so a reply to a comment is a comment
    on its post."""
    status_id = whole_number(raw, 1, MAX_ID)
    if status_id is None:
        raise not_found()
    async with reading(request) as reader:
        found = await _find(reader, request, viewer_id, status_id)
    return found.post_id if isinstance(found, CommentView) else found.id


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > idempotency.MAX_KEY_CHARS or not key.isprintable():
        raise Problem(422, _("Idempotency-Key is not valid"))
    return key


def _check_options(params: Params) -> None:
    """What Mastodon takes beside the text: accepted, and kept to what Snapline has."""
    visibility = text_of(params, "visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise Problem(422, _("Validation failed: Visibility is not included in the list"))
    if visibility == "direct":
        raise Problem(422, _("Direct messages are not available on this server"))
    if len(text_of(params, "spoiler_text") or "") > MAX_SPOILER_CHARS:
        raise Problem(422, _("Validation failed: Spoiler text is too long"))
    if text_of(params, "poll[expires_in]") or "poll" in params:
        raise Problem(422, _("Polls are not available on this server"))
    if text_of(params, "scheduled_at"):
        raise Problem(422, _("Scheduled statuses are not available on this server"))


async def _make(
    request: web.Request, viewer: SessionUser, params: Params, key: str | None
) -> tuple[int | None, int | None]:
    """Make the post or comment in one unit of work; (post id, comment id)."""
    body = trim((text_of(params, "status") or "").replace("\r\n", "\n"))
    # None: the user's default audience.
    audience = entities.AUDIENCE.get(text_of(params, "visibility") or "")
    media_ids = ids_of(params, "media_ids")
    if len(media_ids) > posts.MAX_PHOTOS_PER_POST:
        too_many = _("Cannot attach more than %(count)s files")
        raise Problem(422, too_many % {"count": posts.MAX_PHOTOS_PER_POST})
    reply_to = text_of(params, "in_reply_to_id")
    post_id = await _reply_target(request, reply_to, viewer.id) if reply_to else None
    if post_id is not None and media_ids:
        raise Problem(422, _("Replies are comments here, and comments carry no media"))
    if post_id is not None and (message := comment_commands.body_error(body)):
        raise Problem(422, _("Validation failed: %(message)s") % {"message": message})
    await count_action(request, viewer.id, "posts" if post_id is None else "comments")
    try:
        async with request.app[sessionmaker_key].begin() as db:
            if key is not None and (earlier := await idempotency.claim(db, viewer.id, key)):
                return earlier.post_id, earlier.comment_id
            if post_id is not None:
                comment_id = await comment_commands.add(db, post_id, viewer.id, body)
                made = (None, comment_id)
            elif media_ids:
                made = (
                    await posts.create_post_with_media(db, viewer.id, body, media_ids, audience),
                    None,
                )
            else:
                made = (await posts.create_post(db, viewer.id, body, audience=audience), None)
            if key is not None:
                await idempotency.record(db, viewer.id, key, post_id=made[0], comment_id=made[1])
            return made
    except (posts.PostRefused, posts.MediaRefused) as refused:
        message = _("Validation failed: %(message)s") % {"message": refused}
        raise Problem(422, message) from refused
    except likes.PostNotFound as error:
        raise not_found() from error


async def create(request: web.Request) -> web.Response:
    """A new status: a post, or with ``in_reply_to_id`` a comment. The same
    ``Idempotency-Key`` from the same user within an hour answers the status it made."""
    viewer = require_confirmed(request)
    key = _idempotency_key(request)
    params = await read_params(request, frozenset({"media_ids"}))
    _check_options(params)
    post_id, comment_id = await _make(request, viewer, params, key)
    if params.get("media_ids"):
        request.app[media_worker_key].wake()  # attached to a post that is not public, they move
    return json_response(await _made(request, viewer.id, post_id, comment_id))


async def delete(request: web.Request) -> web.Response:
    """Delete a post, or a comment (one's own, or under one's own post); the answer is the
    status as it was, with its ``text`` for an app that offers to write it again."""
    viewer = require_confirmed(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer.id)
        entity = await _entity_of(reader, request, found, viewer.id)
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if isinstance(found, CommentView):
                await comment_commands.delete_as(db, found.id, viewer.id, viewer.is_moderator)
            else:
                await posts.delete_as(db, found.id, viewer.id, viewer.is_moderator)
        except (posts.PostNotFound, comment_commands.CommentNotFound) as error:
            raise not_found() from error
        except (posts.NotAllowed, comment_commands.NotAllowed) as error:
            raise Problem(403, _("This action is not allowed")) from error
    return json_response({**entity, "text": found.body})


async def _favourite(request: web.Request, liked: bool) -> web.Response:
    viewer = require_confirmed(request)
    async with reading(request) as reader:
        found = await _find(reader, request, viewer.id)
    if isinstance(found, CommentView):
        raise Problem(422, _("Replies cannot be favourited on this server"))
    if liked:
        await count_action(request, viewer.id, "likes")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            if liked:
                await likes.like(db, viewer.id, found.id)
            else:
                await likes.unlike(db, viewer.id, found.id)
        except likes.PostNotFound as error:
            raise not_found() from error
    return json_response(await _made(request, viewer.id, found.id, None))


async def favourite(request: web.Request) -> web.Response:
    return await _favourite(request, True)


async def unfavourite(request: web.Request) -> web.Response:
    return await _favourite(request, False)
