"""A user's notifications, newest first, and the unread count every page shows; and the
Mastodon API's lists of them, by notification id."""

from __future__ import annotations

from collections.abc import Sequence

from service.cursor import Position
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.people import avatar_key
from service.reads.statements import Reader, register, register_paged
from service.reads.views import (
    NotificationEvent,
    NotificationGroup,
    NotificationView,
    Page,
    UserSummary,
)
from service.reads.visibility import author_visible_to, post_visible_to
from service.storage.urls import MediaUrls, rendition_key

# How much of a comment a notification quotes: its first line, cut to this many characters.
EXCERPT_CHARACTERS = 140

# The notifications of user $1 after the position ($2 time, $3 id), with what the page shows
# of each: the post's first photo and the comment's first line. One about a post shows only
# while its reader may see that post.
PAGE = register_paged(
    "notifications",
    lambda rows: (
        f"""
    SELECT n.id, n.kind, n.actor_id, u.username, u.display_name,
           {avatar_key("n.actor_id")} AS avatar_key,
           n.post_id, n.created_at, n.read_at IS NOT NULL AS read,
           first_photo.key_prefix, first_photo.extension, first_photo.restricted,
           left(rtrim(split_part(
                coalesce(c.body, CASE WHEN n.kind = 'mention' THEN p.body END), E'\\n', 1),
                E'\\r'), {EXCERPT_CHARACTERS}) AS excerpt,
           n.comment_id
      FROM notifications n
      JOIN users u ON u.id = n.actor_id
      LEFT JOIN posts p ON p.id = n.post_id
      LEFT JOIN comments c ON c.id = n.comment_id
      LEFT JOIN LATERAL (
           SELECT f.key_prefix, f.extension, f.restricted FROM photos f
            WHERE f.post_id = n.post_id AND f.ready_at IS NOT NULL
            ORDER BY f.position LIMIT 1) AS first_photo ON true
     WHERE n.user_id = $1 AND {author_visible_to("u", "$1")}
       AND (n.post_id IS NULL OR {post_visible_to("p", "$1")})
       AND (n.created_at, n.id) < ($2, $3)
     ORDER BY n.created_at DESC, n.id DESC
     LIMIT {rows}
    """
    ),
    shows_posts=True,
)

# How many notifications of user $1 are unread, as the badge shows them; the home page's
# first-page statement reads it in the same round trip as its posts.
UNREAD_COUNT = f"""
    SELECT count(*)
      FROM notifications n
      JOIN users u ON u.id = n.actor_id
      LEFT JOIN posts p ON p.id = n.post_id
     WHERE n.user_id = $1 AND n.read_at IS NULL AND {author_visible_to("u", "$1")}
       AND (n.post_id IS NULL OR {post_visible_to("p", "$1")})
    """

UNREAD = register("unread_notifications", UNREAD_COUNT, shows_posts=True)


async def page(
    reader: Reader, urls: MediaUrls, user_id: int, after: Position | None, limit: int
) -> Page[NotificationView]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(PAGE.rows(limit + 1), user_id, start.at, start.id)
    return page_of(
        [
            NotificationView(
                notification_id,
                kind,
                UserSummary.of(actor_id, username, display_name, key),
                post_id,
                created_at,
                read,
                urls(rendition_key(prefix, "thumb", extension), restricted) if prefix else None,
                excerpt,
                comment_id,
            )
            for (
                notification_id, kind, actor_id, username, display_name, key,
                post_id, created_at, read, prefix, extension, restricted, excerpt, comment_id,
            ) in rows
        ],
        limit,
    )  # fmt: skip


def grouped(items: Sequence[NotificationView]) -> list[NotificationGroup]:
    """A page's notifications as the page shows them: the likes of one post together, at
    the place of the newest ("ana and 4 others liked your post"); follows, comments and
    mentions each on their own, since each says something of its own."""
    groups: list[NotificationGroup] = []
    likes_of: dict[int, int] = {}  # post id -> index of its group of likes
    for item in items:
        if item.kind == "like" and item.post_id in likes_of:
            index = likes_of[item.post_id]
            groups[index] = groups[index].with_one_more(item)
            continue
        if item.kind == "like" and item.post_id is not None:
            likes_of[item.post_id] = len(groups)
        groups.append(NotificationGroup.of(item))
    return groups


async def unread_count(reader: Reader, user_id: int) -> int:
    """For the badge every page shows."""
    return await reader.value(UNREAD, user_id)


# The notifications user $1 may see (the actor, and the post one is about), as the Mastodon
# API lists them: by id, one kind among $4.
_EVENTS = f"""
    SELECT n.id, n.kind, n.actor_id, n.post_id, n.comment_id, n.created_at
      FROM notifications n
      JOIN users u ON u.id = n.actor_id
      LEFT JOIN posts p ON p.id = n.post_id
     WHERE n.user_id = $1 AND {author_visible_to("u", "$1")}
       AND (n.post_id IS NULL OR {post_visible_to("p", "$1")})"""


def _events_between(order: str):
    """Ids strictly between $2 and $3, the newest (or, ascending, the oldest) first."""

    def build(rows: int) -> str:
        return f"""
    {_EVENTS}
       AND n.id > $2 AND n.id < $3 AND n.kind = ANY($4::text[])
     ORDER BY n.id {order}
     LIMIT {rows}
    """

    return build


EVENTS = {
    "DESC": register_paged("notification_events", _events_between("DESC"), shows_posts=True),
    "ASC": register_paged("notification_events_oldest", _events_between("ASC"), shows_posts=True),
}

# Notification $2 of user $1, if they may see it.
EVENT = register("notification_event", f"{_EVENTS}\n       AND n.id = $2", shows_posts=True)


def _event(row) -> NotificationEvent:
    return NotificationEvent(*row)


async def events(
    reader: Reader,
    user_id: int,
    kinds: Sequence[str],
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[NotificationEvent]:
    """Up to ``limit`` of the user's notifications of ``kinds`` with ids strictly between
    ``above`` and ``below``: the newest, or with ``oldest_first`` the oldest; newest first
    either way."""
    statement = EVENTS["ASC" if oldest_first else "DESC"].rows(limit)
    rows = await reader.rows(statement, user_id, above, below, list(kinds))
    found = [_event(row) for row in rows]
    if oldest_first:
        found.reverse()
    return found


async def event(reader: Reader, user_id: int, notification_id: int) -> NotificationEvent | None:
    row = await reader.row(EVENT, user_id, notification_id)
    return None if row is None else _event(row)
