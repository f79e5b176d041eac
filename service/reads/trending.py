"""Trending: everyone's public posts by their stored rank (``post_trends.rank_at``,
docs/trending.md), everyone's or one tag's, and the tags of what trends.

A post trends once its likes, comments or views give it engagement; its rank is a time, so
a page is a keyset position ($2 rank, $3 post id) in (rank_at DESC, post_id DESC) order, as
the timelines page by publication. Each list is built with visibility.listed_publicly and
post_visible_to (viewer $1, NULL for someone not logged in), and leaves out posts a
moderator removed from trends and those of accounts younger than NEW_ACCOUNT_AGE, whose
engagement is the easiest to fake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from service import cursor
from service.cursor import Position
from service.reads.paging import NEWEST_FIRST
from service.reads.posts import CARD_COLUMNS, cards, post_view
from service.reads.statements import (
    MAX_PAGE_ROWS,
    PagedStatement,
    Reader,
    register,
    register_paged,
)
from service.reads.statuses import AUTHOR_COLUMNS, author_of
from service.reads.views import Page, PostView, StatusView, TrendingTagView
from service.reads.visibility import listed_publicly, post_visible_to
from service.storage.urls import MediaUrls

# Accounts younger than this do not trend: a day, so that a burst of new accounts cannot
# push each other's posts up before anyone has looked at them.
NEW_ACCOUNT_AGE = "1 day"
# The trending tags are those of this many of the top trending posts the viewer may see.
TAGS_FROM_TOP_POSTS = 200

# On a row of post_trends (``t``), which carries its post's published_at, audience and
# author_id and its author's creation time in the index it is walked by: the rule and the
# new-account rule are applied to index entries, before any post is read.
_TRENDING = f"""
    t.removed_at IS NULL AND (t.rank_at, t.post_id) < ($2, $3)
    AND t.published_at IS NOT NULL AND {listed_publicly("t")} AND {post_visible_to("t", "$1")}
    AND t.author_since <= now() - interval '{NEW_ACCOUNT_AGE}'
