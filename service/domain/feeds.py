"""Which posts a list shows, in order: the home timeline, explore, and one author's posts.

Each function returns the (id, published_at) of up to ``limit + 1`` published posts after
``after`` in (published_at DESC, id DESC) order; the extra row only tells the caller that
there is a next page. Keyset positions, never OFFSET: a page costs the same at any depth,
and posts published meanwhile never shift what comes next.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.cursor import Position

# Later than any real post: "after the start" for the first page. Keeps one statement
# shape (and one prepared plan) for first and later pages.
_START = Position(datetime.fromisoformat("9999-01-01T00:00:00+00:00"), 0)

# One statement: the viewer's own posts UNION ALL, for each followed author, that author's
# newest posts before the cursor (a LATERAL top-N, each one short descent of
# ix_posts_author_published). Its cost follows the number of authors followed and the page
# size, never the size of the posts table.
HOME_TIMELINE = text(
    """
    SELECT id, published_at FROM (
        (SELECT p.id, p.published_at
           FROM posts p
          WHERE p.author_id = :viewer
            AND p.published_at IS NOT NULL
            AND (p.published_at, p.id) < (:at, :id)
          ORDER BY p.published_at DESC, p.id DESC
          LIMIT :n)
        UNION ALL
        (SELECT recent.id, recent.published_at
           FROM follows f
          CROSS JOIN LATERAL (
                SELECT p.id, p.published_at
                  FROM posts p
                 WHERE p.author_id = f.followed_id
                   AND p.published_at IS NOT NULL
                   AND (p.published_at, p.id) < (:at, :id)
                 ORDER BY p.published_at DESC, p.id DESC
                 LIMIT :n) AS recent
          WHERE f.follower_id = :viewer)
    ) AS timeline
    ORDER BY published_at DESC, id DESC
    LIMIT :n
    """
)

EXPLORE = text(
    """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.published_at, p.id) < (:at, :id)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT :n
    """
)

AUTHOR = text(
    """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.author_id = :author
       AND p.published_at IS NOT NULL
       AND (p.published_at, p.id) < (:at, :id)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT :n
    """
)


def _bounds(after: Position | None, limit: int) -> dict[str, object]:
    start = after or _START
    return {"at": start.at, "id": start.id, "n": limit + 1}


async def home_timeline(
    session: AsyncSession, viewer_id: int, after: Position | None, limit: int
) -> list[Position]:
    rows = await session.execute(HOME_TIMELINE, {"viewer": viewer_id, **_bounds(after, limit)})
    return [Position(at, post_id) for post_id, at in rows]


async def explore(session: AsyncSession, after: Position | None, limit: int) -> list[Position]:
    rows = await session.execute(EXPLORE, _bounds(after, limit))
    return [Position(at, post_id) for post_id, at in rows]


async def author_posts(
    session: AsyncSession, author_id: int, after: Position | None, limit: int
) -> list[Position]:
    rows = await session.execute(AUTHOR, {"author": author_id, **_bounds(after, limit)})
    return [Position(at, post_id) for post_id, at in rows]
