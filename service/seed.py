"""Demo data: ``python -m service seed --users N --posts M``.

Fills an empty, migrated database with confirmed users, follows and published posts shaped
like a real service: a few prolific authors write most posts (Zipf-like), most people follow
a few dozen accounts while a handful follow thousands, and popular authors collect most
followers. Everything is generated in Python from one random seed and streamed with COPY,
so 10,000 users and a million posts take about a minute on two cores, and the same
``--seed`` gives the same data (timestamps are relative to the moment the command runs).

Every seeded account signs in with the password ``password``: one Argon2 hash, computed
once, is shared by all of them. The command refuses to run on a database that already has
users, so seeded names and ids never collide with real accounts.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import asyncpg

from service import discovery
from service.db import asyncpg_dsn
from service.security import PasswordService
from service.settings import SecuritySettings

SEEDED_PASSWORD = "password"

# Everything happened within the past year; newcomers joined within the past week.
HISTORY_SECONDS = 365 * 24 * 3600.0
NEWCOMER_WINDOW_SECONDS = 7 * 24 * 3600.0
# Accounts opened recently that follow nobody and have not posted yet.
NEWCOMER_SHARE = 0.005
# An account is confirmed within this long of being created.
MAX_CONFIRM_DELAY_SECONDS = 3600.0

# Authorship: the author of popularity rank r (1 = most prolific) gets weight 1 / (r + offset).
# An offset of 2 gives, at 10,000 users and 1,000,000 posts, a median of ~24 posts per author
# and a top author with ~40,000; a smaller offset makes the top authors louder still.
ZIPF_RANK_OFFSET = 2.0

# Follows per account: log-normal around a median, capped, plus a few heavy followers. At
# 10,000 users this gives a median of ~55 and a mean of ~100 followed accounts.
MEDIAN_FOLLOWS = 55
FOLLOWS_LOG_SPREAD = 1.1
MAX_TYPICAL_FOLLOWS = 1500
# On small databases the median shrinks so that people do not follow everybody.
MEDIAN_FOLLOWS_SHARE_OF_USERS = 0.25
HEAVY_FOLLOWER_SHARE = 0.002
# From this many users on there is always at least one heavy follower.
HEAVY_FOLLOWER_MIN_USERS = 1000
HEAVY_FOLLOWS_MIN = 2000
HEAVY_FOLLOWS_MAX = 5000
# Share of follow picks drawn by popularity (the rest uniformly): popular authors collect
# most followers while quiet accounts still get some.
POPULAR_PICK_SHARE = 0.5

# Body sentences, in words.
MIN_BODY_WORDS = 3
MAX_BODY_WORDS = 18


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS = _words(
    "a about after again all almost always among and another any around at autumn away back "
    "beach before behind best better between big bike bird blue boat book bread bridge bright "
    "brother building but by cafe can city clear cloud coffee cold corner could dark day dinner "
    "dog down during early evening every far field finally first for forest friend from garden "
    "golden good great green harbour here hill home hot house in into just lake last late light "
    "little long look market morning mountain my near new next night north of old on one only "
    "or our out over park path people photo quiet rain really red river road roof room sea "
    "shadow sister sky small snow so some spring station still street summer sun sunset "
    "tea the then there this through today tonight town train tree under up view walk warm "
    "water way week weekend west what when while white wind window winter with yesterday"
)
_FIRST_NAMES = _words(
    "Ada Ali Ana Ben Chen Chloe Dan Eva Femi Gia Hana Ivan Jon Kai Lea Luca Maya Mei Nia Noah "
    "Omar Pia Raj Rosa Sam Sara Taro Uma Vera Yara Zoe"
)
_LAST_NAMES = _words(
    "Abe Berg Costa Diaz Evans Fischer Garcia Haddad Ito Jensen Kim Larsen Moreau Nakamura "
    "Novak Okafor Patel Quinn Rossi Silva Tanaka Ueda Varga Weber Xu Young Zhang"
)
_PUNCTUATION = ".!?"
# A share of the posts is in Chinese, written without spaces between words.
CHINESE_SHARE = 0.15
_CHINESE_WORDS = _words(
    "今天 天气 很好 我们 去 公园 散步 早上 晚上 城市 朋友 一起 看 日落 海边 山上 下雨 猫 狗 "
    "照片 拍了 一张 美丽的 风景 周末 火车 旅行 回家 家人 晚饭 喝茶 咖啡 书 安静的 街道 春天 "
    "夏天 秋天 冬天 雪 花 树 河 桥 窗外 阳光 月亮"
)
_CHINESE_PUNCTUATION = "。！？"
# Hashtags, popular first (picked Zipf-like), some in several spellings that are one tag.
_TAGS = _words(
    "photography Photography travel 旅行 coffee Coffee 咖啡 sunset nature food cats 猫 "
    "streetphotography city mountains Café café beach architecture 风景 autumn winter "
    "spring summer film blackandwhite dogs garden books rain snow hiking 周末 bikes trains "
    "portrait night sea river tea 喝茶 market flowers birds 35mm goldenhour weekend"
)
_TAG_WEIGHTS = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(_TAGS))))
# Shares of posts with hashtags (one to three) and with a mention (of anyone seeded).
TAGGED_SHARE = 0.25
MENTION_SHARE = 0.08

USER_COLUMNS = (
    "username",
    "email",
    "password_hash",
    "display_name",
    "email_confirmed_at",
    "created_at",
)
FOLLOW_COLUMNS = ("follower_id", "followed_id", "created_at")
POST_COLUMNS = ("author_id", "body", "status", "created_at", "published_at", "audience")


class SeedRefused(RuntimeError):
    """The database is not one the seed may fill (it has users, or is not migrated)."""


@dataclasses.dataclass(frozen=True)
class SeedReport:
    users: int
    follows: int
    posts: int
    random_seed: int
    seconds: float


@dataclasses.dataclass
class Population:
    """Who is who, by position 0..n-1 (the row order of the users COPY)."""

    created: list[float]  # seconds since the start of the history
    newcomers: set[int]
    heavy: set[int]
    # Cumulative popularity weights over all users (zero for newcomers), for bisect picks.
    popularity: list[float]


def _cumulative_popularity(rng: random.Random, users: int, newcomers: set[int]) -> list[float]:
    veterans = [index for index in range(users) if index not in newcomers]
    rng.shuffle(veterans)  # popularity is unrelated to sign-up order
    weights = [0.0] * users
    for rank, index in enumerate(veterans, start=1):
        weights[index] = 1.0 / (rank + ZIPF_RANK_OFFSET)
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _post_times_and_authors(
    rng: random.Random, population: Population, posts: int
) -> tuple[list[float], list[int]]:
    """Post times in ascending order (so ids grow with time, as in production) and the
    author of each."""
    times = sorted(rng.random() * HISTORY_SECONDS for _ in range(posts))
    cumulative = population.popularity
    authors = [_pick(rng, cumulative) for _ in range(posts)]
    return times, authors


def plan_population(rng: random.Random, users: int) -> Population:
    """Who joins when, who is popular, who is new, and who follows thousands."""
    newcomers = set(rng.sample(range(users), int(users * NEWCOMER_SHARE)))
    heavy_count = round(users * HEAVY_FOLLOWER_SHARE)
    if users >= HEAVY_FOLLOWER_MIN_USERS:
        heavy_count = max(1, heavy_count)
    veterans = [index for index in range(users) if index not in newcomers]
    heavy = set(rng.sample(veterans, min(heavy_count, len(veterans))))
    created = [
        HISTORY_SECONDS - rng.random() * NEWCOMER_WINDOW_SECONDS
        if index in newcomers
        else rng.random() * HISTORY_SECONDS
        for index in range(users)
    ]
    popularity = _cumulative_popularity(rng, users, newcomers)
    return Population(created, newcomers, heavy, popularity)


def _open_accounts_before_first_posts(
    rng: random.Random, population: Population, times: list[float], authors: list[int]
) -> None:
    """Nobody posts before having an account: move each author's sign-up before their first
    post. Prolific authors thereby turn out to be old accounts, as they usually are."""
    first_post: dict[int, float] = {}
    for at, author in zip(times, authors, strict=True):
        first_post.setdefault(author, at)
    for author, at in first_post.items():
        if population.created[author] > at:
            population.created[author] = rng.random() * at


def _display_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _user_records(
    rng: random.Random, population: Population, password_hash: str, start: datetime
) -> Iterator[tuple]:
    for index, created_offset in enumerate(population.created):
        username = _username(index, len(population.created))
        created = start + timedelta(seconds=created_offset)
        confirmed_offset = min(
            created_offset + rng.random() * MAX_CONFIRM_DELAY_SECONDS, HISTORY_SECONDS
        )
        yield (
            username,
            f"{username}@example.com",
            password_hash,
            _display_name(rng),
            start + timedelta(seconds=confirmed_offset),
            created,
        )


def follow_count(rng: random.Random, index: int, population: Population) -> int:
    """How many accounts user ``index`` follows."""
    others = len(population.created) - 1
    if index in population.newcomers:
        return 0
    if index in population.heavy:
        return min(rng.randint(HEAVY_FOLLOWS_MIN, HEAVY_FOLLOWS_MAX), others)
    median = min(MEDIAN_FOLLOWS, others * MEDIAN_FOLLOWS_SHARE_OF_USERS)
    if median <= 0:
        return 0
    wanted = round(rng.lognormvariate(math.log(median), FOLLOWS_LOG_SPREAD))
    return max(1, min(wanted, MAX_TYPICAL_FOLLOWS, others))


def _followed_by(rng: random.Random, index: int, count: int, population: Population) -> set[int]:
    """``count`` distinct accounts other than ``index``: half the picks by popularity, half
    uniform, which also bounds the retries when someone follows nearly everybody."""
    users = len(population.created)
    chosen: set[int] = set()
    while len(chosen) < count:
        if rng.random() < POPULAR_PICK_SHARE:
            target = _pick(rng, population.popularity)
        else:
            target = rng.randrange(users)
        if target != index:
            chosen.add(target)
    return chosen


def _follow_records(
    rng: random.Random, population: Population, ids: Sequence[int], start: datetime
) -> Iterator[tuple]:
    created = population.created
    for index in range(len(created)):
        count = follow_count(rng, index, population)
        for target in _followed_by(rng, index, count, population):
            # A follow happens after both accounts exist.
            earliest = max(created[index], created[target])
            at = earliest + rng.random() * (HISTORY_SECONDS - earliest)
            yield (ids[index], ids[target], start + timedelta(seconds=at))


def _sentence(rng: random.Random) -> str:
    if rng.random() < CHINESE_SHARE:
        words = rng.choices(_CHINESE_WORDS, k=rng.randint(MIN_BODY_WORDS, MAX_BODY_WORDS))
        return "".join(words) + rng.choice(_CHINESE_PUNCTUATION)
    words = rng.choices(_WORDS, k=rng.randint(MIN_BODY_WORDS, MAX_BODY_WORDS))
    return " ".join(words).capitalize() + rng.choice(_PUNCTUATION)


def _username(index: int, users: int) -> str:
    return f"user{index + 1:0{max(5, len(str(users)))}d}"


def _body(rng: random.Random, users: int) -> str:
    body = _sentence(rng)
    if rng.random() < MENTION_SHARE:
        body = f"@{_username(rng.randrange(users), users)} {body}"
    if rng.random() < TAGGED_SHARE:
        count = rng.choice((1, 1, 1, 2, 2, 3))
        tags = {_TAGS[bisect.bisect(_TAG_WEIGHTS, rng.random() * _TAG_WEIGHTS[-1])]
                for _ in range(count)}  # fmt: skip
        body += " " + " ".join(f"#{tag}" for tag in sorted(tags))
    return body


@dataclasses.dataclass
class Discovered:
    """What the seeded posts tag and mention, by the posts' row order."""

    tags: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)
    mentions: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def _post_records(
    rng: random.Random,
    times: Sequence[float],
    authors: Sequence[int],
    ids: Sequence[int],
    start: datetime,
    audiences: Iterator[str],
    found: Discovered,
) -> Iterator[tuple]:
    for index, (at, author) in enumerate(zip(times, authors, strict=True)):
        published = start + timedelta(seconds=at)
        body = _body(rng, len(ids))
        if "#" in body or "@" in body:
            tags, mentions = discovery.find(body)
            found.tags.extend((index, name, shown) for name, shown in tags)
            found.mentions.extend((index, name) for name in mentions)
        yield (ids[author], body, "published", published, published, next(audiences))


