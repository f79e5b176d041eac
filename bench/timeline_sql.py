"""Server execution time of the home timeline page statement (the feed's choice of posts
and their cards, reads.posts.HOME) for a few kinds of reader, on databases of different
sizes: how it grows with the posts table and with accounts followed. Used by
bench/timeline_http.py; the readers and cursors come from bench/explain_timeline.py."""

from __future__ import annotations

import contextlib
import json
import statistics

import asyncpg

from bench import explain_timeline
from bench.harness import connection
from bench.report import Growth
from service.db import READ_SERVER_SETTINGS
from service.reads import posts

EXPLAIN_RUNS = 50
# Runs left out first: cold caches.
WARMUP_RUNS = 10
PAGE = posts.HOME.rows(explain_timeline.PAGE_ROWS).sql


async def _prepare(db: asyncpg.Connection) -> None:
    if await db.fetchval("SELECT count(*) FROM pg_prepared_statements WHERE name = 'page'"):
        await db.execute("DEALLOCATE page")
    await db.execute(f"PREPARE page(bigint, timestamptz, bigint) AS {PAGE}")


async def _explain_ms(
    db: asyncpg.Connection,
    user_id: int,
    after: explain_timeline.Cursor,
    options: str = "ANALYZE, BUFFERS",
):
    """One execution as the service's read pool runs it (a generic plan); the setting is
    undone after it, for the helper queries on the same connection."""
    for name, value in READ_SERVER_SETTINGS.items():
        await db.execute(f"SET {name} = {value}")
    try:
        plan = await db.fetchval(
            f"EXPLAIN ({options}, FORMAT JSON) "
            f"EXECUTE page({int(user_id)}, {explain_timeline.literal(after)})"
        )
    finally:
        await db.execute("RESET ALL")
    return json.loads(plan)[0]["Execution Time"]


async def growth(urls: dict[str, str], kinds: tuple[str, ...]) -> list[Growth]:
    """For each kind of reader, page 1 and the deep page (after the reader's 1,000th post)
    on each database (by label): the median of EXPLAIN_RUNS executions of one prepared
    statement per database, as the service runs it, after WARMUP_RUNS.

    The four cases of a reader take turns run by run, so that the machine's drift weighs
    the same on all of them: their ratios are what the benchmark compares."""
    async with contextlib.AsyncExitStack() as stack:
        databases = {
            label: await stack.enter_async_context(connection(url)) for label, url in urls.items()
        }
        found = []
        for kind in kinds:
            cases, row = [], Growth(kind, {}, {})
            for label, db in databases.items():
                user_id = await db.fetchval(explain_timeline.READERS[kind])
                reader = await explain_timeline._reader(db, kind, user_id)
                row.following[label] = reader.following
                await _prepare(db)
                start = explain_timeline.Cursor(explain_timeline.START, 0)
                cases += [
                    (label, "1", db, user_id, start),
                    (label, "deep", db, user_id, reader.deep),
                ]
            times: dict[tuple[str, str], list[float]] = {case[:2]: [] for case in cases}
            for run in range(WARMUP_RUNS + EXPLAIN_RUNS):
                for label, page, db, user_id, after in cases:
                    ms = await _explain_ms(db, user_id, after)
                    if run >= WARMUP_RUNS:
                        times[label, page].append(ms)
            row.ms.update({case: statistics.median(runs) for case, runs in times.items()})
            print(
                f"  {kind}: "
                + ", ".join(f"{label} {page} {ms:.3f}" for (label, page), ms in row.ms.items()),
                flush=True,
            )
            found.append(row)
    return found
