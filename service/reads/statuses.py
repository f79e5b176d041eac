"""Posts in status-id order: the lists of the Mastodon client API, and a post by its status id.

A post's status id is set when it is published and grows with publication time (migration
0009, docs/api.md), so ordering by it is the timeline's order and an app's ``max_id`` (the
last id it holds) is a keyset position by itself. Each list reads the statuses strictly
between two ids ($2 below, $3 above), newest first or, for ``min_id``, oldest first; the
card statement of service.reads.posts shows them, in one statement per page. Viewer $1 is
NULL for someone not logged in; every read of posts is built with visibility.post_visible_to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from service import cursor
from service.cursor import MAX_ID, Position
from service.reads.people import avatar_key
from service.reads.posts import CARD_COLUMNS, TAG_VISIBLE, VISIBLE, Ordering, cards, post_view
from service.reads.posts import home_rows as posts_home_rows
from service.reads.statements import PagedStatement, Reader, register, register_paged
from service.reads.views import (
    AVATAR_LARGE,
    AuthorFacts,
    Page,
    PostView,
    StatusView,
    UserSummary,
)
from service.reads.visibility import listed_publicly, post_visible_to
from service.storage.urls import MediaUrls

NEWEST, OLDEST = "DESC", "ASC"

_BETWEEN = "p.status_id > $2 AND p.status_id < $3"


def public_rows(order: str) -> Callable[[int], str]:
    """Everyone's public posts (unlisted and followers-only posts are not listed here)."""

    def build(rows: int) -> str:
        return f"""
    SELECT p.id, p.status_id
      FROM posts p
     WHERE p.status_id IS NOT NULL AND {_BETWEEN} AND {listed_publicly("p")} AND {VISIBLE}
     ORDER BY p.status_id {order}
     LIMIT {rows}
    """

    return build


def account_rows(only_media: bool) -> Callable[[str], Callable[[int], str]]:
    """The posts of author $4; with ``only_media``, only those with photos (through
    ix_posts_author_photos, which holds nothing else)."""
    photos = " AND p.has_photos" if only_media else ""

    def in_order(order: str) -> Callable[[int], str]:
        def build(rows: int) -> str:
            return f"""
    SELECT p.id, p.status_id
      FROM posts p
     WHERE p.author_id = $4 AND p.status_id IS NOT NULL{photos} AND {_BETWEEN}
       AND {VISIBLE}
     ORDER BY p.status_id {order}
     LIMIT {rows}
    """

        return build

    return in_order


def tag_rows(order: str) -> Callable[[int], str]:
    """The posts tagged with the tag named $4 (normalised), with photos only when $5; found
    by walking the tag's ix_post_tags_tag_status in status-id order. A tag page lists
    everyone's posts: public ones only (an unlisted or followers-only post is on no tag
    page, even for its followers).

    The walk applies the rule to the index entries, which carry their post's publication,
    author and audience (migration 0027), so it reads the index alone and stops at a full
    page; the page's posts are then checked again. Joined to posts before the limit, the
    generic plan (which takes every tag for an average one, a few dozen posts) read all of a
    popular tag's posts and sorted them: 0.1 to 1 s for a tag of 90,000 posts."""

    def build(rows: int) -> str:
        return f"""
    SELECT p.id, walk.status_id
      FROM (SELECT pt.post_id, pt.status_id
              FROM post_tags pt
             WHERE pt.tag_id = (SELECT t.id FROM tags t WHERE t.name = $4)
               AND pt.status_id IS NOT NULL AND pt.status_id > $2 AND pt.status_id < $3
               AND {listed_publicly("pt")} AND {TAG_VISIBLE}
               AND (NOT $5::boolean
                    OR EXISTS (SELECT FROM posts photos
                                WHERE photos.id = pt.post_id AND photos.has_photos
                                  AND {post_visible_to("photos", "$1")}))
             ORDER BY pt.status_id {order}
             LIMIT {rows}) AS walk
      JOIN posts p ON p.id = walk.post_id
     WHERE {listed_publicly("p")} AND {VISIBLE}
     ORDER BY walk.status_id {order}
    """

    return build


def in_status_order(order: str) -> Ordering:
    """Published posts in status-id order, strictly between the bounds. A followed tag's
    walk stops at the last status of a full page of followed authors' (the newest page's
    oldest, or the oldest page's newest)."""
    edge, beyond = ("min", 0) if order == NEWEST else ("max", MAX_ID)
    return Ordering(
        columns="p.id, p.status_id",
        names="id, status_id",
        bounds=f"p.status_id IS NOT NULL AND {_BETWEEN}",
        order=f"p.status_id {order}",
        merged=f"status_id {order}",
        tag_columns="pt.post_id AS id, pt.status_id",
        tag_bounds=f"pt.status_id IS NOT NULL AND {_BETWEEN.replace('p.', 'pt.')}",
        tag_walk=_BETWEEN.replace("p.", "pt."),
        tag_order=f"pt.status_id {order}",
        tag_edge=(
            f"pt.status_id {'>=' if order == NEWEST else '<='} coalesce("
            f"(SELECT {edge}(h.status_id) FROM home h HAVING count(*) >= {{rows}}), {beyond})"
        ),
    )


def home_rows(order: str) -> Callable[[int], str]:
    """Viewer $1's own posts, those of everyone they follow and the public posts with a tag
    they follow, found as the home timeline finds them (service.reads.posts.home_rows), in
    status-id order."""
    by = in_status_order(order)
    return lambda rows: posts_home_rows(rows, by=by)


