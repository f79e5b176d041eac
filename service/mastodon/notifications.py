"""/api/v1/notifications: the signed-in user's notifications as Mastodon's Notification
entities, one, clearing them all and dismissing one.

Snapline's kinds are Mastodon's: a follow is ``follow``, a request to follow one's private
account ``follow_request``, a like ``favourite`` (with the post as its status), a comment on
one's post ``mention`` (with the comment as its status, a reply to the post), and a mention
``mention`` too (with the post, or the comment, that mentions). "Accepted your follow
request" has no Mastodon type (an app learns it from the Relationship) and is shown on the
web only. Ids are notification ids, in the order they were made."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.domain import notifications as notification_commands
from service.keys import sessionmaker_key
from service.mastodon import entities
from service.mastodon.common import (
    accounts_of,
    comment_statuses,
    id_from_path,
    json_response,
    not_found,
    page_response,
    statuses,
    window,
)
from service.reads import comments, notifications
from service.reads import posts as post_reads
from service.reads.statements import Reader
from service.reads.views import NotificationEvent
from service.web.auth import require_user
from service.web.resources import media_urls, reading

# Mastodon's type of each of Snapline's kinds of notification.
TYPES = {
    "follow": "follow",
    "follow_request": "follow_request",
    "like": "favourite",
    "comment": "mention",
    "mention": "mention",
}
# The kinds that are about the account alone, with no status.
ACCOUNT_KINDS = frozenset({"follow", "follow_request"})
KINDS: dict[str, list[str]] = {}
for _kind, _type in TYPES.items():
    KINDS.setdefault(_type, []).append(_kind)


def _kinds(request: web.Request) -> list[str]:
    """The kinds ``types[]`` asks for (all when absent), less those of ``exclude_types[]``;
    types Snapline does not have (reblog, poll, status, ...) are none of them."""
    asked = request.query.getall("types[]", []) + request.query.getall("types", [])
    excluded = set(
        request.query.getall("exclude_types[]", []) + request.query.getall("exclude_types", [])
    )
    wanted = [kind for name in asked for kind in KINDS.get(name, [])] if asked else list(TYPES)
    return [kind for kind in dict.fromkeys(wanted) if TYPES[kind] not in excluded]


def _about_post(item: NotificationEvent) -> bool:
    """Whether the notification's status is a post (a like, a post's mention), not a comment."""
    return item.kind == "like" or (item.kind == "mention" and item.comment_id is None)


async def notification_entities(
    reader: Reader, request: web.Request, found: list[NotificationEvent], viewer_id: int
) -> list[dict[str, Any]]:
    """Notification entities, each with its actor's account and, for a favourite or a
    mention, its status; one whose account or status the viewer may not see is left out."""
    accounts = await accounts_of(reader, request, [n.actor_id for n in found], viewer_id)
    post_ids = [n.post_id for n in found if _about_post(n) and n.post_id is not None]
    posts = await post_reads.by_ids(reader, media_urls(request), post_ids, viewer_id)
    by_status = {int(e["id"]): e for e in await statuses(reader, request, posts, viewer_id)}
    post_statuses = {post.id: by_status.get(post.status_id or 0) for post in posts}
    comment_ids = [n.comment_id for n in found if n.kind in ("comment", "mention") and n.comment_id]
    replies = await comments.by_ids(reader, comment_ids, viewer_id)
    by_status = {
        int(e["id"]): e for e in await comment_statuses(reader, request, replies, viewer_id)
    }
    reply_statuses = {reply.id: by_status.get(reply.status_id or 0) for reply in replies}
    shown = []
    for item in found:
        account = accounts.get(item.actor_id)
        if account is None or item.kind not in TYPES:
            continue
        status = None
        if _about_post(item):
            status = post_statuses.get(item.post_id or 0)
        elif item.kind in ("comment", "mention"):
            status = reply_statuses.get(item.comment_id or 0)
        if item.kind not in ACCOUNT_KINDS and status is None:
            continue
        shown.append(
            entities.notification(item.id, TYPES[item.kind], item.created_at, account, status)
        )
    return shown


async def list_notifications(request: web.Request) -> web.Response:
    viewer = require_user(request)
    paging, kinds = window(request), _kinds(request)
    if not kinds:
        return page_response(request, [])
    async with reading(request) as reader:
        found = await notifications.events(
            reader, viewer.id, kinds, paging.above, paging.below, paging.oldest_first,
            paging.limit,
        )  # fmt: skip
        items = await notification_entities(reader, request, found, viewer.id)
    return page_response(request, items)


async def _one(reader: Reader, request: web.Request, viewer_id: int) -> NotificationEvent:
    found = await notifications.event(reader, viewer_id, id_from_path(request))
    if found is None:
        raise not_found()
    return found


async def notification(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with reading(request) as reader:
        found = await _one(reader, request, viewer.id)
        [entity] = await notification_entities(reader, request, [found], viewer.id) or [None]
    if entity is None:
        raise not_found()
    return json_response(entity)


async def clear(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with request.app[sessionmaker_key].begin() as db:
        await notification_commands.clear(db, viewer.id)
    return json_response({})


async def dismiss(request: web.Request) -> web.Response:
    """Only a notification the user may see can be dismissed: another's, or one about a
    post hidden from them, is not found."""
    viewer = require_user(request)
    async with reading(request) as reader:
        found = await _one(reader, request, viewer.id)
    async with request.app[sessionmaker_key].begin() as db:
        if not await notification_commands.dismiss(db, viewer.id, found.id):
            raise not_found()
    return json_response({})
