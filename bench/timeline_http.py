"""The home timeline under load at 10,000 users and 1,000,000 posts, against its own ceiling.

    make bench            # or: .venv/bin/python bench/timeline_http.py

1. Seeds two scratch databases (1,000,000 and 100,000 posts, same users and follows).
2. Starts the service with production settings and bench/ceiling.py (the least a process
   must do to answer the same timeline) on loopback, signs in a light, a median and a heavy
   reader, and drives each endpoint with wrk at 16, 32 and 64 connections after a warm-up.
3. Times the timeline page statement (median of EXPLAIN ANALYZE runs) for the same kinds of
   reader on both databases, page 1 and deep; and discovery's statements (post, people
   and tag search, a tag page) with the sizes of their indexes (bench/discovery_sql.py).
4. Trending (bench/trending.py): engagement given to a share of the 1,000,000 posts, the cost
   of recomputing their ranks per 1,000 changed posts, trending beside explore, and the
   database's write rate under a run of post pages.
5. Writes bench/results/latest.md (see bench/results/README.md) and prints it.

Uses $BENCH_POSTGRES_URL's server (default 127.0.0.1:5432, user postgres). Every process
is stopped by its PID and both databases are dropped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    discovery_sql,
    explain_timeline,
    followed_tags,
    wrk,
)
from bench import trending as trending_bench  # noqa: E402
from bench.harness import (  # noqa: E402
    Processes,
    ScratchDatabases,
    busy_cores,
    clean_env,
    connection,
    wait_healthy,
)
from bench.report import Load, markdown  # noqa: E402
from bench.timeline_sql import EXPLAIN_RUNS, growth  # noqa: E402
from service.embedded_pg import free_port  # noqa: E402
from service.seed import SEEDED_PASSWORD  # noqa: E402
from service.web.auth import SESSION_COOKIE  # noqa: E402

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = ROOT / "bench" / "results"
USERS = 10_000
POSTS = {"100k": 100_000, "1M": 1_000_000}
LABELS = ("100k", "1M")
# One seed for both databases: the same users and follows, only the posts differ.
RANDOM_SEED = 20261121
# Privacy as a community has it (docs/privacy.md): a fifth of the posts unlisted or for
# followers only, a tenth of the accounts private (their posts for followers only).
NON_PUBLIC_SHARE = 0.2
PRIVATE_SHARE = 0.1
# Seeding 1,000,000 posts takes about a minute on two cores.
SEED_TIMEOUT_SECONDS = 600
# 32 is where the read path's targets are set (docs/timeline.md); 16 and 64 around it.
CONNECTIONS = (16, 32, 64)
LOAD_SECONDS = 15
# Fills the pools, the plan caches and PostgreSQL's buffers before each endpoint is measured.
WARMUP_SECONDS = 3
# The deep page: follow next_cursor through this many pages of 20 (after 1,000 posts).
DEEP_PAGES = 50
# Readers as bench/explain_timeline.py picks them, by users.following_count.
READER_KINDS = ("light", "median", "heavy")
# Readers whose home page is timed following no tag and ten (bench/followed_tags.py).
TAG_READER_KINDS = ("light", "median", "heavy", "new")
CSRF_MARK = '<meta name="csrf-token" content="'
NEW_TOKEN_MARK = "data-new-token>"


@dataclasses.dataclass(frozen=True)
class Case:
    endpoint: str
    reader: str  # whose session cookie is sent; "" for the ceiling, which has none
    url: str
    cookie: str | None = None
    bearer: str | None = None  # a personal access token, sent instead of the cookie

    @property
    def headers(self) -> dict[str, str]:
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        return {"Cookie": self.cookie} if self.cookie else {}


async def seed(processes: Processes, databases: ScratchDatabases, label: str, logs: Path) -> str:
    name = await databases.create(label)
    env = clean_env(SNAPLINE_DATABASE_URL=databases.url(name, "postgresql+asyncpg"))
    argv = [sys.executable, "-m", "service", "seed", "--users", str(USERS)]
    argv += ["--posts", str(POSTS[label]), "--seed", str(RANDOM_SEED)]
    argv += ["--non-public-share", str(NON_PUBLIC_SHARE), "--private-share", str(PRIVATE_SHARE)]
    process = await processes.start(f"seed {label}", argv, env, logs / f"seed-{label}.log")
    try:
        await asyncio.wait_for(process.wait(), SEED_TIMEOUT_SECONDS)
    finally:
        await processes.stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"seeding {label} failed; see {logs / f'seed-{label}.log'}")
    async with connection(databases.url(name)) as db:
        # Write out the seed's dirty pages now rather than during the measurements.
        await db.execute("CHECKPOINT")
    return name


async def start_service(processes: Processes, database_url: str, logs: Path, scratch: Path):
    port = free_port()
    env = clean_env(
        SNAPLINE_APP_ENV="production",
        SNAPLINE_APP_SECRET_KEY=secrets.token_urlsafe(30),  # 40 characters
        SNAPLINE_SERVER_HOST="127.0.0.1",
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_SERVER_ACCESS_LOG="false",
        SNAPLINE_DATABASE_URL=database_url,
        SNAPLINE_APP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SNAPLINE_APP_ALLOW_LOCAL_SERVICES="true",  # the bench sends no mail
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(scratch / "mail"),
        SNAPLINE_STORAGE_BACKEND="local",
        SNAPLINE_STORAGE_LOCAL_PATH=str(scratch / "media"),
        # Counted as always, never reached: every bearer request is one wrk sends.
        SNAPLINE_SECURITY_API_REQUESTS_PER_TOKEN=str(10**9),
        SNAPLINE_SECURITY_API_REQUESTS_PER_ADDRESS=str(10**9),
    )
    argv = [sys.executable, "-m", "service", "serve", "--no-migrate"]
    process = await processes.start("service", argv, env, logs / "service.log")
    base = f"http://127.0.0.1:{port}"
    await wait_healthy(f"{base}/healthz", process)
    return base


async def start_ceiling(processes: Processes, database_url: str, viewer: int, logs: Path):
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "ceiling.py"), "--database-url", database_url]
    argv += ["--viewer", str(viewer), "--port", str(port)]
    process = await processes.start("ceiling", argv, clean_env(), logs / "ceiling.log")
    base = f"http://127.0.0.1:{port}"
    await wait_healthy(f"{base}/healthz", process)
    return base


async def sign_in(base: str, username: str) -> str:
    """The Cookie header of a fresh signed-in session, settled: the first page view stores
    the CSRF secret, after which the cookie stays the same for every request."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base}/login") as page:
            token = (await page.text()).split(CSRF_MARK)[1].split('"')[0]
        form = {"login": username, "password": SEEDED_PASSWORD, "csrf_token": token, "next": "/"}
        async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
            if answer.status != 303:
                raise RuntimeError(f"login as {username}: {answer.status}")
        async with http.get(f"{base}/", allow_redirects=False) as page:
            if page.status != 200 or CSRF_MARK not in await page.text():
                raise RuntimeError(f"home page as {username}: {page.status}")
        cookie = jar.filter_cookies(URL(base))[SESSION_COOKIE]
    return f"{SESSION_COOKIE}={cookie.value}"


