"""Trending's costs at 1,000,000 posts (docs/trending.md), as `make bench` measures them beside
the timeline (bench/timeline_http.py), or alone:

    .venv/bin/python bench/trending.py      # seeds a scratch database of its own

1. Engagement: the seed writes no likes, comments or views, so a share of the posts is given
   some, as counts (``engage``): the trigger on posts marks each as changed, as likes would.
2. Recomputation: the trending job's statement run over those marks in batches of 1,000,
   timed (``recompute_cost``): the cost per 1,000 changed posts, first ranked (inserts),
   then all marked again and ranked anew (updates, as posts already trending change).
3. Trending against explore: Snapline's API and the pages, measured in turns with wrk.
4. The write rate under a wrk run of post pages (``write_rate``): rows PostgreSQL wrote in
   the database while the pages were read and their views counted, against an idle window
   of the same length. Every request is a view that counts (a signed-out visitor with a
   browser of its own each time, so no repeat is left out); views reach the database only
   by the flush, once per 10 s, one row per post viewed.

Uses $BENCH_POSTGRES_URL's server (default 127.0.0.1:5432, user postgres); every process is
stopped by its PID and the scratch database dropped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402

from bench import wrk  # noqa: E402
from bench.harness import Processes, ScratchDatabases, connection  # noqa: E402
from service.domain import trending  # noqa: E402
from service.workers import viewcounts  # noqa: E402

# A tenth of the published posts get likes and comments, more the more recent they are
# (a heavy tail: a few get hundreds), and views ten times their likes.
ENGAGED_SHARE = 0.1
ENGAGE = f"""
    UPDATE posts p
       SET like_count = e.likes, comment_count = e.likes / 5, view_count = e.likes * 10
      FROM (SELECT id, floor(exp(random() * ln(300)))::int AS likes
              FROM posts
             WHERE published_at IS NOT NULL AND random() < {ENGAGED_SHARE}) AS e
     WHERE p.id = e.id
"""
RECOMPUTE_BATCH = 1000
# The write-rate run: post pages of this many recent public posts, in turn.
VIEWED_POSTS = 100
WRITE_RUN_SECONDS = 20
# The views' writes follow the posts viewed per flush, not the requests: with
# VIEWED_POSTS posts and a flush every 10 s, a few rows per post per flush, far below one
# per request.
MAX_ROWS_PER_REQUEST = 0.1
# Row writes per database (inserts, updates, deletes) and of posts, as PostgreSQL counts them.
WRITES = """
    SELECT d.xact_commit, d.tup_inserted + d.tup_updated + d.tup_deleted AS rows_written,
           t.n_tup_upd AS posts_updated
      FROM pg_stat_database d, pg_stat_user_tables t
     WHERE d.datname = current_database() AND t.relname = 'posts'
