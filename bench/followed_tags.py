"""Followed tags: what following ten hashtags costs the home timeline page, and what tags
and mentions cost posting (issue: discovery, docs/timeline.md).

1. For a few kinds of reader (bench/explain_timeline.py's), the server execution time of
   the home page statement (reads.posts.HOME, as bench/timeline_sql.py runs it: a generic
   plan, first page and deep page; EXPLAIN ANALYZE without per-node timing) while the
   reader follows no tag and while they follow ten popular-to-middling tags (ranks 3, 6,
   ..., 30 by post count). The two states take
   turns in blocks (the follows are written or removed and tag_follows vacuumed between
   blocks), so the machine's drift weighs the same on both; the first block is warm-up.
2. The median time of the post-creating command (domain.posts.create_text_post, in its
   own transaction, committed) for a short text, and for the same text with three tags,
   with two mentions, and with both, in turns, POSTS_EACH of each; the posts (and the
   mentions' notifications) are deleted after.

Run against a seeded scratch database (it writes and removes rows):

    python -m bench.followed_tags --database-url postgresql://postgres@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench import explain_timeline, report, timeline_sql
from bench.report import TagCost, WriteCost
from service.domain import posts
from service.reads import posts as posts_reads

KINDS = ("light", "median", "heavy", "quiet", "new")
CHECK_USERS = 40  # besides one of each kind
CHECK_PAGES = 5  # consecutive pages from the start, then the deep page
TAG_RANKS = tuple(range(3, 31, 3))  # ten tags, popular to middling
BLOCKS = 6  # per state; the first is warm-up
# Without per-node timing: reading the clock at every node and row costs more than the
# work itself in the tags' many short walks, and would be charged to them alone.
EXPLAIN = "ANALYZE, TIMING OFF"
RUNS_PER_BLOCK = 10
POSTS_EACH = 300
PLAIN_BODY = "a quiet walk by the river this morning, coffee after"


async def _followed_tags(db: asyncpg.Connection) -> list[int]:
    rows = await db.fetch(
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY post_count DESC, id) AS rank"
        " FROM tags) ranked WHERE rank = ANY($1::int[]) ORDER BY rank",
        list(TAG_RANKS),
    )
    return [row[0] for row in rows]


async def _set_follows(db: asyncpg.Connection, user_id: int, tag_ids: list[int]) -> None:
    await db.execute("DELETE FROM tag_follows WHERE user_id = $1", user_id)
    if tag_ids:
        await db.execute(
            "INSERT INTO tag_follows (user_id, tag_id) SELECT $1, unnest($2::bigint[])",
            user_id,
            tag_ids,
        )
    await db.execute("VACUUM tag_follows")


async def timeline(url: str, kinds: tuple[str, ...] = KINDS) -> list[TagCost]:
    """For each kind of reader: median ms by (tags "0"/"10", page "1"/"deep")."""
    found = []
    db = await asyncpg.connect(url)
    try:
        tag_ids = await _followed_tags(db)
        await timeline_sql._prepare(db)
        start = explain_timeline.Cursor(explain_timeline.START, 0)
        for kind in kinds:
            user_id = await db.fetchval(explain_timeline.READERS[kind])
            if user_id is None:
                continue
            reader = await explain_timeline._reader(db, kind, user_id)
            times: dict[tuple[str, str], list[float]] = {}
            for block in range(BLOCKS):
                for label, follows in (("0", []), ("10", tag_ids)):
                    await _set_follows(db, user_id, follows)
                    for _ in range(RUNS_PER_BLOCK):
                        for page, after in (("1", start), ("deep", reader.deep)):
                            ms = await timeline_sql._explain_ms(db, user_id, after, EXPLAIN)
                            if block:
                                times.setdefault((label, page), []).append(ms)
            await _set_follows(db, user_id, [])
            medians = {case: statistics.median(runs) for case, runs in times.items()}
            found.append(TagCost(kind, reader.following, medians))
            print(
                f"  {kind} ({reader.following} followed): "
                + ", ".join(
                    f"{tags} tags page {page} {ms:.3f} ms" for (tags, page), ms in medians.items()
                ),
                flush=True,
            )
    finally:
        await db.close()
    return found


async def write_cost(url: str) -> WriteCost:
    """Median ms of creating a post, without and with three tags and two mentions."""
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    made: list[int] = []
    times: dict[str, list[float]] = {}
    try:
        async with sessions() as session:
            author = await session.scalar(text("SELECT id FROM users ORDER BY id LIMIT 1"))
            names = (
                await session.scalars(
                    text("SELECT username FROM users ORDER BY id LIMIT 2 OFFSET 5")
                )
            ).all()
            tags = (
                await session.scalars(
                    text("SELECT display FROM tags ORDER BY post_count DESC LIMIT 3")
                )
            ).all()
        tagged = f" #{tags[0]} #{tags[1]} #{tags[2]}"
        mentions = f" @{names[0]} @{names[1]}"
        bodies = {
            "plain": PLAIN_BODY,
            "3 tags": PLAIN_BODY + tagged,
            "2 mentions": PLAIN_BODY + mentions,
            "3 tags and 2 mentions": PLAIN_BODY + tagged + mentions,
        }
        for _ in range(POSTS_EACH):
            for kind, body in bodies.items():
                began = time.perf_counter()
                async with sessions.begin() as session:
                    made.append(await posts.create_text_post(session, author, body, "public"))
                times.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
    finally:
        async with sessions.begin() as session:
            await session.execute(
                text("DELETE FROM notifications WHERE post_id = ANY(:ids)"), {"ids": made}
            )
            await session.execute(text("DELETE FROM posts WHERE id = ANY(:ids)"), {"ids": made})
            await session.execute(
                text("UPDATE users SET post_count = post_count - :n WHERE id = :id"),
                {"n": len(made), "id": author},
            )
        await engine.dispose()
    medians = {kind: statistics.median(runs) for kind, runs in times.items()}
    print(
        "  posting: " + ", ".join(f"{kind} {ms:.2f} ms" for kind, ms in medians.items()),
        flush=True,
    )
    return WriteCost(medians)


# The definition with followed tags, obviously right and slow: the reference for the check
# (the seed writes no blocks or mutes; the visibility rule has tests of its own).
PLAIN = """
    SELECT p.id, p.published_at
      FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.author_id = $1
            OR p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = $1)
            OR (p.audience = 'public'
                AND EXISTS (SELECT FROM post_tags pt JOIN tag_follows tf ON tf.tag_id = pt.tag_id
                             WHERE pt.post_id = p.id AND tf.user_id = $1)))
       AND (p.audience <> 'followers' OR p.author_id = $1
            OR EXISTS (SELECT FROM follows f WHERE f.follower_id = $1
                        AND f.followed_id = p.author_id))
       AND (p.published_at, p.id) < ($2, $3)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT 21
