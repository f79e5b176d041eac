"""Discovery's statements on a seeded database: post search (one and two words, English and
Chinese), people search, tag search and a tag page's first page, each timed from the client
over many runs of varied searches and viewers, as the read pool runs them (generic plans,
the read layer's own statement texts); and the sizes of the indexes they use.

    .venv/bin/python bench/discovery_sql.py postgresql://postgres@127.0.0.1:5432/DB [...]

bench/timeline_http.py calls ``measure`` on its databases and adds the tables to its report.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import discovery, seed  # noqa: E402
from service.cursor import MAX_ID  # noqa: E402
from service.db import READ_SERVER_SETTINGS  # noqa: E402
from service.reads import people, search, statuses  # noqa: E402

# Runs of each kind, each with another search and viewer; the first few warm the caches
# and are not counted.
RUNS = 200
WARMUP_RUNS = 20
PAGE_ROWS = 21  # a page of 20 and the row that says there is more
SEED = 20261121
# The targets: p95 in milliseconds.
TARGETS_MS = {"post search": 100.0, "people search": 20.0, "tag page": 20.0}
INDEXES = (
    "ix_posts_search_vector",
    "ix_users_search_name",
    "ix_tags_search_name",
    "ix_post_tags_tag_status",
    "pk_posts",
)
# Words of the seed's vocabulary that are not English stop words.
_STOP = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "an",
        "and",
        "any",
        "at",
        "away",
        "back",
        "before",
        "between",
        "but",
        "by",
        "can",
        "could",
        "down",
        "during",
        "every",
        "for",
        "from",
        "here",
        "in",
        "into",
        "just",
        "my",
        "of",
        "on",
        "one",
        "only",
        "or",
        "our",
        "out",
        "over",
        "so",
        "some",
        "still",
        "the",
        "then",
        "there",
        "this",
        "through",
        "under",
        "up",
        "very",
        "what",
        "when",
        "while",
        "with",
    ]
)


def _kinds(rng: random.Random) -> dict[str, Callable[[], tuple[str, str]]]:
    """Each kind of search: a function giving (statement family, search text)."""
    english = [word for word in seed._WORDS if word not in _STOP]
    chinese = list(seed._CHINESE_WORDS)
    names = [*seed._FIRST_NAMES, *seed._LAST_NAMES]
    tags = sorted({discovery.normalize_tag(tag) for tag in seed._TAGS})
    return {
        "post search, English, one word": lambda: ("posts", rng.choice(english)),
        "post search, English, two words": lambda: (
            "posts",
            " ".join(rng.sample(english, 2)),
        ),
        "post search, Chinese, one word": lambda: ("posts", rng.choice(chinese)),
        "post search, Chinese, two words": lambda: ("posts", " ".join(rng.sample(chinese, 2))),
        "people search": lambda: (
            "people",
            rng.choice([rng.choice(names), rng.choice(names)[:3], f"user0{rng.randrange(100)}"]),
        ),
        "tag search": lambda: ("tags", rng.choice(tags)[: rng.randint(2, 5)]),
        "tag page": lambda: ("tag page", rng.choice(tags)),
    }


def _statement(family: str) -> str:
    return {
        "posts": search.SEARCH_POSTS.rows(PAGE_ROWS).sql,
        "people": people.SEARCH_PEOPLE.rows(PAGE_ROWS).sql,
        "tags": search.SEARCH_TAGS.rows(PAGE_ROWS).sql,
        "tag page": statuses.TAGGED[statuses.NEWEST].rows(PAGE_ROWS).sql,
    }[family]


def _arguments(family: str, viewer: int | None, text: str) -> tuple:
    if family == "posts":
        return (viewer, text, 0, False, None)
    if family == "people":
        return (viewer, text, 0, False)
    if family == "tags":
        return (viewer, text, 0)
    return (viewer, 0, MAX_ID, text, False)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _time(
    connection: asyncpg.Connection, family: str, make: Callable, viewers: list[int | None]
) -> tuple[list[float], float]:
    """Milliseconds per run (the warm-up left out), and the mean rows a run returned."""
    prepared = await connection.prepare(_statement(family))
    times, rows = [], []
    for run in range(WARMUP_RUNS + RUNS):
        _, text = make()
        viewer = viewers[run % len(viewers)]
        began = time.perf_counter()
        found = await prepared.fetch(*_arguments(family, viewer, text))
        elapsed = (time.perf_counter() - began) * 1000
        if run >= WARMUP_RUNS:
            times.append(elapsed)
            rows.append(len(found))
    return times, statistics.fmean(rows)


async def _sizes(connection: asyncpg.Connection) -> dict[str, int]:
    sizes = {
        name: await connection.fetchval("SELECT pg_relation_size($1::regclass)", name)
        for name in INDEXES
    }
    sizes["posts (heap)"] = await connection.fetchval("SELECT pg_relation_size('posts')")
    sizes["posts.search_vector (stored)"] = await connection.fetchval(
        "SELECT sum(pg_column_size(search_vector))::bigint FROM posts"
    )
    return sizes


async def measure_one(url: str) -> tuple[dict[str, tuple[float, float, float]], dict[str, int]]:
    """Per kind: (p50 ms, p95 ms, mean rows); and sizes in bytes."""
    connection = await asyncpg.connect(url, server_settings=READ_SERVER_SETTINGS)
    try:
        rng = random.Random(SEED)
        ids = await connection.fetch("SELECT id FROM users ORDER BY random() LIMIT 40")
        # Signed-in readers of every kind, and one in five signed out.
        viewers: list[int | None] = [row["id"] for row in ids]
        viewers[::5] = [None] * len(viewers[::5])
        found = {}
        for kind, make in _kinds(rng).items():
            family, _ = make()
            times, mean_rows = await _time(connection, family, make, viewers)
            found[kind] = (_percentile(times, 0.5), _percentile(times, 0.95), mean_rows)
        return found, await _sizes(connection)
    finally:
        await connection.close()


def _target(kind: str) -> float | None:
    return next((ms for prefix, ms in TARGETS_MS.items() if kind.startswith(prefix)), None)


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


async def measure(urls: dict[str, str]) -> list[str]:
    """The report's section for the databases ``urls`` (label -> URL), as Markdown lines."""
    results = {label: await measure_one(url) for label, url in urls.items()}
    labels = list(urls)
    lines = [
        "## Discovery: search and tag pages (SQL, client-side, ms)",
        "",
        f"Each row: {RUNS} runs (after {WARMUP_RUNS} to warm up) of varied searches from the "
        "seed's vocabulary, by varied viewers (one in five signed out), a page of 20, the "
        "read layer's statements under generic plans as the read pool runs them; time from "
        "the client, so with a round trip on loopback.",
        "",
        "| Statement | "
        + " | ".join(f"{label} p50 | {label} p95 | rows" for label in labels)
        + " | Target p95 | Met |",
        "|---|" + "---|---|---|" * len(labels) + "---|---|",
    ]
    largest = labels[-1]
    for kind in results[labels[0]][0]:
        cells = []
        for label in labels:
            p50, p95, rows = results[label][0][kind]
            cells.append(f"{p50:.1f} | {p95:.1f} | {rows:.1f}")
        target = _target(kind)
        met = (
            "" if target is None else ("yes" if results[largest][0][kind][1] < target else "**no**")
        )
        lines.append(
            f"| {kind} | "
            + " | ".join(cells)
            + f" | {'' if target is None else f'< {target:.0f}'} | {met} |"
        )
    lines += ["", "Sizes:", "", "| Relation | " + " | ".join(labels) + " |",
              "|---|" + "---|" * len(labels)]  # fmt: skip
    for name in results[labels[0]][1]:
        lines.append(
            f"| {name} | " + " | ".join(_mib(results[label][1][name]) for label in labels) + " |"
        )
    return lines


def main() -> int:
    urls = {url.rsplit("/", 1)[-1]: url for url in sys.argv[1:]}
    if not urls:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(asyncio.run(measure(urls))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
