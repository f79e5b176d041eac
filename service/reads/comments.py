"""Comments under a post, oldest first: shown only where the post itself may be seen."""

from __future__ import annotations

from service.cursor import Position
from service.reads.paging import OLDEST_FIRST, page_of
from service.reads.people import avatar_key
from service.reads.statements import Reader, register, register_paged
from service.reads.views import CommentView, Page, UserSummary
from service.reads.visibility import author_visible_to, post_visible_to

# The comments viewer $1 may see (its post, and what its author wrote), with all a comment
# shows.
_VISIBLE_COMMENTS = f"""
    SELECT c.id, c.post_id, p.author_id, c.author_id, u.username, u.display_name,
           {avatar_key("c.author_id")} AS avatar_key, c.body, c.created_at,
           c.status_id, p.status_id AS post_status_id, c.mention_names, c.mention_ids
      FROM comments c
      JOIN posts p ON p.id = c.post_id
      JOIN users u ON u.id = c.author_id
     WHERE {post_visible_to("p", "$1")} AND {author_visible_to("u", "$1")}"""

# The comments of post $2 that viewer $1 may see, after the position ($3 time, $4 id).
PAGE = register_paged(
    "comments",
    lambda rows: (
        f"""
    {_VISIBLE_COMMENTS}
       AND c.post_id = $2 AND (c.created_at, c.id) > ($3, $4)
     ORDER BY c.created_at, c.id
     LIMIT {rows}
    """
    ),
    shows_posts=True,
)

# The comment $2, if viewer $1 may see its post.
ONE = register(
    "comment",
    f"""
    {_VISIBLE_COMMENTS}
       AND c.id = $2
    """,
    shows_posts=True,
)


def comment_view(row) -> CommentView:
    (
        comment_id, post_id, post_author_id, author_id, username, display_name, key, body, at,
        status_id, post_status_id, mention_names, mention_ids,
    ) = row  # fmt: skip
    return CommentView(
        comment_id,
        post_id,
        post_author_id,
        UserSummary.of(author_id, username, display_name, key),
        body,
        at,
        status_id,
        post_status_id,
        tuple(mention_names),
        tuple(mention_ids),
    )


async def page(
    reader: Reader, post_id: int, viewer_id: int | None, after: Position | None, limit: int
) -> Page[CommentView]:
    start = after or OLDEST_FIRST
    rows = await reader.rows(PAGE.rows(limit + 1), viewer_id, post_id, start.at, start.id)
    return page_of([comment_view(row) for row in rows], limit)


async def comment(reader: Reader, comment_id: int, viewer_id: int | None) -> CommentView | None:
    row = await reader.row(ONE, viewer_id, comment_id)
    return None if row is None else comment_view(row)


# The comment whose status id is $2 (docs/api.md), if viewer $1 may see it.
BY_STATUS_ID = register(
    "comment_by_status_id",
    f"""
    {_VISIBLE_COMMENTS}
       AND c.status_id = $2
    """,
    shows_posts=True,
)

# How many of a post's comments the Mastodon API's context shows: Mastodon shows at most
# 4,096 replies; a post here rarely has a tenth of that, and a bound keeps one answer small.
MAX_REPLIES = 400

# The first MAX_REPLIES comments of post $2 that viewer $1 may see, oldest first.
REPLIES = register(
    "comment_replies",
    f"""
    {_VISIBLE_COMMENTS}
       AND c.post_id = $2
     ORDER BY c.created_at, c.id
     LIMIT {MAX_REPLIES}
    """,
    shows_posts=True,
)


async def by_status_id(reader: Reader, status_id: int, viewer_id: int | None) -> CommentView | None:
    row = await reader.row(BY_STATUS_ID, viewer_id, status_id)
    return None if row is None else comment_view(row)


async def replies(reader: Reader, post_id: int, viewer_id: int | None) -> list[CommentView]:
    return [comment_view(row) for row in await reader.rows(REPLIES, viewer_id, post_id)]


# The comments with ids $2 that viewer $1 may see, in that order.
BY_IDS = register(
    "comments_by_id",
    f"""
    {_VISIBLE_COMMENTS}
       AND c.id = ANY($2::bigint[])
     ORDER BY array_position($2::bigint[], c.id)
    """,
    shows_posts=True,
)


async def by_ids(reader: Reader, ids: list[int], viewer_id: int | None) -> list[CommentView]:
    if not ids:
        return []
    return [comment_view(row) for row in await reader.rows(BY_IDS, viewer_id, ids)]
