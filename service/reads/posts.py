"""Posts: the lists (home, explore, one author's), one post, posts by id, and the cards
they are shown as. Every statement here is built with visibility.post_visible_to.

A list statement picks the (id, published_at) of up to a page of published posts after a
keyset position ($2 time, $3 id) in (published_at DESC, id DESC) order, and the card
statement around it shows them: one statement and one round trip per page. Viewer $1 is
NULL for someone not logged in. docs/timeline.md has the measurements behind the shapes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import orjson

from service.cursor import Position
from service.reads.notifications import UNREAD_COUNT, unread_count
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.people import avatar_key
from service.reads.reports import UNACKNOWLEDGED_COUNT
from service.reads.statements import Reader, register, register_paged
from service.reads.views import Page, PhotoView, PostView, RenditionView, UserSummary
from service.reads.visibility import author_visible_to, listed_publicly, post_visible_to
from service.storage.urls import CONTENT_TYPES, MediaUrls, rendition_key

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

VISIBLE = post_visible_to("p", "$1")
# The same rule, on a row of post_tags (``pt``), which carries its post's published_at,
# author_id and audience.
TAG_VISIBLE = post_visible_to("pt", "$1")


@dataclasses.dataclass(frozen=True)
class Ordering:
    """How a list of posts is ordered, and which of them a page may hold: ``bounds`` is
    the condition on ``p`` (at least "published", and the page's position), ``order`` the
    order on ``p``'s columns, and ``merged`` the same order on the ``names`` that
    ``columns`` give the rows.

    Followed tags' posts are found through ``post_tags`` (``pt``), in status-id order:
    ``tag_columns`` and ``tag_bounds`` are ``columns`` and ``bounds`` on its copies of the
    post's columns, ``tag_walk`` bounds that walk by the position (a superset of
    ``bounds``, in terms of ix_post_tags_tag_status), ``tag_order`` orders it, and
    ``tag_edge`` (given the page size) stops it at the last row of a full page of followed
    authors' posts (the CTE ``home``), past which no tagged post can make the page."""

    columns: str
    names: str
    bounds: str
    order: str
    merged: str
    tag_columns: str
    tag_bounds: str
    tag_walk: str
    tag_order: str
    tag_edge: str


# A status id's upper 47 bits are its publication time in milliseconds since 1970
# (migration 0009), so every post published at or before an instant has a status id below
# that millisecond's next one: a bound on ix_post_tags_tag_status from a time. Capped at
# 2**47 - 2 ms so that the far-future first position (year 9999) cannot overflow the shift.
STATUS_TIME_SHIFT = 16
MAX_STATUS_MILLIS = 2**47 - 2


def _status_floor(at: str) -> str:
    """The least status id of any post published in the same millisecond as ``at``."""
    return (
        f"(least(floor(extract(epoch FROM {at}) * 1000)::bigint, {MAX_STATUS_MILLIS})"
        f" << {STATUS_TIME_SHIFT})"
    )


# The timeline's own order: by publication, after the position ($2, $3). Status ids follow
# publication to the millisecond: the tag walk reads from the position's millisecond down
# and keeps what lies after the position exactly (``bounds``).
BY_PUBLICATION = Ordering(
    columns="p.id, p.published_at",
    names="id, published_at",
    bounds="p.published_at IS NOT NULL AND (p.published_at, p.id) < ($2, $3)",
    order="p.published_at DESC, p.id DESC",
    merged="published_at DESC, id DESC",
    tag_columns="pt.post_id AS id, pt.published_at",
    tag_bounds="pt.published_at IS NOT NULL AND (pt.published_at, pt.post_id) < ($2, $3)",
    tag_walk=(
        f"pt.status_id < {_status_floor('$2::timestamptz')} + (1::bigint << {STATUS_TIME_SHIFT})"
    ),
    tag_order="pt.status_id DESC",
    tag_edge=(
        f"pt.status_id >= coalesce((SELECT {_status_floor('min(h.published_at)')}"
        " FROM home h HAVING count(*) >= {rows}), 0)"
    ),
)


def home_rows(rows: int, window: int = HOME_WINDOW_POSTS, by: Ordering = BY_PUBLICATION) -> str:
    """The posts of the home timeline of viewer $1: their own, everyone's they follow, and
    the public posts with a tag they follow.

    ``home`` is the first two (authors_rows): one page of them, by whichever of its two
    ways runs. The tagged posts are found per followed tag (tagged_rows), each walk of
    the tag's index stopped where a full ``home`` page ends: a tagged post older than
    that page's last row cannot make the page. DISTINCT over the merged rows keeps a post
    that comes both ways (by a followed author, or with two followed tags) once: sorted
    for the page anyway, so duplicates are neighbours (UNION's hash cost every reader
    ~25 us more, measured). A reader who follows no tag reads one empty range of
    tag_follows' primary key."""
    return f"""
    WITH home AS ({authors_rows(rows, window, by)})
    SELECT DISTINCT {by.names}
      FROM (SELECT {by.names} FROM home
            UNION ALL
            SELECT {by.names} FROM ({tagged_rows(rows, by)}) AS tagged) AS mixed
     ORDER BY {by.merged}
     LIMIT {rows}
    """