"""


async def engage(database_url: str) -> int:
    """Give a share of the posts engagement, as counts; how many posts changed."""
    async with connection(database_url) as db:
        await db.execute("SELECT setseed(0.2026)")
        await db.execute(ENGAGE)
        return await db.fetchval("SELECT count(*) FROM trend_changes")


async def mark_all_ranked(database_url: str) -> None:
    """Mark every ranked post as changed, as if each had a new like."""
    async with connection(database_url) as db:
        await db.execute(
            "INSERT INTO trend_changes (post_id) SELECT post_id FROM post_trends"
            " ON CONFLICT DO NOTHING"
        )


@dataclasses.dataclass(frozen=True)
class Recompute:
    posts: int
    batches: int
    median_ms_per_1000: float
    total_seconds: float


async def recompute_cost(database_url: str) -> Recompute:
    """The trending job's statement over every marked post, RECOMPUTE_BATCH at a time, one
    transaction each, as the job runs it."""
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    timings, posts = [], 0
    began = time.perf_counter()
    try:
        while True:
            started = time.perf_counter()
            async with sessions.begin() as session:
                taken = await trending.recompute_changed(session, RECOMPUTE_BATCH)
            if taken == RECOMPUTE_BATCH:
                timings.append(time.perf_counter() - started)
            posts += taken
            if taken < RECOMPUTE_BATCH:
                break
        # Autovacuum analyzes a table once a tenth of it changed, within a minute: done here
        # at once (untimed), so that what follows is planned as on a running server, not
        # on the statistics of a table that was empty a moment ago.
        async with engine.begin() as connected:
            await connected.exec_driver_sql("ANALYZE post_trends")
    finally:
        await engine.dispose()
    return Recompute(
        posts,
        len(timings),
        statistics.median(timings) * 1000 if timings else 0.0,
        time.perf_counter() - began,
    )


@dataclasses.dataclass(frozen=True)
class WriteRate:
    seconds: int
    requests: int
    views_counted: int
    requests_per_second: float
    rows_written_loaded: int
    rows_written_idle: int
    commits_loaded: int
    commits_idle: int
    posts_updated: int


async def _writes(database_url: str) -> tuple[int, int, int]:
    async with connection(database_url) as db:
        # The statistics of other backends reach shared memory within a second.
        await db.execute("SELECT pg_stat_clear_snapshot()")
        row = await db.fetchrow(WRITES)
    return row["xact_commit"], row["rows_written"], row["posts_updated"]


def _script(directory: Path, post_ids: list[int]) -> Path:
    """A wrk script asking the post pages in turn, each request from a browser of its own
    (a User-Agent naming the thread and the request), so that each is a view that counts."""
    paths = ",".join(f'"/p/{post_id}"' for post_id in post_ids)
    script = directory / "post-pages.lua"
    script.write_text(
        f"local paths = {{{paths}}}\n"
        "local threads = 0\n"
        "function setup(thread)\n"
        "  threads = threads + 1\n"
        "  thread:set('number', threads)\n"
        "end\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local agent = 'Mozilla/5.0 (bench ' .. number .. '.' .. i .. ')'\n"
        "  return wrk.format('GET', paths[(i % #paths) + 1], {['User-Agent'] = agent})\n"
        "end\n"
    )
    return script


async def _views(database_url: str, post_ids: list[int]) -> int:
    async with connection(database_url) as db:
        return await db.fetchval(
            "SELECT sum(view_count) FROM posts WHERE id = ANY($1::bigint[])", post_ids
        )


async def write_rate(
    base: str, database_url: str, scratch: Path, connections: int = 32
) -> WriteRate:
    """Rows written in the database during a wrk run of post pages by signed-out visitors,
    against an idle window of the same length just before, each ending once a view flush
    has run."""
    async with connection(database_url) as db:
        post_ids = [
            row[0]
            for row in await db.fetch(
                "SELECT id FROM posts WHERE published_at IS NOT NULL AND audience = 'public'"
                f" ORDER BY published_at DESC LIMIT {VIEWED_POSTS}"
            )
        ]
    settle = viewcounts.FLUSH_SECONDS + 2
    await asyncio.sleep(settle)
    idle_start = await _writes(database_url)
    await asyncio.sleep(WRITE_RUN_SECONDS + settle)
    idle_end = await _writes(database_url)
    loaded_start = idle_end
    views_before = await _views(database_url, post_ids)
    got = await wrk.run(
        f"{base}/", connections, WRITE_RUN_SECONDS, {}, script=_script(scratch, post_ids)
    )
    await asyncio.sleep(settle)
    loaded_end = await _writes(database_url)
    return WriteRate(
        seconds=WRITE_RUN_SECONDS,
        requests=got.requests,
        views_counted=await _views(database_url, post_ids) - views_before,
        requests_per_second=got.requests_per_second,
        rows_written_loaded=loaded_end[1] - loaded_start[1],
        rows_written_idle=idle_end[1] - idle_start[1],
        commits_loaded=loaded_end[0] - loaded_start[0],
        commits_idle=idle_end[0] - idle_start[0],
        posts_updated=loaded_end[2] - loaded_start[2],
    )


def report(
    changed: int,
    recompute: Recompute,
    again: Recompute,
    write: WriteRate | None,
    pairs: list[tuple[str, wrk.Result, wrk.Result]],
) -> list[str]:
    """The trending section of the results, with its targets' verdicts."""
    lines = ["## Trending", ""]
    lines += [
        f"Engagement given to {changed:,} posts ({ENGAGED_SHARE:.0%} of them; likes heavy-tailed "
        "up to 300, a comment per five likes, ten views per like), written as counts, so that "
        "the trigger marked each as changed.",
        "",
        f"Recomputation: {recompute.posts:,} changed posts in {recompute.total_seconds:.1f} s; "
        f"**{recompute.median_ms_per_1000:.0f} ms per 1,000 changed posts** (median of "
        f"{recompute.batches} batches of {RECOMPUTE_BATCH:,}, one statement and transaction "
        f"each); all of them changed again and ranked anew (updates of their ranks): "
        f"**{again.median_ms_per_1000:.0f} ms per 1,000** ({again.total_seconds:.1f} s in all).",
        "",
    ]
    if pairs:
        lines += [
            "| Compared | Explore req/s | Trending req/s | Trending ÷ explore "
            "| p99 ms (explore / trending) |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, explore, trend in pairs:
            lines.append(
                f"| {name} | {explore.requests_per_second:,.0f} "
                f"| {trend.requests_per_second:,.0f} "
                f"| {trend.requests_per_second / explore.requests_per_second:.0%} "
                f"| {explore.p99_ms:.1f} / {trend.p99_ms:.1f} |"
            )
        lines.append("")
    if write is not None:
        per_thousand = (write.rows_written_loaded - write.rows_written_idle) / (
            write.requests / 1000
        )
        lines += [
            f"Write rate under a {write.seconds} s wrk run of post pages ({VIEWED_POSTS:,} "
            "recent public posts in turn, 32 connections, each request a signed-out visitor "
            f"with a browser of its own): {write.requests:,} requests "
            f"({write.requests_per_second:,.0f}/s), **{write.views_counted:,} views counted**; "
            f"the database wrote {write.rows_written_loaded:,} rows "
            f"({write.rows_written_idle:,} in an idle window of the same length), "
            f"{write.posts_updated:,} of them updates of posts (the view flushes: one row per "
            "post viewed in each 10 s, whatever its number of views, and as many marks for "
            f"the trending job): **{per_thousand:,.1f} rows per 1,000 requests** "
            f"({(write.rows_written_loaded - write.rows_written_idle) / write.seconds:,.1f} "
            f"rows/s more than idle). Transactions committed: {write.commits_loaded:,} "
            f"loaded, {write.commits_idle:,} idle (reads count too: each statement of the "
            "read pool is a transaction of its own).",
            "",
        ]
    return lines


def verdicts(
    pairs: list[tuple[str, wrk.Result, wrk.Result]], write: WriteRate | None
) -> list[tuple[str, str, bool]]:
    found = []
    for name, explore, trend in pairs:
        ratio = trend.requests_per_second / explore.requests_per_second
        found.append((f"{name}: trending within 10 % of explore", f"{ratio:.0%}", ratio >= 0.9))
    if write is not None:
        extra = write.rows_written_loaded - write.rows_written_idle
        found.append(
            (
                "view counting adds no database write per request",
                f"{extra:,} rows for {write.requests:,} requests "
                f"({extra / write.requests:.4f} a request)",
                extra < write.requests * MAX_ROWS_PER_REQUEST,
            )
        )
    return found


async def compare(base: str, cookie: str, connections: int = 32) -> list:
    """Explore and trending in turns (A B B A), Snapline's API and the pages."""
    pairs = []
    for name, explore_path, trending_path in (
        ("Snapline's API", "/api/snapline/v1/explore", "/api/snapline/v1/trending"),
        ("the Explore page", "/explore?sort=latest", "/explore"),
    ):
        headers = {"Cookie": cookie}
        explore_url, trending_url = base + explore_path, base + trending_path
        for url in (explore_url, trending_url):
            await wrk.run(url, connections, 3, headers)
        runs = {explore_url: [], trending_url: []}
        for url in (explore_url, trending_url, trending_url, explore_url):
            got = await wrk.run(url, connections, 15, headers)
            runs[url].append(got)
            print(f"  {name} {url}: {got.requests_per_second:,.0f}/s", flush=True)
        pairs.append((name, wrk.combined(runs[explore_url]), wrk.combined(runs[trending_url])))
    return pairs


async def run() -> int:
    from bench import timeline_http as timeline

    processes = Processes()
    databases = ScratchDatabases(timeline.SERVER_URL, "snapline_bench")
    logs = timeline.RESULTS / "trending-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="snapline-bench-") as scratch:
        try:
            print("seeding 10,000 users and 1,000,000 posts ...", flush=True)
            name = await timeline.seed(processes, databases, "1M", logs)
            url = databases.url(name)
            changed = await engage(url)
            recompute = await recompute_cost(databases.url(name, "postgresql+asyncpg"))
            await mark_all_ranked(url)
            again = await recompute_cost(databases.url(name, "postgresql+asyncpg"))
            found, _ = await timeline.readers(url)
            base = await timeline.start_service(
                processes, databases.url(name, "postgresql+asyncpg"), logs, Path(scratch)
            )
            cookie = await timeline.sign_in(base, found["median"][1])
            pairs = await compare(base, cookie)
            write = await write_rate(base, url, Path(scratch))
            lines = report(changed, recompute, again, write, pairs)
            lines += ["| Target | Measured | Met |", "|---|---|---|"]
            for target, measured, met in verdicts(pairs, write):
                lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
            print("\n".join(lines))
            return 0
        finally:
            await processes.stop_all()
            await databases.drop_all()


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()

    async def guarded() -> int:
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await run()

    try:
        return asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes stopped and scratch databases dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