def _audiences(random_seed: int, non_public_share: float) -> Iterator[str]:
    """Each post's audience: a share ``non_public_share`` of them unlisted or for followers
    only, half each. Drawn from a generator of its own, so that the rest of a seed's data is
    the same whatever the share."""
    rng = random.Random(f"audiences {random_seed}")
    while True:
        if non_public_share and rng.random() < non_public_share:
            yield rng.choice(("unlisted", "followers"))
        else:
            yield "public"


async def _insert_discovered(
    connection: asyncpg.Connection, found: Discovered, post_ids: Sequence[int]
) -> None:
    """The posts' tags and mentions, as posting stores them (domain.mentions), in bulk:
    through scratch tables, with the tags' count set once at the end rather than by the
    trigger for each row."""
    await connection.execute(
        "CREATE TEMPORARY TABLE seed_tags (post_id bigint, name text, display text)"
        " ON COMMIT DROP;"
        "CREATE TEMPORARY TABLE seed_mentions (post_id bigint, name text, position integer)"
        " ON COMMIT DROP"
    )
    await connection.copy_records_to_table(
        "seed_tags", records=((post_ids[i], name, shown) for i, name, shown in found.tags)
    )
    await connection.copy_records_to_table(
        "seed_mentions",
        records=((post_ids[i], name, n) for n, (i, name) in enumerate(found.mentions)),
    )
    await connection.execute(
        """
        INSERT INTO tags (name, display)
        SELECT DISTINCT ON (name) name, display FROM seed_tags ORDER BY name, post_id;
        ALTER TABLE post_tags DISABLE TRIGGER post_tags_count;
        INSERT INTO post_tags (post_id, tag_id, status_id, published_at, author_id, audience)
        SELECT p.id, t.id, p.status_id, p.published_at, p.author_id, p.audience
          FROM seed_tags s JOIN tags t ON t.name = s.name JOIN posts p ON p.id = s.post_id;
        ALTER TABLE post_tags ENABLE TRIGGER post_tags_count;
        UPDATE tags t SET post_count = c.n
          FROM (SELECT tag_id, count(*) AS n FROM post_tags GROUP BY tag_id) c
         WHERE t.id = c.tag_id;
        INSERT INTO post_mentions (post_id, user_id)
        SELECT s.post_id, u.id FROM seed_mentions s JOIN users u ON lower(u.username) = s.name;
        UPDATE posts p SET mention_names = m.names, mention_ids = m.ids
          FROM (SELECT s.post_id, array_agg(u.username ORDER BY s.position) AS names,
                       array_agg(u.id ORDER BY s.position) AS ids
                  FROM seed_mentions s JOIN users u ON lower(u.username) = s.name
                 GROUP BY s.post_id) m
         WHERE p.id = m.post_id
        """
    )