def tagged_rows(rows: int, by: Ordering = BY_PUBLICATION) -> str:
    """The home timeline's followed tags: for each tag viewer $1 follows, its first posts
    after the position, public (as on the tag's page, visibility.listed_publicly) and
    visible to the viewer, each one short walk of ix_post_tags_tag_status bounded by the
    position and by the end of a full page of followed authors' posts (``home``). The
    index carries each post's publication time, author and audience (kept by triggers,
    migration 0027), so the rule is applied to its entries, as they are the posts' own,
    and no post is visited to be left out; the page's cards apply it to the posts again."""
    return f"""
        SELECT recent.*
          FROM tag_follows tf
         CROSS JOIN LATERAL (
               SELECT {by.tag_columns}
                 FROM post_tags pt
                WHERE pt.tag_id = tf.tag_id AND pt.status_id IS NOT NULL
                  AND {by.tag_walk} AND {by.tag_edge.format(rows=rows)}
                  AND {by.tag_bounds} AND {listed_publicly("pt")} AND {TAG_VISIBLE}
                ORDER BY {by.tag_order}
                LIMIT {rows}) AS recent
         WHERE tf.user_id = $1
    """


def authors_rows(rows: int, window: int = HOME_WINDOW_POSTS, by: Ordering = BY_PUBLICATION) -> str:
    """The posts of viewer $1 and of everyone they follow.

    One statement, two ways to the same rows, of which exactly one runs:
    - "newest": walk the first ``window`` (HOME_WINDOW_POSTS) rows of all posts in the
      list's order (ix_posts_published, or the status ids' index) after the position,
      keeping the viewer's and followed authors' posts, tested as the walk
      streams so that it stops as soon as the page is full: against a hash of the accounts
      followed, or, for readers following HOME_PROBE_MIN_FOLLOWS or more, one primary-key
      probe of follows per row (OFFSET 0 keeps PostgreSQL from turning that EXISTS into a
      hash as well). The CASE picks one; the other subplan never runs. Its cost does not
      grow with the posts table, nor with the number of accounts followed.
    - otherwise (few accounts followed, a sparse timeline, or its last page), for each
      followed author that author's first posts after the position (a LATERAL top-N,
      each one short descent of the author's index), merged. Its cost follows the
      number of authors followed, never the size of the posts table.
    A full page from the window is the right answer: the window is a prefix of all posts in
    the list's order, so no qualifying post outside it can come before its rows. Both
    branches are gated on one count of the window's rows (one-time filters), so only one
    executes."""
    return f"""
    WITH newest AS (
        SELECT {by.names}
          FROM (SELECT {by.columns}, p.author_id AS window_author
                  FROM posts p
                 WHERE {by.bounds} AND {VISIBLE}
                 ORDER BY {by.order}
                 LIMIT {window}) AS w
         WHERE (w.window_author = $1
                OR CASE WHEN (SELECT u.following_count FROM users u WHERE u.id = $1)
                             >= {HOME_PROBE_MIN_FOLLOWS}
                        THEN EXISTS (SELECT FROM follows f
                                      WHERE f.follower_id = $1
                                        AND f.followed_id = w.window_author
                                     OFFSET 0)
                        ELSE w.window_author IN (SELECT f.followed_id FROM follows f
                                                  WHERE f.follower_id = $1)
                   END)
           AND EXISTS (SELECT FROM follows f WHERE f.follower_id = $1
                        OFFSET {HOME_WINDOW_MIN_FOLLOWS - 1})
         ORDER BY {by.merged}
         LIMIT {rows}
    )
    SELECT {by.names} FROM newest
     WHERE (SELECT count(*) FROM newest) >= {rows}
    UNION ALL
    SELECT {by.names} FROM ({followed_rows(rows, by)}) AS followed
     WHERE (SELECT count(*) FROM newest) < {rows}
    ORDER BY {by.merged}
    LIMIT {rows}
    """


