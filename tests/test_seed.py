"""`python -m service seed`: demo data that looks real, in a database of its own (the suite's
shared database has other tests' users in it, and seed only fills an empty one)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from argon2 import PasswordHasher

from service import discovery, migrate
from service.cursor import MAX_ID, Position
from service.db import create_read_pool
from service.reads import posts, statuses
from service.reads.statements import reading
from service.seed import (
    HEAVY_FOLLOWS_MAX,
    HEAVY_FOLLOWS_MIN,
    SEEDED_PASSWORD,
    SeedRefused,
    follow_count,
    plan_population,
    seed,
)
from service.settings import SecuritySettings
from service.storage.urls import MediaLinks, UrlSigner, app_url
from tests.support import admin_execute, asyncpg_dsn, with_database

USERS = 200
POSTS = 5000
# The scale the follow distribution is described for (planned only, nothing inserted).
PLANNED_USERS = 10_000
CHEAP_ARGON2 = SecuritySettings(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
USERNAME = re.compile(r"^[A-Za-z0-9_]{3,30}$")
PAGE = 20
# How the reads name photos here: the app's own /media/ paths.
URLS = MediaLinks(app_url, UrlSigner("test"))
# A window this small leaves most pages to the fallback branch, at any seed.
SMALL_WINDOW_POSTS = 40
# Later than any post: the first page.
FAR = datetime(9999, 1, 1, tzinfo=UTC)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMMAND_TIMEOUT_SECONDS = 60

# Plainly the home timeline: own posts or a followed author's, newest first.
PLAIN_TIMELINE = """
    SELECT p.id, p.published_at FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.author_id = $1
            OR p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = $1))
       AND (p.published_at, p.id) < ($2, $3)
     ORDER BY p.published_at DESC, p.id DESC
     LIMIT $4
"""
# The reader's sixth-oldest post: the page after it holds the last five.
PLAIN_OLDEST = """
    SELECT p.id, p.published_at FROM posts p
     WHERE p.published_at IS NOT NULL
       AND (p.author_id = $1
            OR p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = $1))
     ORDER BY p.published_at, p.id
     LIMIT 6
