"""Pages of lists: which rows (from feeds or relationships), hydrated, with the cursor of
the next page. Pages and the JSON API both call these, so they always agree."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Generic, TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from service import cursor
from service.cursor import Position
from service.domain import feeds, follows, posts
from service.domain.follows import Relationship
from service.domain.posts import PostView
from service.media.urls import MediaUrls

Item = TypeVar("Item")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


@dataclasses.dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_cursor: str | None


def split(rows: Sequence, limit: int) -> tuple[list, str | None]:
    """``rows`` holds up to limit + 1 entries; the extra one only says there is more."""
    kept = list(rows[:limit])
    if len(rows) <= limit or not kept:
        return kept, None
    last = kept[-1]
    position = last if isinstance(last, Position) else last.position
    return kept, cursor.encode(position)


# The parameters of page statements ($1 is the viewer, as post cards take it); the number of
# rows is written into the text instead (see db.create_read_pool).
PAGE_PARAMETERS = ("viewer", "at", "id", "author")


@functools.cache
def page_statement(feed: str, rows: int) -> str:
    """One statement for a page of a feed: its choice of up to ``rows`` posts and
    everything shown of them. One text, and one prepared statement, per page size."""
    return posts.cards_of_feed(feeds.positional(feed, PAGE_PARAMETERS, n=rows))


async def _post_page(
    connection: asyncpg.Connection,
    urls: MediaUrls,
    feed: str,
    limit: int,
    viewer_id: int | None,
    after: Position | None,
    *more: object,
) -> Page[PostView]:
    """Up to ``limit`` posts of ``feed`` after ``after``; ``more`` are the feed's own
    parameters after the page's (see PAGE_PARAMETERS)."""
    statement = page_statement(feed, limit + 1)
    rows = await connection.fetch(statement, viewer_id, *feeds.position_after(after), *more)
    views = [posts.post_view(row, urls) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit and views:
        last = views[-1]
        next_cursor = cursor.encode(Position(last.shown_at, last.id))
    return Page(views, next_cursor)


async def home(
    connection: asyncpg.Connection,
    urls: MediaUrls,
    viewer_id: int,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    return await _post_page(connection, urls, feeds.HOME_TIMELINE, limit, viewer_id, after)


async def explore(
    connection: asyncpg.Connection,
    urls: MediaUrls,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    return await _post_page(connection, urls, feeds.EXPLORE, limit, viewer_id, after)


async def author(
    connection: asyncpg.Connection,
    urls: MediaUrls,
    author_id: int,
    viewer_id: int | None,
    after: Position | None,
    limit: int,
) -> Page[PostView]:
    return await _post_page(connection, urls, feeds.AUTHOR, limit, viewer_id, after, author_id)


async def relationships(
    session: AsyncSession, user_id: int, direction: str, after: Position | None, limit: int
) -> Page[Relationship]:
    rows = await follows.relationships(session, user_id, direction, after, limit)
    return Page(*split(rows, limit))