def followed_rows(rows: int, by: Ordering = BY_PUBLICATION) -> str:
    """The home timeline's second way: for the viewer and each author they follow, that
    author's first posts after the position, merged."""
    return f"""
        (SELECT {by.columns}
           FROM posts p
          WHERE p.author_id = $1 AND {by.bounds} AND {VISIBLE}
          ORDER BY {by.order}
          LIMIT {rows})
        UNION ALL
        (SELECT recent.*
           FROM follows f
          CROSS JOIN LATERAL (
                SELECT {by.columns}
                  FROM posts p
                 WHERE p.author_id = f.followed_id AND {by.bounds} AND {VISIBLE}
                 ORDER BY {by.order}
                 LIMIT {rows}) AS recent
          WHERE f.follower_id = $1)
        ORDER BY {by.merged}
        LIMIT {rows}
    """


def explore_rows(rows: int) -> str:
    """Everyone's public posts (unlisted and followers-only posts are not listed here)."""
    return f"""
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.published_at IS NOT NULL AND {listed_publicly("p")} AND {VISIBLE}
       AND (p.published_at, p.id) < ($2, $3)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT {rows}
    """


def author_rows(rows: int) -> str:
    """The posts of author $4."""
    return f"""
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.author_id = $4
       AND p.published_at IS NOT NULL AND {VISIBLE}
       AND (p.published_at, p.id) < ($2, $3)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT {rows}
    """


def cards(source: str, order: str, more_columns: str = "") -> str:
    """Everything a post card shows, for the posts (``id`` column) of the rows ``source``
    names ``page``, in ``order``: the post, its author and their small avatar, whether
    viewer $1 liked it, how many views it had if $1 is its author (no one else is told), and
    its processed photos as parallel arrays (its widths for srcset
    are a JSON array each, read with the photo's row; an aggregate always
    gives one row, NULLs when there are none). Each part is a primary-key or index lookup
    per post, so the cost follows the page size, never the tables'. (OFFSET 0 keeps
    PostgreSQL from reading all of the viewer's likes into a hash instead, which a generic
    plan would choose for everyone, however many posts they have liked.) The rule is
    applied here too, so no way of picking posts can show one the viewer may not see.
    ``more_columns`` follow the card's own (CARD_COLUMNS of them)."""
    return f"""
    SELECT p.id, p.author_id, u.username, u.display_name,
           {avatar_key("p.author_id")} AS avatar_key,
           p.body, p.status, p.created_at, p.published_at, p.like_count, p.comment_count,
           EXISTS (SELECT FROM likes l WHERE l.post_id = p.id AND l.user_id = $1
                    OFFSET 0) AS liked,
           ph.prefixes, ph.extensions, ph.widths, ph.heights, ph.alts, ph.ids, p.status_id,
           ph.renditions, ph.blurhashes, p.sensitive, p.audience, ph.restricted,
           p.mention_names, p.mention_ids,
           CASE WHEN p.author_id = $1 THEN p.view_count END AS views
           {more_columns and f", {more_columns}"}
      FROM {source}
      JOIN posts p ON p.id = page.id
      JOIN users u ON u.id = p.author_id
     CROSS JOIN LATERAL (
           SELECT array_agg(f.key_prefix ORDER BY f.position) AS prefixes,
                  array_agg(f.extension ORDER BY f.position) AS extensions,
                  array_agg(f.width ORDER BY f.position) AS widths,
                  array_agg(f.height ORDER BY f.position) AS heights,
                  array_agg(f.alt ORDER BY f.position) AS alts,
                  array_agg(f.id ORDER BY f.position) AS ids,
                  array_agg(f.renditions ORDER BY f.position) AS renditions,
                  array_agg(f.blurhash ORDER BY f.position) AS blurhashes,
                  array_agg(f.restricted ORDER BY f.position) AS restricted
             FROM photos f
            WHERE f.post_id = p.id AND f.ready_at IS NOT NULL) AS ph
     WHERE {VISIBLE}
     ORDER BY {order}
    """


CARD_COLUMNS = 27


def _list_page(rows_of: str) -> str:
    return cards(f"({rows_of}) AS page", "page.published_at DESC, page.id DESC")


HOME = register_paged("home", lambda rows: _list_page(home_rows(rows)), shows_posts=True)
EXPLORE = register_paged("explore", lambda rows: _list_page(explore_rows(rows)), shows_posts=True)
AUTHOR = register_paged("author", lambda rows: _list_page(author_rows(rows)), shows_posts=True)