# The author's account beside each post of a list (AuthorFacts), so that a page of statuses
# is one statement: asking for the accounts after the posts was a second round trip, a
# third of the home timeline's time.
AUTHOR_COLUMNS = f"""{avatar_key("p.author_id", AVATAR_LARGE)}, u.bio, u.created_at,
           u.post_count, u.followers_count, u.following_count, u.locked, u.indexable"""
AUTHOR_COLUMN_COUNT = 8


def _listed(rows_of: Callable[[int], str], order: str) -> Callable[[int], str]:
    return lambda rows: cards(
        f"({rows_of(rows)}) AS page", f"page.status_id {order}", AUTHOR_COLUMNS
    )


def _both_ways(name: str, rows_of: Callable[[str], Callable[[int], str]]):
    return {
        order: register_paged(
            f"{name}{'_oldest' if order == OLDEST else ''}",
            _listed(rows_of(order), order),
            shows_posts=True,
        )
        for order in (NEWEST, OLDEST)
    }


PUBLIC = _both_ways("public_statuses", public_rows)
ACCOUNT = _both_ways("account_statuses", account_rows(only_media=False))
ACCOUNT_MEDIA = _both_ways("account_media_statuses", account_rows(only_media=True))
HOME = _both_ways("home_statuses", home_rows)
TAGGED = _both_ways("tag_statuses", tag_rows)

# The post whose status id is $2, if viewer $1 may see it.
BY_STATUS_ID = register(
    "post_by_status_id",
    cards("(SELECT p.id FROM posts p WHERE p.status_id = $2 AND " + VISIBLE + ") AS page", "1"),
    shows_posts=True,
)


async def _list(
    reader: Reader,
    urls: MediaUrls,
    statements: dict[str, PagedStatement],
    viewer_id: int | None,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
    *more: object,
) -> list[StatusView]:
    """Up to ``limit`` statuses with ids strictly between ``above`` and ``below``: the newest
    of them, or with ``oldest_first`` the oldest; newest first either way, as Mastodon
    answers."""
    statement = statements[OLDEST if oldest_first else NEWEST].rows(limit)
    rows = await reader.rows(statement, viewer_id, above, below, *more)
    views = [StatusView(post_view(row, urls), author_of(row)) for row in rows]
    if oldest_first:
        views.reverse()
    return views


def author_of(row: Sequence) -> AuthorFacts:
    """The author of a card statement's row with AUTHOR_COLUMNS after the card's."""
    author_id, username, display_name = row[1], row[2], row[3]
    author = row[CARD_COLUMNS : CARD_COLUMNS + AUTHOR_COLUMN_COUNT]
    key, bio, created_at, post_count, followers, following, locked, indexable = author
    summary = UserSummary.of(author_id, username, display_name, key)
    return AuthorFacts(
        summary, bio, created_at, post_count, followers, following, locked, indexable
    )


async def public(
    reader: Reader,
    urls: MediaUrls,
    viewer_id: int | None,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[StatusView]:
    return await _list(reader, urls, PUBLIC, viewer_id, above, below, oldest_first, limit)


async def home(
    reader: Reader,
    urls: MediaUrls,
    viewer_id: int,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[StatusView]:
    return await _list(reader, urls, HOME, viewer_id, above, below, oldest_first, limit)


async def by_account(
    reader: Reader,
    urls: MediaUrls,
    viewer_id: int | None,
    author_id: int,
    only_media: bool,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[StatusView]:
    statements = ACCOUNT_MEDIA if only_media else ACCOUNT
    return await _list(
        reader, urls, statements, viewer_id, above, below, oldest_first, limit, author_id
    )


async def tagged(
    reader: Reader,
    urls: MediaUrls,
    viewer_id: int | None,
    tag_name: str,
    only_media: bool,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[StatusView]:
    """The posts tagged ``tag_name`` (normalised) that the viewer may see."""
    return await _list(
        reader, urls, TAGGED, viewer_id, above, below, oldest_first, limit, tag_name, only_media
    )


async def tag_page(
    reader: Reader,
    urls: MediaUrls,
    tag_name: str,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    """A page of a tag's posts, newest first, for its page: the API's list under the same
    rule. Its cursor holds the status id of the page's last post (and, for show, when it
    was published), as the profile's grid does."""
    below = after.id if after else MAX_ID
    listed = await tagged(reader, urls, viewer_id, tag_name, False, 0, below, False, limit + 1)
    return _status_page([status.post for status in listed], limit)


def _status_page(found: list[PostView], limit: int) -> Page[PostView]:
    kept = found[:limit]
    if len(found) <= limit or not kept:
        return Page(kept, None)
    last = kept[-1]
    return Page(kept, cursor.encode(Position(last.shown_at, last.status_id or 0)))


async def photos_of(
    reader: Reader,
    urls: MediaUrls,
    author_id: int,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    """A page of the author's posts with photos, newest first, for the profile's grid: the
    account's list with ``only_media``, under the same rule. Its cursor holds the status id
    of the page's last post (and, for show, when it was published)."""
    below = after.id if after else MAX_ID
    listed = await by_account(reader, urls, viewer_id, author_id, True, 0, below, False, limit + 1)
    return _status_page([status.post for status in listed], limit)


async def by_status_id(
    reader: Reader, urls: MediaUrls, status_id: int, viewer_id: int | None
) -> PostView | None:
    row = await reader.row(BY_STATUS_ID, viewer_id, status_id)
    return None if row is None else post_view(row, urls)
