"""Named read statements, the registry of them, and the only way to run them.

The read pool's connections use generic plans only (db.create_read_pool): a statement costs
PostgreSQL about as much to plan as to run, and the plan cache otherwise keeps planning the
same page statement afresh. Two rules make that safe, and both are kept here:

- Only statements whose best plan does not depend on their parameters run on the pool:
  each is reviewed and registered by name (``register``), and ``Reader`` runs nothing else.
- A page size is never a parameter: with ``LIMIT $n`` a generic plan guesses a tenth of
  the table and picks a sequential scan. A statement that takes a page size is a
  ``PagedStatement``: one complete text per size, with the size written in as a literal,
  each registered (and prepared) once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import asyncpg

from service import db

# The largest number of rows a page statement is asked for (a page of the largest size plus
# the row that says there is another page): sizes above it are a bug, not a request.
MAX_PAGE_ROWS = 51


@dataclasses.dataclass(frozen=True)
class Statement:
    """One complete statement of the read layer. ``shows_posts``: its rows are posts (or
    carry them), so it must be built with visibility.post_visible_to for ``viewer``: the
    parameter $1, or, for a statement that asks on behalf of many readers at once, the
    column naming each."""

    name: str
    sql: str
    shows_posts: bool = False
    viewer: str = "$1"


REGISTRY: dict[str, Statement] = {}


def register(name: str, sql: str, *, shows_posts: bool = False, viewer: str = "$1") -> Statement:
    if name in REGISTRY:
        raise ValueError(f"a read statement is already named {name!r}")
    statement = Statement(name, sql, shows_posts, viewer)
    REGISTRY[name] = statement
    return statement


@dataclasses.dataclass(frozen=True)
class PagedStatement:
    """A statement that returns up to a page size of rows: ``build(rows)`` writes the whole
    text for one size. Each size is registered as ``name/rows`` the first time it runs."""

    name: str
    build: Callable[[int], str]
    shows_posts: bool = False

    def rows(self, count: int) -> Statement:
        if not 1 <= count <= MAX_PAGE_ROWS:
            raise ValueError(f"{self.name}: {count} rows is not a page size")
        name = f"{self.name}/{count}"
        return REGISTRY.get(name) or register(name, self.build(count), shows_posts=self.shows_posts)


PAGED: dict[str, PagedStatement] = {}


def register_paged(
    name: str, build: Callable[[int], str], *, shows_posts: bool = False
) -> PagedStatement:
    if name in PAGED:
        raise ValueError(f"a paged read statement is already named {name!r}")
    paged = PagedStatement(name, build, shows_posts)
    PAGED[name] = paged
    return paged


class Reader:
    """A read-pool connection that runs registered statements only."""

    __slots__ = ("_connection",)

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def rows(self, statement: Statement, *args: Any) -> list[asyncpg.Record]:
        return await self._connection.fetch(statement.sql, *args)

    async def row(self, statement: Statement, *args: Any) -> asyncpg.Record | None:
        return await self._connection.fetchrow(statement.sql, *args)

    async def value(self, statement: Statement, *args: Any) -> Any:
        return await self._connection.fetchval(statement.sql, *args)


class reading(db.reading):
    """A reader for the statements of one request (see db.reading)."""

    async def __aenter__(self) -> Reader:  # type: ignore[override]
        return Reader(await super().__aenter__())


def every_statement(sample_rows: int = 3) -> list[Statement]:
    """Every statement the read layer can run, paged ones at one sample size: for the
    tests that check them all, and for ``python -m service statements``."""
    for paged in PAGED.values():
        paged.rows(sample_rows)
    return sorted(REGISTRY.values(), key=lambda statement: statement.name)