async def personal_token(base: str, cookie: str) -> str:
    """A read-only personal access token of the signed-in reader, made on the settings page
    as a user makes one, for the Mastodon API's home timeline."""
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        async with http.get(f"{base}/settings/tokens") as page:
            token = (await page.text()).split(CSRF_MARK)[1].split('"')[0]
        form = {"name": "bench", "scopes": "read", "csrf_token": token}
        async with http.post(f"{base}/settings/tokens", data=form) as answer:
            text = await answer.text()
            if answer.status != 201:
                raise RuntimeError(f"personal access token: {answer.status}")
    return text.split(NEW_TOKEN_MARK)[1].split("<")[0]


async def deep_path(base: str, cookie: str) -> tuple[str, int]:
    """The timeline URL after DEEP_PAGES pages of 20, following next_cursor, and how many
    posts came before it (fewer than 1,000 only for a timeline that short)."""
    cursor, seen = None, 0
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        for _ in range(DEEP_PAGES):
            query = {"cursor": cursor} if cursor else {}
            async with http.get(f"{base}/api/snapline/v1/timeline", params=query) as answer:
                answer.raise_for_status()
                page = await answer.json()
            seen += len(page["items"])
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]
    return str(
        URL("/api/snapline/v1/timeline").with_query({"cursor": cursor} if cursor else {})
    ), seen


