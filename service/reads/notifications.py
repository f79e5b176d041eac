"""A user's notifications, newest first, and the unread count every page shows."""

from __future__ import annotations

from collections.abc import Sequence

from service.cursor import Position
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.people import avatar_key
from service.reads.statements import Reader, register, register_paged
from service.reads.views import NotificationGroup, NotificationView, Page, UserSummary
from service.reads.visibility import person_visible, post_visible_to
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
           first_photo.key_prefix, first_photo.extension,
           left(rtrim(split_part(c.body, E'\\n', 1), E'\\r'), {EXCERPT_CHARACTERS}) AS excerpt
      FROM notifications n
      JOIN users u ON u.id = n.actor_id
      LEFT JOIN posts p ON p.id = n.post_id
      LEFT JOIN comments c ON c.id = n.comment_id
      LEFT JOIN LATERAL (
           SELECT f.key_prefix, f.extension FROM photos f
            WHERE f.post_id = n.post_id AND f.ready_at IS NOT NULL
            ORDER BY f.position LIMIT 1) AS first_photo ON true
     WHERE n.user_id = $1 AND {person_visible("u")}
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
     WHERE n.user_id = $1 AND n.read_at IS NULL AND {person_visible("u")}
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
                urls(rendition_key(prefix, "thumb", extension)) if prefix else None,
                excerpt,
            )
            for (
                notification_id, kind, actor_id, username, display_name, key,
                post_id, created_at, read, prefix, extension, excerpt,
            ) in rows
        ],
        limit,
    )  # fmt: skip


def grouped(items: Sequence[NotificationView]) -> list[NotificationGroup]:
    """A page's notifications as the page shows them: the likes of one post together, at
    the place of the newest ("ana and 4 others liked your post"); follows and comments
    each on their own, since each says something of its own."""
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
