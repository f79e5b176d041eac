"""Which posts a list shows, in order: the home timeline, explore, and one author's posts.

Each statement picks the (id, published_at) of up to ``:n`` (a page size plus one)
published posts after the position (``:at``, ``:id``) in (published_at DESC, id DESC)
order; the extra row only tells the caller that there is a next page. pages.py wraps them
in the statement that shows those posts. Keyset positions, never OFFSET: a page costs the
same at any depth, and posts published meanwhile never shift what comes next.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from service.cursor import Position

# Later than any real post: "after the start" for the first page. Keeps one statement
# shape (and one prepared plan) for first and later pages.
START = Position(datetime.fromisoformat("9999-01-01T00:00:00+00:00"), 0)

# How many of the newest posts overall the home timeline looks through before asking each
# followed author instead. Big enough that a typical reader's page is found in it: a reader
# whose followed accounts write a share s of all posts fills a page of 51 rows from about
# 51 / s of them, so 4,000 serves everyone above s ~ 1.3 % (the median reader here is far
# above). Small enough that a whole walk costs 1.5-2 ms. It is a number of rows, not a span
# of time: scale it with the number of active authors a typical reader does not follow
# (the share s shrinks as they grow), not with the rate of posting.
HOME_WINDOW_POSTS = 4000
# Readers who follow fewer than this many accounts skip that walk: asking each of them
# directly costs at most this many short index descents (~0.3 ms), less than a walk that
# would likely come up short anyway. It also spares new accounts, which follow nobody.
HOME_WINDOW_MIN_FOLLOWS = 20
# Readers who follow at least this many accounts (by users.following_count) check each
# window row against follows' primary key instead of hashing everyone they follow first.
# The hash costs ~0.25 us per account followed before the first row passes (0.5 ms at
# 2,000, 1.2 ms at 4,900, four to eight times a median reader's whole page); a probe costs
# ~1 us per window row, and these readers fill a page within ~30 rows because they follow
# so much of what is posted. Below this, the hash is cheaper: a median reader (100
# followed) walks ~100 rows, and a reader of quiet accounts all 4,000 (1.8 ms hashed, 7 ms
# probed). A stale counter can only pick the slower of two right answers.
HOME_PROBE_MIN_FOLLOWS = 1000

# One statement, two ways to the same rows (the viewer's own posts UNION ALL the posts of
# everyone they follow), of which exactly one runs:
# - "newest": walk the newest HOME_WINDOW_POSTS rows of ix_posts_published after the cursor,
#   keeping the viewer's and followed authors' posts, tested as the walk streams so that it
#   stops as soon as the page is full: against a hash of the accounts followed, or, for
#   readers following HOME_PROBE_MIN_FOLLOWS or more, one primary-key probe of follows per
#   row (OFFSET 0 keeps PostgreSQL from turning that EXISTS into a hash as well). The CASE
#   picks one; the other subplan never runs. Its cost does not grow with the posts table,
#   nor with the number of accounts followed.
# - otherwise (few accounts followed, a sparse timeline, or its last page), for each
#   followed author that author's newest posts before the cursor (a LATERAL top-N, each one
#   short descent of ix_posts_author_published), merged. Its cost follows the number of
#   authors followed, never the size of the posts table.
# A full page from the window is the right answer: the window is a prefix of all posts in
# timeline order, so no qualifying post outside it can come before its rows. Both branches
# are gated on one count of the window's rows (one-time filters), so only one executes.
HOME_TIMELINE = f"""
    WITH newest AS (
        SELECT w.id, w.published_at
          FROM (SELECT p.id, p.published_at, p.author_id
                  FROM posts p
                 WHERE p.published_at IS NOT NULL
                   AND (p.published_at, p.id) < (:at, :id)
                 ORDER BY p.published_at DESC, p.id DESC
                 LIMIT {HOME_WINDOW_POSTS}) AS w
         WHERE (w.author_id = :viewer
                OR CASE WHEN (SELECT u.following_count FROM users u WHERE u.id = :viewer)
                             >= {HOME_PROBE_MIN_FOLLOWS}
                        THEN EXISTS (SELECT FROM follows f
                                      WHERE f.follower_id = :viewer
                                        AND f.followed_id = w.author_id
                                     OFFSET 0)
                        ELSE w.author_id IN (SELECT f.followed_id FROM follows f
                                              WHERE f.follower_id = :viewer)
                   END)
           AND EXISTS (SELECT FROM follows f WHERE f.follower_id = :viewer
                        OFFSET {HOME_WINDOW_MIN_FOLLOWS - 1})
         ORDER BY w.published_at DESC, w.id DESC
         LIMIT :n
    )
    SELECT id, published_at FROM newest
     WHERE (SELECT count(*) FROM newest) >= :n
    UNION ALL
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
        ORDER BY published_at DESC, id DESC
        LIMIT :n
    ) AS followed
     WHERE (SELECT count(*) FROM newest) < :n
    ORDER BY published_at DESC, id DESC
    LIMIT :n
    """

EXPLORE = """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.published_at, p.id) < (:at, :id)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT :n
    """

AUTHOR = """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.author_id = :author
       AND p.published_at IS NOT NULL
       AND (p.published_at, p.id) < (:at, :id)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT :n
    """


# The statements' named parameters, in the order asyncpg takes them as $1, $2, ...
PARAMETERS = ("viewer", "at", "id", "n", "author")


def positional(statement: str, names: Sequence[str] = PARAMETERS, **literals: int) -> str:
    """``statement`` with asyncpg's $1, $2, ... for the named parameters, numbered in the
    order of ``names``, and the integer ``literals`` written into the text."""

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in literals:
            return str(int(literals[name]))
        return f"${names.index(name) + 1}"

    return re.sub(r"(?<!:):([a-z]+)\b", placeholder, statement)


def position_after(after: Position | None) -> tuple[datetime, int]:
    """The values of :at and :id: the first page starts after START."""
    start = after or START
    return start.at, start.id