"""


def run_seed(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNAPLINE_")}
    env.update(
        SNAPLINE_DATABASE_URL=database_url,
        SNAPLINE_SECURITY_ARGON2_TIME_COST=str(CHEAP_ARGON2.argon2_time_cost),
        SNAPLINE_SECURITY_ARGON2_MEMORY_KIB=str(CHEAP_ARGON2.argon2_memory_kib),
        SNAPLINE_SECURITY_ARGON2_PARALLELISM=str(CHEAP_ARGON2.argon2_parallelism),
    )
    return subprocess.run(
        [sys.executable, "-m", "service", "seed", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
    )


@pytest.fixture(scope="module")
def seeded(postgres_server_url: str) -> Iterator[tuple[str, str]]:
    """A fresh migrated database seeded through the command line: its URL and the
    command's output."""
    name = f"snapline_seed_{secrets.token_hex(4)}"
    asyncio.run(admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"'))
    url = with_database(postgres_server_url, name)
    try:
        migrate.upgrade(url)
        done = run_seed(url, f"--users={USERS}", f"--posts={POSTS}", "--seed=7")
        assert done.returncode == 0, done.stderr
        yield url, done.stdout
    finally:
        asyncio.run(admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
async def connection(seeded: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(asyncpg_dsn(seeded[0]))
    yield connection
    await connection.close()


async def test_the_command_says_what_it_made_and_the_password(connection, seeded):
    output = seeded[1]
    follows = await connection.fetchval("SELECT count(*) FROM follows")
    assert f"seeded {USERS} users, {follows} follows and {POSTS} posts" in output
    assert f'password "{SEEDED_PASSWORD}"' in output


async def test_counts_match_the_rows(connection):
    assert await connection.fetchval("SELECT count(*) FROM users") == USERS
    assert await connection.fetchval("SELECT count(*) FROM posts") == POSTS
    wrong = await connection.fetchval(
        """SELECT count(*) FROM users u
            WHERE post_count <> (SELECT count(*) FROM posts WHERE author_id = u.id)
               OR followers_count <> (SELECT count(*) FROM follows WHERE followed_id = u.id)
               OR following_count <> (SELECT count(*) FROM follows WHERE follower_id = u.id)"""
    )
    assert wrong == 0


async def test_posts_carry_hashtags_mentions_and_chinese_as_posting_stores_them(connection):
    """About a quarter of the posts are tagged, a few mention someone, some are in Chinese;
    their rows are those posting would have written (docs/discovery.md)."""
    posts = await connection.fetch(
        "SELECT id, body, mention_names, mention_ids FROM posts ORDER BY id"
    )
    tagged = await connection.fetch("SELECT post_id, name FROM post_tags JOIN tags ON id = tag_id")
    by_post: dict[int, set[str]] = {}
    for row in tagged:
        by_post.setdefault(row["post_id"], set()).add(row["name"])
    usernames = dict(await connection.fetch("SELECT lower(username), username FROM users"))
    ids = dict(await connection.fetch("SELECT username, id FROM users"))
    for post in posts:
        found = discovery.find(post["body"])
        assert by_post.get(post["id"], set()) == {name for name, _ in found.tags}
        names = [usernames[name] for name in found.mentions if name in usernames]
        assert post["mention_names"] == names
        assert post["mention_ids"] == [ids[name] for name in names]
    assert 0.15 < len(by_post) / POSTS < 0.35
    assert 0.03 < sum(1 for post in posts if post["mention_names"]) / POSTS < 0.15
    chinese = sum(1 for post in posts if re.search(r"[\u4e00-\u9fff]{4}", post["body"]))
    assert 0.08 < chinese / POSTS < 0.25
    wrong = await connection.fetchval(
        """SELECT count(*) FROM tags t
            WHERE post_count <> (SELECT count(*) FROM post_tags WHERE tag_id = t.id)"""
    )
    assert wrong == 0
    # Spellings of one tag are one tag, shown as first written.
    assert await connection.fetchval("SELECT count(*) FROM tags WHERE name = 'coffee'") == 1


async def test_follows_are_never_of_oneself_and_favour_popular_authors(connection):
    assert (
        await connection.fetchval("SELECT count(*) FROM follows WHERE follower_id = followed_id")
        == 0
    )
    following = [row[0] for row in await connection.fetch("SELECT following_count FROM users")]
    assert 0 in following  # newcomers who follow nobody yet
    assert statistics.median(following) < USERS / 3  # people do not follow everybody
    followers = [row[0] for row in await connection.fetch("SELECT followers_count FROM users")]
    assert max(followers) > 2 * statistics.median(followers)


def test_at_ten_thousand_users_a_few_follow_thousands_and_most_a_few_dozen():
    rng = random.Random(7)
    population = plan_population(rng, PLANNED_USERS)
    counts = [follow_count(rng, index, population) for index in range(PLANNED_USERS)]
    heavy = [count for count in counts if count >= HEAVY_FOLLOWS_MIN]
    assert len(heavy) == PLANNED_USERS // 500  # 0.2 %
    assert max(heavy) <= HEAVY_FOLLOWS_MAX
    assert 50 <= statistics.median(counts) <= 60
    assert 90 <= statistics.mean(counts) <= 115


async def test_posts_are_published_by_a_few_prolific_authors(connection):
    unpublished = await connection.fetchval(
        """SELECT count(*) FROM posts WHERE status <> 'published' OR published_at IS NULL
              OR published_at <> created_at OR body = ''
              OR created_at < now() - interval '366 days' OR created_at > now()"""
    )
    assert unpublished == 0
    counts = [
        row[0]
        for row in await connection.fetch("SELECT post_count FROM users WHERE post_count > 0")
    ]
    assert max(counts) > 20 * statistics.median(counts)


async def test_seeded_accounts_sign_in_with_the_documented_password(connection):
    rows = await connection.fetch(
        "SELECT username, email, password_hash, email_confirmed_at FROM users"
    )
    assert all(USERNAME.match(row["username"]) for row in rows)
    assert all(row["email"] == f"{row['username']}@example.com" for row in rows)
    assert all(row["email_confirmed_at"] is not None for row in rows)
    hashes = {row["password_hash"] for row in rows}
    assert len(hashes) == 1
    assert PasswordHasher().verify(hashes.pop(), SEEDED_PASSWORD)


async def test_a_database_with_users_is_refused_untouched(connection, seeded):
    with pytest.raises(SeedRefused, match="already has"):
        await seed(seeded[0], 10, 10, CHEAP_ARGON2)
    assert await connection.fetchval("SELECT count(*) FROM users") == USERS


async def _cursors(connection: asyncpg.Connection, user_id: int) -> list[Position | None]:
    """The first page, the page after the reader's 30th post, and a last page that is not
    full (which the statement cannot answer from the newest posts alone)."""
    newest = await connection.fetch(PLAIN_TIMELINE, user_id, FAR, 0, 30)
    oldest = await connection.fetch(PLAIN_OLDEST, user_id)
    return [None, *(Position(r["published_at"], r["id"]) for r in [*newest[-1:], *oldest[-1:]])]


def _small_window_timeline() -> str:
    """The service's statement looking through only the newest SMALL_WINDOW_POSTS posts, in
    asyncpg's placeholders: on a small database this sends many pages down the fallback
    branch after a partial window, which the real window size rarely does here."""
    return posts.home_rows(PAGE + 1, window=SMALL_WINDOW_POSTS)


async def test_home_timeline_is_own_and_followed_posts_newest_first(connection, seeded):
    """For every seeded reader and several cursors, the page (and whether there is a next
    one) is exactly the plain definition's, whichever way the statement finds it."""
    small_window = await connection.prepare(_small_window_timeline())
    pool = await create_read_pool(seeded[0], 1)
    try:
        async with reading(pool) as reader:
            for (user_id,) in await connection.fetch("SELECT id FROM users ORDER BY id"):
                for after in await _cursors(connection, user_id):
                    at, post_id = (after.at, after.id) if after else (FAR, 0)
                    expected = [
                        tuple(row)
                        for row in await connection.fetch(
                            PLAIN_TIMELINE, user_id, at, post_id, PAGE + 1
                        )
                    ]
                    page = await posts.home(reader, URLS, user_id, after, PAGE)
                    assert [(p.id, p.published_at) for p in page.items] == expected[:PAGE]
                    assert (page.next_cursor is not None) == (len(expected) > PAGE)
                    rows = await small_window.fetch(user_id, at, post_id)
                    assert [tuple(row) for row in rows] == expected
    finally:
        await pool.close()


# Plainly the Mastodon API's home timeline: the same posts, by status id between two bounds.
PLAIN_STATUSES = """
    SELECT p.id, p.status_id FROM posts p
     WHERE p.status_id IS NOT NULL AND p.status_id > $2 AND p.status_id < $3
       AND (p.author_id = $1
            OR p.author_id IN (SELECT followed_id FROM follows WHERE follower_id = $1))
     ORDER BY p.status_id {order}
     LIMIT $4
"""


async def test_home_statuses_are_the_same_posts_in_status_id_order(connection, seeded):
    """For every seeded reader, from the newest, after their 30th status (max_id) and from
    their sixth-oldest forwards (min_id), the page is exactly the plain definition's,
    whichever way the statement finds it."""
    small_windows = {
        order: await connection.prepare(
            posts.home_rows(PAGE, window=SMALL_WINDOW_POSTS, by=statuses.in_status_order(order))
        )
        for order in (statuses.NEWEST, statuses.OLDEST)
    }
    newest = PLAIN_STATUSES.format(order=statuses.NEWEST)
    oldest = PLAIN_STATUSES.format(order=statuses.OLDEST)
    pool = await create_read_pool(seeded[0], 1)
    try:
        async with reading(pool) as reader:
            for (user_id,) in await connection.fetch("SELECT id FROM users ORDER BY id"):
                thirtieth = await connection.fetch(newest, user_id, 0, MAX_ID, 30)
                sixth_oldest = await connection.fetch(oldest, user_id, 0, MAX_ID, 6)
                windows = [(0, MAX_ID, False)]
                windows += [(0, row["status_id"], False) for row in thirtieth[-1:]]
                windows += [(row["status_id"], MAX_ID, True) for row in sixth_oldest[-1:]]
                for above, below, oldest_first in windows:
                    plain = oldest if oldest_first else newest
                    expected = [
                        tuple(row)
                        for row in await connection.fetch(plain, user_id, above, below, PAGE)
                    ]
                    found = await statuses.home(
                        reader, URLS, user_id, above, below, oldest_first, PAGE
                    )
                    shown = [(item.post.id, item.post.status_id) for item in found]
                    assert shown == (expected[::-1] if oldest_first else expected)
                    order = statuses.OLDEST if oldest_first else statuses.NEWEST
                    rows = await small_windows[order].fetch(user_id, above, below)
                    assert [tuple(row) for row in rows] == expected
    finally:
        await pool.close()


def test_a_share_of_posts_is_unlisted_or_for_followers_and_the_rest_stays_the_same(
    postgres_server_url: str,
):
    """`--non-public-share`: about that share of the posts, half unlisted and half for
    followers only; the same seed makes the same people, follows and posts otherwise."""

    async def seeded_posts(share: str) -> list[asyncpg.Record]:
        name = f"snapline_seed_{secrets.token_hex(4)}"
        await admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"')
        url = with_database(postgres_server_url, name)
        try:
            await asyncio.to_thread(migrate.upgrade, url)
            args = ("--users=50", "--posts=2000", "--seed=11", f"--non-public-share={share}")
            done = await asyncio.to_thread(run_seed, url, *args)
            assert done.returncode == 0, done.stderr
            connection = await asyncpg.connect(asyncpg_dsn(url))
            try:
                return await connection.fetch(
                    "SELECT author_id, body, audience FROM posts ORDER BY id"
                )
            finally:
                await connection.close()
        finally:
            await admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')

    async def both() -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        return await seeded_posts("0"), await seeded_posts("0.2")

    public, mixed = asyncio.run(both())
    assert {row["audience"] for row in public} == {"public"}
    shares = {
        audience: sum(row["audience"] == audience for row in mixed) / len(mixed)
        for audience in ("public", "unlisted", "followers")
    }
    assert 0.75 < shares["public"] < 0.85
    assert 0.07 < shares["unlisted"] < 0.13 and 0.07 < shares["followers"] < 0.13
    strip = lambda rows: [(r["author_id"], r["body"]) for r in rows]  # noqa: E731
    assert strip(public) == strip(mixed)


def test_a_share_outside_zero_to_one_is_refused(postgres_server_url: str):
    done = run_seed(postgres_server_url, "--non-public-share=1.5")
    assert done.returncode == 2 and "between 0 and 1" in done.stderr


def test_a_share_of_accounts_is_private_and_their_posts_are_for_followers(
    postgres_server_url: str,
):
    """`--private-share`: about that share of the accounts private, each with a followers
    default, and none of their posts public."""

    async def seeded() -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        name = f"snapline_seed_{secrets.token_hex(4)}"
        await admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"')
        url = with_database(postgres_server_url, name)
        try:
            await asyncio.to_thread(migrate.upgrade, url)
            args = ("--users=200", "--posts=2000", "--seed=12", "--private-share=0.25")
            done = await asyncio.to_thread(run_seed, url, *args)
            assert done.returncode == 0, done.stderr
            connection = await asyncpg.connect(asyncpg_dsn(url))
            try:
                users = await connection.fetch("SELECT id, locked, default_audience FROM users")
                posts = await connection.fetch("SELECT author_id, audience FROM posts")
                return users, posts
            finally:
                await connection.close()
        finally:
            await admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')

    users, posts = asyncio.run(seeded())
    private = {row["id"] for row in users if row["locked"]}
    assert 0.15 < len(private) / len(users) < 0.35
    assert all(row["default_audience"] == "followers" for row in users if row["locked"])
    assert {row["audience"] for row in posts if row["author_id"] in private} <= {"followers"}
    assert {row["audience"] for row in posts if row["author_id"] not in private} == {"public"}
    refused = run_seed(postgres_server_url, "--private-share=-0.1")
    assert refused.returncode == 2 and "between 0 and 1" in refused.stderr
