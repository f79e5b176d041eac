"""Measure the home timeline statement on a seeded database, and check it returns the rows
of the plain definition.

    python -m service seed --users 10000 --posts 1000000   # into an empty database
    python bench/explain_timeline.py --database-url postgresql://postgres@host/db

For each kind of reader (see READERS: light, median, heavy, heaviest, sparse, quiet, new)
and two pages (the first, and the page after the reader's 1,000th timeline post) it runs
``EXPLAIN (ANALYZE, BUFFERS)`` of a server-side prepared statement RUNS times and prints the
median execution time, once with the default plan cache (custom plans first, then perhaps
a generic plan) and once with ``plan_cache_mode = force_generic_plan``. It also times the
statement from the client through a fresh asyncpg prepared statement, as the service runs
it, and shows how many of those runs used a generic plan. Two shapes are compared: the
LATERAL union alone, and the statement the service uses (``reads.posts.home_rows``).

``--check`` compares, for every reader measured plus a sample of others and at several
cursors and page sizes, the service's rows with the plain definition (own posts or a
followed author's, newest first) and with the LATERAL shape.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.reads.posts import HOME_WINDOW_MIN_FOLLOWS, followed_rows, home_rows

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/snapline_bench"
RUNS = 20
# Rows asked for: the default page of 20 plus the row that says there is a next page.
PAGE_ROWS = 21
# The largest page (50) plus one, for the equivalence check.
MAX_PAGE_ROWS = 51
# "Deep page": the page after this many timeline posts.
DEEP_AFTER_POSTS = 1000
CHECK_SAMPLE_USERS = 200
START = datetime(9999, 1, 1, tzinfo=UTC)

# The definition, obviously right and sometimes very slow: the reference for --check.
PLAIN = """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.author_id = $1
            OR p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = $1))
       AND (p.published_at, p.id) < ($2, $3)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT $4