async def check_answer(url: str, headers: dict[str, str]) -> None:
    """Refuse to measure an answer other than a 200 with content: wrk counts a redirect to
    the login page as a success."""
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.get(url, allow_redirects=False) as answer,
    ):
        body = await answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url}: {answer.status} {body[:200]!r}")
        if answer.content_type == "application/json":
            found = await answer.json()
            if not (found if isinstance(found, list) else found["items"]):  # Mastodon: a list
                raise RuntimeError(f"{url}: no items")


async def drive(group: list[Case]) -> list[Load]:
    """Warm each case up, then at each number of connections run them one after another,
    so that figures compared with each other (page 1 and deep, the service and the
    ceiling) are measured as close together as possible: the machine's speed drifts by
    10-30 % over minutes, more than the differences looked for. A group of several cases
    runs forwards and then backwards (A B C C B A), and each case's figure combines its
    two runs, so that a steady drift weighs the same on all of them."""
    for case in group:
        await check_answer(case.url, case.headers)
        await wrk.run(case.url, max(CONNECTIONS), WARMUP_SECONDS, case.headers)
    runs: dict[Case, dict[int, list[wrk.Result]]] = {
        case: {connections: [] for connections in CONNECTIONS} for case in group
    }
    order = group + group[::-1] if len(group) > 1 else group
    for connections in CONNECTIONS:
        for case in order:
            got = await wrk.run(case.url, connections, LOAD_SECONDS, case.headers)
            runs[case][connections].append(got)
            print(
                f"  {case.endpoint}, {case.reader or '-'}, {connections} connections: "
                f"{got.requests_per_second:,.0f} requests/s, p50 {got.p50_ms:.1f} ms, "
                f"p99 {got.p99_ms:.1f} ms, {got.errors} errors",
                flush=True,
            )
    combined = {
        case: {connections: wrk.combined(found) for connections, found in runs[case].items()}
        for case in group
    }
    ceiling = next((case for case in group if not case.reader), None)
    beside = None
    if ceiling is not None:
        beside = {c: got.requests_per_second for c, got in combined[ceiling].items()}
    return [
        Load(case.endpoint, case.reader, combined[case], beside if case.reader else None)
        for case in group
    ]


async def readers(database_url: str) -> tuple[dict[str, tuple[int, str, int]], str]:
    """(id, username, following) for each kind of reader, and the most followed account,
    whose profile page is measured."""
    found = {}
    async with connection(database_url) as db:
        for kind in READER_KINDS:
            user_id = await db.fetchval(explain_timeline.READERS[kind])
            row = await db.fetchrow(
                "SELECT username, following_count FROM users WHERE id = $1", user_id
            )
            found[kind] = (user_id, row["username"], row["following_count"])
        popular = await db.fetchval(
            "SELECT username FROM users ORDER BY followers_count DESC, id LIMIT 1"
        )
    return found, popular