# Counters are set from the rows, one aggregate each, once all rows are in.
_COUNTER_UPDATES = (
    """
    UPDATE users u SET post_count = c.n
      FROM (SELECT author_id, count(*) AS n FROM posts GROUP BY author_id) c
     WHERE u.id = c.author_id
    """,
    """
    UPDATE users u SET followers_count = c.n
      FROM (SELECT followed_id, count(*) AS n FROM follows GROUP BY followed_id) c
     WHERE u.id = c.followed_id
    """,
    """
    UPDATE users u SET following_count = c.n
      FROM (SELECT follower_id, count(*) AS n FROM follows GROUP BY follower_id) c
     WHERE u.id = c.follower_id
    """,
)


async def _hash_password(security: SecuritySettings) -> str:
    with ThreadPoolExecutor(max_workers=1) as executor:
        return await PasswordService(security, executor).hash(SEEDED_PASSWORD)


async def _check_empty(connection: asyncpg.Connection) -> None:
    try:
        # Writers wait until the seed commits, so the ids read back are exactly ours.
        await connection.execute("LOCK TABLE users IN EXCLUSIVE MODE")
    except asyncpg.UndefinedTableError as error:
        raise SeedRefused(
            "the database has no users table; run `python -m service migrate` first"
        ) from error
    existing = await connection.fetchval("SELECT count(*) FROM users")
    if existing:
        raise SeedRefused(
            f"the database already has {existing} users; seed only fills an empty database"
        )


