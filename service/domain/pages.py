"""Pages of lists: which rows (from feeds or relationships), hydrated, with the cursor of
the next page. Pages and the JSON API both call these, so they always agree."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service import cursor
from service.cursor import Position
from service.domain import feeds, follows, posts
from service.domain.follows import Relationship
from service.domain.posts import PostView

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


async def _post_page(
    session: AsyncSession, found: list[Position], viewer_id: int | None, limit: int
) -> Page[PostView]:
    kept, next_cursor = split(found, limit)
    return Page(await posts.post_views(session, [p.id for p in kept], viewer_id), next_cursor)


async def home(
    session: AsyncSession, viewer_id: int, after: Position | None, limit: int
) -> Page[PostView]:
    found = await feeds.home_timeline(session, viewer_id, after, limit)
    return await _post_page(session, found, viewer_id, limit)


async def explore(
    session: AsyncSession, viewer_id: int | None, after: Position | None, limit: int
) -> Page[PostView]:
    return await _post_page(session, await feeds.explore(session, after, limit), viewer_id, limit)


async def author(
    session: AsyncSession, author_id: int, viewer_id: int | None, after: Position | None, limit: int
) -> Page[PostView]:
    found = await feeds.author_posts(session, author_id, after, limit)
    return await _post_page(session, found, viewer_id, limit)


async def relationships(
    session: AsyncSession, user_id: int, direction: str, after: Position | None, limit: int
) -> Page[Relationship]:
    rows = await follows.relationships(session, user_id, direction, after, limit)
    return Page(*split(rows, limit))