# The posts with ids $2 that viewer $1 may see, in that order.
BY_ID = register(
    "posts_by_id",
    cards("unnest($2::bigint[]) WITH ORDINALITY AS page(id, position)", "page.position"),
    shows_posts=True,
)
# Of the posts $2, the published ones viewer $1 may see, with their authors (and the
# author's name, which the leak tables look for): the views a
# page reports are counted for these alone (docs/trending.md).
VIEWABLE = register(
    "viewable_posts",
    f"""
    SELECT p.id, p.author_id, u.username FROM posts p JOIN users u ON u.id = p.author_id
     WHERE p.id = ANY($2::bigint[]) AND p.published_at IS NOT NULL AND {VISIBLE}
    """,
    shows_posts=True,
)


async def viewable(
    reader: Reader, ids: Sequence[int], viewer_id: int | None
) -> list[tuple[int, int]]:
    """(post id, author id) of the ``ids`` that are published and the viewer may see."""
    if not ids:
        return []
    return [(row[0], row[1]) for row in await reader.rows(VIEWABLE, viewer_id, list(ids))]


# The unpublished posts (processing, or failed) of author $1, who is also the viewer.
PENDING_ROWS = f"""
    SELECT p.id, p.created_at FROM posts p
     WHERE p.author_id = $1 AND p.published_at IS NULL AND {VISIBLE}"""
PENDING = register(
    "pending_posts",
    cards(f"({PENDING_ROWS}) AS page", "page.created_at DESC, page.id DESC"),
    shows_posts=True,
)


# Of the readers $1 (those with a live stream open), those whose home timeline post $2
# comes into and who may see it: the author's followers, and, for a public post, the
# followers of one of its tags (named f.follower_id too, so that the rule reads alike).
# Whom the live hub tells of the post. The rule is asked for each reader.
POST_READERS = register(
    "post_readers",
    f"""
    SELECT f.follower_id
      FROM posts p
      JOIN follows f ON f.followed_id = p.author_id
     WHERE p.id = $2 AND f.follower_id = ANY($1::bigint[])
       AND {post_visible_to("p", "f.follower_id")}
    UNION
    SELECT f.follower_id
      FROM posts p
      JOIN post_tags pt ON pt.post_id = p.id
      JOIN (SELECT tf.user_id AS follower_id, tf.tag_id FROM tag_follows tf
             WHERE tf.user_id = ANY($1::bigint[])) AS f ON f.tag_id = pt.tag_id
     WHERE p.id = $2 AND {listed_publicly("p")}
       AND {post_visible_to("p", "f.follower_id")}
    """,
    shows_posts=True,
    viewer="f.follower_id",
)


async def readers(reader: Reader, post_id: int, connected: Sequence[int]) -> set[int]:
    """Which of the ``connected`` get the post in their home timeline (they follow its
    author, or one of its tags if it is public) and may see it."""
    return {row[0] for row in await reader.rows(POST_READERS, list(connected), post_id)}


# Of the readers $1 (those with a live stream open), the followers of user $2 who may see
# what $2 writes: whom the live hub tells that a post of theirs was deleted (the post is
# gone by then, so the rule is asked of its author).
AUTHOR_READERS = register(
    "author_readers",
    f"""
    SELECT f.follower_id
      FROM follows f
      JOIN users a ON a.id = f.followed_id
     WHERE f.followed_id = $2 AND f.follower_id = ANY($1::bigint[])
       AND {author_visible_to("a", "f.follower_id")}
    """,
)


async def author_readers(reader: Reader, author_id: int, connected: Sequence[int]) -> set[int]:
    """Which of the ``connected`` follow the author and may see what they write."""
    return {row[0] for row in await reader.rows(AUTHOR_READERS, list(connected), author_id)}


def _home_first_page(rows: int) -> str:
    """Everything the home page shows from the database in one round trip: the first page
    of the timeline, the viewer's own unpublished posts before it (flagged ``pending``),
    the unread count of the badge, and how many moderators' warnings wait to be read (an
    InitPlan each, repeated on every row)."""
    source = f"""(SELECT id, published_at AS at, false AS pending FROM ({home_rows(rows)}) AS h
                  UNION ALL
                  SELECT id, created_at, true FROM ({PENDING_ROWS}) AS mine) AS page"""
    return cards(
        source,
        "page.pending DESC, page.at DESC, page.id DESC",
        f"page.pending, ({UNREAD_COUNT}) AS unread, ({UNACKNOWLEDGED_COUNT}) AS warnings",
    )


HOME_FIRST_PAGE = register_paged("home_first_page", _home_first_page, shows_posts=True)


def _renditions(
    urls: MediaUrls, prefix: str, stored: str | None, restricted: bool
) -> tuple[RenditionView, ...]:
    """A photo's widths for srcset from ``photos.renditions`` (JSON, as asyncpg hands it
    over); none for a photo processed before there were any."""
    if not stored:
        return ()
    return tuple(
        RenditionView(
            urls(rendition_key(prefix, f"w{item['width']}", item["format"]), restricted),
            item["width"],
            item["height"],
            CONTENT_TYPES[item["format"]],
        )
        for item in orjson.loads(stored)
    )


