"""Keyset pages: positions before the first row of a list, and cutting a page's rows.

A page statement is asked for one row more than the page holds; that row only says there is
a next page, which starts after the page's last row. Positions, never OFFSET: a page costs
the same at any depth, and rows added meanwhile never shift what comes next. The first page
starts after a position before every real row, so it runs the same statement (and the same
prepared plan) as the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from service import cursor
from service.cursor import Position
from service.reads.views import Page

# Lists newest first start after a time later than any row's; oldest first, before any.
NEWEST_FIRST = Position(datetime.fromisoformat("9999-01-01T00:00:00+00:00"), 0)
OLDEST_FIRST = Position(datetime.fromisoformat("0001-01-01T00:00:00+00:00"), 0)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


class Positioned(Protocol):
    @property
    def position(self) -> Position: ...


Item = TypeVar("Item", bound=Positioned)


def page_of(items: Sequence[Item], limit: int) -> Page[Item]:
    """``items`` holds up to ``limit + 1`` rows: a page of ``limit``, and the cursor of the
    next when there is more."""
    kept = list(items[:limit])
    if len(items) <= limit or not kept:
        return Page(kept, None)
    return Page(kept, cursor.encode(kept[-1].position))