"""

# Each shape writes its statement for a number of rows: the LATERAL union on its own (for
# each followed author and the viewer, that author's newest posts before the cursor,
# merged), and the statement the service uses.
SHAPES = {"lateral": followed_rows, "service": home_rows}
PARAMETER_TYPES = "bigint, timestamptz, bigint"

# Which user stands for each kind of reader.
READERS = {
    "light": """SELECT id FROM users WHERE following_count BETWEEN 1 AND 5
                 ORDER BY following_count DESC, post_count DESC, id LIMIT 1""",
    "median": """SELECT id FROM users WHERE following_count > 0
                  ORDER BY abs(following_count - 100), id LIMIT 1""",
    "heavy": """SELECT id FROM users WHERE following_count >= 2000
                 ORDER BY following_count, id LIMIT 1""",
    "heaviest": "SELECT id FROM users ORDER BY following_count DESC, id LIMIT 1",
    # Follows a few quiet accounts: the fewest posts in the timeline among 3-8 followed.
    "sparse": """SELECT u.id FROM users u JOIN follows f ON f.follower_id = u.id
                   JOIN users a ON a.id = f.followed_id
                  WHERE u.following_count BETWEEN 3 AND 8
                  GROUP BY u.id ORDER BY sum(a.post_count) + u.post_count, u.id LIMIT 1""",
    # The window's worst case: follows enough accounts to try it, all of them quiet.
    "quiet": f"""SELECT u.id FROM users u JOIN follows f ON f.follower_id = u.id
                   JOIN users a ON a.id = f.followed_id
                  WHERE u.following_count >= {HOME_WINDOW_MIN_FOLLOWS}
                  GROUP BY u.id ORDER BY sum(a.post_count) + u.post_count, u.id LIMIT 1""",
    "new": """SELECT id FROM users WHERE following_count = 0 AND post_count = 0
               ORDER BY created_at DESC, id LIMIT 1""",
}


@dataclasses.dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int


@dataclasses.dataclass(frozen=True)
class Reader:
    kind: str
    user_id: int
    following: int
    timeline_posts: int
    deep: Cursor


def literal(cursor: Cursor) -> str:
    return f"'{cursor.at.isoformat()}'::timestamptz, {int(cursor.id)}"


async def _timeline_rows(
    connection: asyncpg.Connection, user_id: int, after: Cursor, rows: int
) -> list[asyncpg.Record]:
    return await connection.fetch(PLAIN, user_id, after.at, after.id, rows)


async def _deep_cursor(connection: asyncpg.Connection, user_id: int) -> Cursor:
    """The position of the reader's DEEP_AFTER_POSTS-th timeline post. A shorter timeline's
    "deep page" is the empty page after its end: the worst case of any shape that hopes to
    fill a page from recent posts."""
    rows = await _timeline_rows(connection, user_id, Cursor(START, 0), DEEP_AFTER_POSTS)
    return Cursor(rows[-1]["published_at"], rows[-1]["id"]) if rows else Cursor(START, 0)


async def _reader(connection: asyncpg.Connection, kind: str, user_id: int) -> Reader:
    following = await connection.fetchval(
        "SELECT following_count FROM users WHERE id = $1", user_id
    )
    total = await connection.fetchval(
        """SELECT count(*) FROM posts WHERE published_at IS NOT NULL
              AND (author_id = $1 OR author_id IN
                   (SELECT followed_id FROM follows WHERE follower_id = $1))""",
        user_id,
    )
    return Reader(kind, user_id, following, total, await _deep_cursor(connection, user_id))


async def readers(connection: asyncpg.Connection) -> list[Reader]:
    found = []
    for kind, query in READERS.items():
        user_id = await connection.fetchval(query)
        if user_id is None:
            print(f"no {kind} reader in this database; skipped", file=sys.stderr)
            continue
        found.append(await _reader(connection, kind, user_id))
    return found


async def _prepare(connection: asyncpg.Connection, statement: str) -> None:
    """A server-side prepared statement named "timeline" (asyncpg's own prepared
    statements go through the same plan cache but cannot be EXPLAINed)."""
    exists = await connection.fetchval(
        "SELECT count(*) FROM pg_prepared_statements WHERE name = 'timeline'"
    )
    if exists:
        await connection.execute("DEALLOCATE timeline")
    await connection.execute(f"PREPARE timeline({PARAMETER_TYPES}) AS {statement}")


async def _explain_ms(
    connection: asyncpg.Connection, user_id: int, after: Cursor, options: str
) -> float:
    plan = await connection.fetchval(
        f"EXPLAIN ({options}, FORMAT JSON) EXECUTE timeline({int(user_id)}, {literal(after)})"
    )
    return json.loads(plan)[0]["Execution Time"]


async def server_median_ms(
    connection: asyncpg.Connection,
    shape: str,
    mode: str,
    reader: Reader,
    after: Cursor,
    options: str,
) -> float:
    """Median server execution time of RUNS executions of a fresh prepared statement, so
    each case goes through the plan cache's custom-then-maybe-generic choice on its own."""
    await connection.execute(f"SET plan_cache_mode = {mode}")
    await _prepare(connection, SHAPES[shape](PAGE_ROWS))
    times = [await _explain_ms(connection, reader.user_id, after, options) for _ in range(RUNS)]
    await connection.execute("RESET plan_cache_mode")
    return statistics.median(times)


async def client_median_ms(
    connection: asyncpg.Connection, shape: str, user_id: int, after: Cursor
) -> tuple[float, str]:
    """Median round trip through a fresh asyncpg prepared statement, as the service runs
    it, and how many of the runs used a generic plan."""
    statement = await connection.prepare(SHAPES[shape](PAGE_ROWS))
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await statement.fetch(user_id, after.at, after.id)
        times.append((time.perf_counter() - began) * 1000)
    generic = await connection.fetchval(
        "SELECT generic_plans FROM pg_prepared_statements WHERE name = $1", statement.get_name()
    )
    return statistics.median(times), f"{generic}/{RUNS}"


async def measure(connection: asyncpg.Connection, found: list[Reader], options: str) -> None:
    print(
        f"{'shape':8} {'reader':8} {'follows':>7} {'posts':>7} {'page':5} "
        f"{'auto ms':>9} {'generic ms':>10} {'client ms':>9} {'generic':>7}"
    )
    for shape in SHAPES:
        for reader in found:
            for page, after in (("1", Cursor(START, 0)), ("deep", reader.deep)):
                custom = await server_median_ms(connection, shape, "auto", reader, after, options)
                generic = await server_median_ms(
                    connection, shape, "force_generic_plan", reader, after, options
                )
                client, plans = await client_median_ms(connection, shape, reader.user_id, after)
                print(
                    f"{shape:8} {reader.kind:8} {reader.following:7d} "
                    f"{reader.timeline_posts:7d} {page:5} "
                    f"{custom:9.2f} {generic:10.2f} {client:9.2f} {plans:>7}",
                    flush=True,
                )