"""


async def check(url: str) -> int:
    """Pages of the service's statement against the definition, for readers of each kind
    and CHECK_USERS others, each following the ten tags: CHECK_PAGES pages from the start,
    each after the last, and the deep page. The number of pages that differ."""
    db = await asyncpg.connect(url)
    mismatches = checked = 0
    try:
        tag_ids = await _followed_tags(db)
        users = [await db.fetchval(explain_timeline.READERS[kind]) for kind in KINDS]
        users += [
            row[0]
            for row in await db.fetch(
                "SELECT id FROM users ORDER BY md5(id::text) LIMIT $1", CHECK_USERS
            )
        ]
        service = await db.prepare(posts_reads.home_rows(explain_timeline.PAGE_ROWS))
        plain = await db.prepare(PLAIN)
        for user_id in filter(None, users):
            await _set_follows(db, user_id, tag_ids)
            reader = await explain_timeline._reader(db, "any", user_id)
            after = explain_timeline.Cursor(explain_timeline.START, 0)
            for page in range(CHECK_PAGES + 1):
                if page == CHECK_PAGES:
                    after = reader.deep
                got = [tuple(r) for r in await service.fetch(user_id, after.at, after.id)]
                expected = [tuple(r) for r in await plain.fetch(user_id, after.at, after.id)]
                checked += 1
                if got != expected:
                    mismatches += 1
                    print(f"MISMATCH: user {user_id} after {after}")
                if got:
                    after = explain_timeline.Cursor(got[-1][1], got[-1][0])
            await _set_follows(db, user_id, [])
    finally:
        await db.close()
    print(f"  checked {checked} pages with ten followed tags: {mismatches} mismatches")
    return mismatches


async def main(url: str) -> None:
    print("the statement against the definition:")
    await check(url)
    print("home page statement, no followed tag vs ten (median server ms):")
    tags = await timeline(url)
    print("write cost (median of the post-creating command, committed):")
    writes = await write_cost(url)
    print("\n" + "\n".join(report.markdown_tags(tags, writes)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=explain_timeline.DEFAULT_URL)
    asyncio.run(main(parser.parse_args().database_url))