async def _insert(
    connection: asyncpg.Connection,
    rng: random.Random,
    population: Population,
    posts: tuple[list[float], list[int]],
    password_hash: str,
    audiences: Iterator[str],
) -> int:
    """Insert users, follows and posts; the number of follows inserted."""
    start = datetime.now(UTC) - timedelta(seconds=HISTORY_SECONDS)
    await connection.copy_records_to_table(
        "users",
        records=_user_records(rng, population, password_hash, start),
        columns=USER_COLUMNS,
    )
    ids = [row[0] for row in await connection.fetch("SELECT id FROM users ORDER BY id")]
    follow_status = await connection.copy_records_to_table(
        "follows", records=_follow_records(rng, population, ids, start), columns=FOLLOW_COLUMNS
    )
    times, authors = posts
    found = Discovered()
    await connection.copy_records_to_table(
        "posts",
        records=_post_records(rng, times, authors, ids, start, audiences, found),
        columns=POST_COLUMNS,
    )
    post_ids = [row[0] for row in await connection.fetch("SELECT id FROM posts ORDER BY id")]
    await _insert_discovered(connection, found, post_ids)
    for statement in _COUNTER_UPDATES:
        await connection.execute(statement)
    return int(follow_status.split()[-1])


async def _make_private(
    connection: asyncpg.Connection, random_seed: int, private_share: float
) -> None:
    """A share ``private_share`` of the accounts private, as their owners would have made
    them: new followers ask, the default audience is followers only, and their public posts
    are for followers only too. Drawn from a generator of its own, as the audiences are."""
    if not private_share:
        return
    rng = random.Random(f"private accounts {random_seed}")
    ids = [row[0] for row in await connection.fetch("SELECT id FROM users ORDER BY id")]
    chosen = [user_id for user_id in ids if rng.random() < private_share]
    await connection.execute(
        "UPDATE users SET locked = true, default_audience = 'followers'"
        " WHERE id = ANY($1::bigint[])",
        chosen,
    )
    await connection.execute(
        "UPDATE posts SET audience = 'followers'"
        " WHERE author_id = ANY($1::bigint[]) AND audience = 'public'",
        chosen,
    )