async def show_plans(connection: asyncpg.Connection, found: list[Reader]) -> None:
    """The service statement's plan for the median and heavy readers, first page."""
    for reader in found:
        if reader.kind not in {"median", "heavy"}:
            continue
        await _prepare(connection, home_rows(PAGE_ROWS))
        rows = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
            f"EXECUTE timeline({reader.user_id}, {literal(Cursor(START, 0))})"
        )
        print(f"\n{reader.kind} reader ({reader.following} followed), first page:")
        print("\n".join(row[0] for row in rows))


async def _cursors(connection: asyncpg.Connection, user_id: int, deep: Cursor) -> list[Cursor]:
    """Start, deep, and just before the end of the timeline (a partial last page)."""
    oldest = await connection.fetch(
        """SELECT id, published_at FROM posts WHERE published_at IS NOT NULL
              AND (author_id = $1 OR author_id IN
                   (SELECT followed_id FROM follows WHERE follower_id = $1))
            ORDER BY published_at, id LIMIT 6""",
        user_id,
    )
    near_end = [Cursor(row["published_at"], row["id"]) for row in oldest[-1:]]
    return [Cursor(START, 0), deep, *near_end]


async def check(connection: asyncpg.Connection, found: list[Reader], seed: int) -> int:
    """Number of (user, cursor, page size) cases where a shape differs from the plain
    definition; prints each one."""
    user_ids = [row["id"] for row in await connection.fetch("SELECT id FROM users ORDER BY id")]
    sample = random.Random(seed).sample(user_ids, min(CHECK_SAMPLE_USERS, len(user_ids)))
    cases = {reader.user_id: reader.deep for reader in found}
    for user_id in sample:
        if user_id not in cases:
            cases[user_id] = await _deep_cursor(connection, user_id)
    statements = {
        (name, rows): await connection.prepare(build(rows))
        for name, build in SHAPES.items()
        for rows in (PAGE_ROWS, MAX_PAGE_ROWS)
    }
    mismatches = checked = 0
    for user_id, deep in cases.items():
        for after in await _cursors(connection, user_id, deep):
            for rows in (PAGE_ROWS, MAX_PAGE_ROWS):
                expected = await _timeline_rows(connection, user_id, after, rows)
                for name in SHAPES:
                    got = await statements[name, rows].fetch(user_id, after.at, after.id)
                    checked += 1
                    if [tuple(r) for r in got] != [tuple(r) for r in expected]:
                        mismatches += 1
                        print(f"MISMATCH {name}: user {user_id} after {after} rows {rows}")
    print(f"checked {checked} pages for {len(cases)} users: {mismatches} mismatches")
    return mismatches


async def main(arguments: argparse.Namespace) -> int:
    connection = await asyncpg.connect(arguments.database_url)
    try:
        found = await readers(connection)
        for reader in found:
            print(
                f"{reader.kind}: user {reader.user_id}, follows {reader.following}, "
                f"{reader.timeline_posts} posts in the timeline, deep page after "
                f"{reader.deep.at.isoformat()} / {reader.deep.id}"
            )
        if not arguments.check_only:
            options = "ANALYZE, BUFFERS" + (", TIMING OFF" if arguments.timing_off else "")
            await measure(connection, found, options)
        if arguments.plans:
            await show_plans(connection, found)
        if arguments.check or arguments.check_only:
            return 1 if await check(connection, found, arguments.seed) else 0
        return 0
    finally:
        await connection.close()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"asyncpg DSN of a seeded database (default $BENCH_DATABASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--timing-off",
        action="store_true",
        help="EXPLAIN without per-node timing (its overhead weighs on plans with many rows)",
    )
    parser.add_argument("--plans", action="store_true", help="print plans, median and heavy")
    parser.add_argument("--check", action="store_true", help="also compare rows")
    parser.add_argument("--check-only", action="store_true", help="only compare rows")
    parser.add_argument("--seed", type=int, default=1, help="sample for --check")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_arguments())))