def post_view(row: Sequence, urls: MediaUrls) -> PostView:
    """A row of a card statement as what pages and the API show."""
    (
        post_id, author_id, username, display_name, key,
        body, status, created_at, published_at, like_count, comment_count, liked,
        prefixes, extensions, widths, heights, alts, photo_ids, status_id, renditions, blurhashes,
        sensitive, audience, restricteds, mention_names, mention_ids, views,
    ) = row[:CARD_COLUMNS]  # fmt: skip
    photos = ()
    if prefixes:
        columns = zip(
            prefixes,
            extensions,
            widths,
            heights,
            alts,
            photo_ids,
            renditions,
            blurhashes,
            restricteds,
            strict=True,
        )
        # Every URL of a restricted photo is signed (storage.urls.MediaLinks).
        photos = tuple(
            PhotoView(
                urls(rendition_key(prefix, "display", extension), restricted),
                urls(rendition_key(prefix, "thumb", extension), restricted),
                width,
                height,
                alt,
                _renditions(urls, prefix, stored, restricted),
                blurhash,
                photo_id,
            )
            for prefix, extension, width, height, alt, photo_id, stored, blurhash, restricted in (
                columns
            )
        )
    return PostView(
        post_id,
        UserSummary.of(author_id, username, display_name, key),
        body,
        status,
        created_at,
        published_at,
        like_count,
        comment_count,
        liked,
        photos,
        status_id,
        sensitive,
        audience,
        tuple(mention_names),
        tuple(mention_ids),
        views,
    )


async def _page(
    reader: Reader,
    urls: MediaUrls,
    statement,
    limit: int,
    viewer_id: int | None,
    after: Position | None,
    *more: object,
) -> Page[PostView]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(statement.rows(limit + 1), viewer_id, start.at, start.id, *more)
    return page_of([post_view(row, urls) for row in rows], limit)


async def home(
    reader: Reader, urls: MediaUrls, viewer_id: int, after: Position | None, limit: int
) -> Page[PostView]:
    return await _page(reader, urls, HOME, limit, viewer_id, after)


@dataclasses.dataclass(frozen=True)
class HomePage:
    """What the first page of the home timeline shows."""

    page: Page[PostView]
    pending: list[PostView]  # the viewer's own posts not published yet, newest first
    unread_notifications: int
    # Warnings from the moderators not acknowledged yet; None when not read with the page.
    warnings: int | None = None


async def home_first_page(reader: Reader, urls: MediaUrls, viewer_id: int, limit: int) -> HomePage:
    start = NEWEST_FIRST
    rows = await reader.rows(HOME_FIRST_PAGE.rows(limit + 1), viewer_id, start.at, start.id)
    if not rows:  # no row to carry the count
        return HomePage(page_of([], limit), [], await unread_count(reader, viewer_id))
    pending, published = [], []
    for row in rows:
        (pending if row[CARD_COLUMNS] else published).append(post_view(row, urls))
    first = rows[0]
    return HomePage(
        page_of(published, limit), pending, first[CARD_COLUMNS + 1], first[CARD_COLUMNS + 2]
    )


async def explore(
    reader: Reader, urls: MediaUrls, viewer_id: int | None, after: Position | None, limit: int
) -> Page[PostView]:
    return await _page(reader, urls, EXPLORE, limit, viewer_id, after)


async def by_author(
    reader: Reader,
    urls: MediaUrls,
    author_id: int,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    return await _page(reader, urls, AUTHOR, limit, viewer_id, after, author_id)


async def by_ids(
    reader: Reader, urls: MediaUrls, ids: Sequence[int], viewer_id: int | None
) -> list[PostView]:
    """The posts with ``ids`` that exist and the viewer may see, in that order."""
    if not ids:
        return []
    rows = await reader.rows(BY_ID, viewer_id, list(ids))
    return [post_view(row, urls) for row in rows]


async def post(
    reader: Reader, urls: MediaUrls, post_id: int, viewer_id: int | None
) -> PostView | None:
    """The post, or None when there is none the viewer may see."""
    [view] = await by_ids(reader, urls, [post_id], viewer_id) or [None]
    return view


async def pending(reader: Reader, urls: MediaUrls, author_id: int) -> list[PostView]:
    """The author's posts that are not published yet (processing or failed), newest first."""
    return [post_view(row, urls) for row in await reader.rows(PENDING, author_id)]