async def run(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    logs = RESULTS / "timeline-logs"
    logs.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    databases = ScratchDatabases(SERVER_URL, "snapline_bench")
    with tempfile.TemporaryDirectory(prefix="snapline-bench-") as scratch:
        try:
            names = {}
            for label in LABELS:
                print(f"seeding {USERS:,} users and {POSTS[label]:,} posts ...", flush=True)
                names[label] = await seed(processes, databases, label, logs)
            large = databases.url(names["1M"])
            changed = await trending_bench.engage(large)
            print(f"recomputing the trending rank of {changed:,} posts ...", flush=True)
            recompute = await trending_bench.recompute_cost(
                databases.url(names["1M"], "postgresql+asyncpg")
            )
            await trending_bench.mark_all_ranked(large)
            again = await trending_bench.recompute_cost(
                databases.url(names["1M"], "postgresql+asyncpg")
            )
            found, popular = await readers(large)
            for kind, (user_id, username, following) in found.items():
                print(f"{kind} reader: {username} (id {user_id}), follows {following:,}")
            ceiling_base = await start_ceiling(processes, large, found["median"][0], logs)
            base = await start_service(
                processes, databases.url(names["1M"], "postgresql+asyncpg"), logs, Path(scratch)
            )
            cookies = {kind: await sign_in(base, found[kind][1]) for kind in READER_KINDS}
            deep = {kind: await deep_path(base, cookies[kind]) for kind in READER_KINDS}
            timeline = base + "/api/snapline/v1/timeline"
            ceiling = f"{ceiling_base}/timeline"
            pages = {
                kind: [
                    Case("timeline page 1", kind, timeline, cookies[kind]),
                    Case("timeline deep", kind, base + deep[kind][0], cookies[kind]),
                ]
                for kind in READER_KINDS
            }
            median = cookies["median"]
            bearer = await personal_token(base, median)
            groups = [
                [Case("ceiling, with the timeline", "", ceiling), *pages["median"]],
                pages["light"],
                pages["heavy"],
                [
                    Case("ceiling, with the home page", "", ceiling),
                    Case("home page", "median", base + "/", median),
                ],
                [
                    Case("ceiling, with the Mastodon home timeline", "", ceiling),
                    Case(
                        "Mastodon home timeline",
                        "median",
                        base + "/api/v1/timelines/home?limit=20",
                        bearer=bearer,
                    ),
                ],
                [
                    Case("explore", "median", base + "/api/snapline/v1/explore", median),
                    Case("trending", "median", base + "/api/snapline/v1/trending", median),
                ],
                [Case(f"profile page (@{popular})", "median", f"{base}/@{popular}", median)],
            ]
            background = [await busy_cores(processes.pids)]
            measured = [load for group in groups for load in await drive(group)]
            ceilings = [load for load in measured if not load.reader]
            loads = [load for load in measured if load.reader]
            write = await trending_bench.write_rate(base, large, Path(scratch))
            background.append(await busy_cores(processes.pids))
            await processes.stop_all()
            print(f"SQL execution, median of {EXPLAIN_RUNS} EXPLAIN ANALYZE runs (ms):", flush=True)
            rows = await growth(
                {label: databases.url(name) for label, name in names.items()}, READER_KINDS
            )
            # Followed tags, on the 1,000,000-post database: the home page statement of
            # readers following no tag and ten, and posting with tags and mentions.
            print("Followed tags (SQL ms) and posting:", flush=True)
            url = databases.url(names["1M"])
            tags = await followed_tags.timeline(url, TAG_READER_KINDS)
            writes = await followed_tags.write_cost(url)
            print("Discovery statements (search, tag pages) ...", flush=True)
            discovery = await discovery_sql.measure(
                {label: databases.url(names[label]) for label in LABELS}
            )
            header = _header(found, deep, background)
            footer = [*discovery, "", f"Total run time: {time.monotonic() - began:.0f} s."]
            explore, trend = (
                next(load for load in loads if load.endpoint == name)
                for name in ("explore", "trending")
            )
            pairs = [
                (f"Snapline's API, {c} connections", explore.results[c], trend.results[c])
                for c in CONNECTIONS
            ]
            trending_lines = trending_bench.report(changed, recompute, again, write, pairs)
            trending_lines += ["| Target | Measured | Met |", "|---|---|---|"]
            for target, measured, met in trending_bench.verdicts(pairs, write):
                trending_lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
            text = markdown(
                header, loads, ceilings, rows, LABELS, footer, tags, writes, trending_lines
            )
            (RESULTS / "latest.md").write_text(text)
            print("\n" + text)
            return 0
        finally:
            await processes.stop_all()
            await databases.drop_all()


def _header(found, deep, background: list[float]) -> list[str]:
    readers_line = "; ".join(
        f"{kind} {username} (follows {following:,}; deep page after {deep[kind][1]:,} posts)"
        for kind, (_, username, following) in found.items()
    )
    return [
        "# Home timeline under load",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.machine()}, Python {platform.python_version()}). Data: "
        f"`python -m service seed --users {USERS} --posts N --seed {RANDOM_SEED} "
        f"--non-public-share {NON_PUBLIC_SHARE} --private-share {PRIVATE_SHARE}` with N = "
        f"{POSTS['1M']:,} (load) and {POSTS['100k']:,} (growth). Load: wrk, "
        f"{wrk.MAX_THREADS} threads, {LOAD_SECONDS} s per run after a {WARMUP_SECONDS} s "
        "warm-up (rows compared with each other run twice, A B B A, and combine both "
        "runs), service in one process with production settings.",
        "",
        f"Readers: {readers_line}.",
        "",
        "Other work on the machine, sampled while the benchmark was idle before and after "
        f"the load: {background[0]:.2f} and {background[1]:.2f} cores busy (near 0 for a "
        "clean run; otherwise every figure below is low and noisy).",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments = parser.parse_args()

    async def guarded() -> int:
        # SIGTERM (a CI timeout) ends the run like Ctrl-C does: through the cleanup above.
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await run(arguments)

    try:
        return asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; processes stopped and scratch databases dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