"""


def trending_rows(photos: bool) -> Callable[[int], str]:
    """Everyone's trending public posts, or with ``photos`` those with photos. Walks
    ix_post_trends_rank (or ix_post_trends_photos, which holds only posts with photos, so
    that a grid never walks past the many without) from the position; the cards read the
    posts of the page alone, and apply the rule again on them."""
    only = " AND t.has_photos" if photos else ""

    def build(rows: int) -> str:
        return f"""
    SELECT t.post_id AS id, t.rank_at
      FROM post_trends t
     WHERE {_TRENDING}{only}
     ORDER BY t.rank_at DESC, t.post_id DESC
     LIMIT {rows}
    """

    return build


def tag_rows(rows: int) -> str:
    """The trending posts of the tag named $4 (normalised): its published posts
    (ix_post_tags_tag_status, whose entries carry the rule's facts) that have a rank,
    sorted by it. Its cost follows the number of the tag's posts with any engagement, not
    the size of the tables."""
    return f"""
    SELECT t.post_id AS id, t.rank_at
      FROM tags g
      JOIN post_tags pt ON pt.tag_id = g.id
      JOIN post_trends t ON t.post_id = pt.post_id
     WHERE g.name = $4 AND pt.status_id IS NOT NULL AND {_TRENDING}
     ORDER BY t.rank_at DESC, t.post_id DESC
     LIMIT {rows}
    """


def tags_rows(rows: int) -> str:
    """The tags of the TAGS_FROM_TOP_POSTS top trending posts viewer $1 may see, by how
    many accounts used them there, then how many posts."""
    return f"""
    SELECT g.name, g.display, g.post_count,
           count(*) AS uses, count(DISTINCT top.author_id) AS accounts
      FROM (SELECT t.post_id AS id, t.author_id
              FROM post_trends t
             WHERE {_TRENDING}
             ORDER BY t.rank_at DESC, t.post_id DESC
             LIMIT {TAGS_FROM_TOP_POSTS}) AS top
      JOIN post_tags pt ON pt.post_id = top.id
      JOIN tags g ON g.id = pt.tag_id
     GROUP BY g.id
     ORDER BY count(DISTINCT top.author_id) DESC, count(*) DESC, g.name
     LIMIT {rows}
    """


def _listed(rows_of: Callable[[int], str], authors: bool = False) -> Callable[[int], str]:
    """The cards of the rows, with each one's rank after the card's columns; with
    ``authors``, the author's account before it, as Mastodon's Status shows it."""
    more = f"{AUTHOR_COLUMNS}, page.rank_at" if authors else "page.rank_at"
    return lambda rows: cards(f"({rows_of(rows)}) AS page", "page.rank_at DESC, page.id DESC", more)


TRENDING = register_paged("trending", _listed(trending_rows(False)), shows_posts=True)
PHOTOS = register_paged("trending_photos", _listed(trending_rows(True)), shows_posts=True)
TAG_TOP = register_paged("tag_trending", _listed(tag_rows), shows_posts=True)
STATUSES = register_paged(
    "trending_statuses", _listed(trending_rows(False), authors=True), shows_posts=True
)
TAGS = register_paged("trending_tags", tags_rows, shows_posts=True)


def _statuses(rows: Sequence, urls: MediaUrls) -> list[tuple[StatusView, datetime]]:
    return [
        (StatusView(post_view(row, urls), author_of(row[:-1])), row[CARD_COLUMNS + 7])
        for row in rows
    ]


def _cards(rows: Sequence, urls: MediaUrls) -> list[tuple[PostView, datetime]]:
    return [(post_view(row, urls), row[CARD_COLUMNS]) for row in rows]


async def _rows(
    reader: Reader,
    statement: PagedStatement,
    viewer_id: int | None,
    after: Position | None,
    rows: int,
    *extra: object,
) -> list:
    start = after or NEWEST_FIRST
    return await reader.rows(statement.rows(rows), viewer_id, start.at, start.id, *extra)


def _page(ranked: list[tuple[PostView, datetime]], limit: int) -> Page[PostView]:
    kept = ranked[:limit]
    items = [post for post, _ in kept]
    if len(ranked) <= limit or not kept:
        return Page(items, None)
    last, rank_at = kept[-1]
    return Page(items, cursor.encode(Position(rank_at, last.id)))


async def posts(
    reader: Reader,
    urls: MediaUrls,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
    photos_only: bool = False,
) -> Page[PostView]:
    """A page of trending posts, highest first; its cursor holds the last one's rank."""
    statement = PHOTOS if photos_only else TRENDING
    found = await _rows(reader, statement, viewer_id, after, limit + 1)
    return _page(_cards(found, urls), limit)


async def tag_posts(
    reader: Reader,
    urls: MediaUrls,
    tag_name: str,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    """A page of the tag's trending posts ("Top"), highest first."""
    found = await _rows(reader, TAG_TOP, viewer_id, after, limit + 1, tag_name)
    return _page(_cards(found, urls), limit)


async def statuses(
    reader: Reader, urls: MediaUrls, viewer_id: int | None, offset: int, limit: int
) -> list[StatusView]:
    """Mastodon's trending statuses: ``limit`` of them after the first ``offset``, found by
    walking the keyset pages (the caller bounds ``offset``, and so the statements run)."""
    collected: list[tuple[StatusView, datetime]] = []
    after: Position | None = None
    while len(collected) < offset + limit:
        wanted = min(offset + limit - len(collected), MAX_PAGE_ROWS)
        ranked = _statuses(await _rows(reader, STATUSES, viewer_id, after, wanted), urls)
        collected.extend(ranked)
        if len(ranked) < wanted:
            break
        last, rank_at = ranked[-1]
        after = Position(rank_at, last.post.id)
    return [status for status, _ in collected[offset : offset + limit]]


async def tags(reader: Reader, viewer_id: int | None, limit: int) -> list[TrendingTagView]:
    """The tags of what trends for the viewer, most used first."""
    rows = await reader.rows(TAGS.rows(limit), viewer_id, NEWEST_FIRST.at, NEWEST_FIRST.id)
    return [TrendingTagView(*row) for row in rows]


# When post $1 was removed from trends, if it was: for the moderators' button on its page.
REMOVAL = register("trend_removal", "SELECT t.removed_at FROM post_trends t WHERE t.post_id = $1")


async def removed(reader: Reader, post_id: int) -> bool:
    """Whether a moderator removed the post from trends."""
    return await reader.value(REMOVAL, post_id) is not None