async def seed(
    database_url: str,
    users: int,
    posts: int,
    security: SecuritySettings,
    random_seed: int | None = None,
    non_public_share: float = 0.0,
    private_share: float = 0.0,
) -> SeedReport:
    """Fill an empty migrated database with ``users`` accounts and ``posts`` posts, a share
    ``non_public_share`` of the posts unlisted or for followers only and a share
    ``private_share`` of the accounts private (their posts for followers only). Raises
    SeedRefused, and changes nothing, if the database has users or no schema."""
    if users < 1 or posts < 0:
        raise ValueError("need at least one user and a non-negative number of posts")
    if not 0 <= non_public_share <= 1:
        raise ValueError("the share of non-public posts is between 0 and 1")
    if not 0 <= private_share <= 1:
        raise ValueError("the share of private accounts is between 0 and 1")
    began = time.monotonic()
    if random_seed is None:
        random_seed = random.SystemRandom().randrange(2**31)
    rng = random.Random(random_seed)
    population = plan_population(rng, users)
    timeline = _post_times_and_authors(rng, population, posts)
    _open_accounts_before_first_posts(rng, population, *timeline)
    password_hash = await _hash_password(security)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            await _check_empty(connection)
            audiences = _audiences(random_seed, non_public_share)
            follows = await _insert(connection, rng, population, timeline, password_hash, audiences)
            await _make_private(connection, random_seed, private_share)
        # VACUUM as well as ANALYZE: fresh statistics for the planner, and a visibility map
        # so index-only scans work from the first query instead of after autovacuum.
        await connection.execute(
            "VACUUM (ANALYZE) users, follows, posts, tags, post_tags, post_mentions"
        )
    finally:
        await connection.close()
    return SeedReport(users, follows, posts, random_seed, time.monotonic() - began)
