"""Fixed-window rate limits counted in PostgreSQL, so every process shares one count."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import RateLimitCounter


@dataclasses.dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    window_seconds: int


# Failed logins: enough for typos, far too few for guessing.
LOGIN_FAILURES_PER_ACCOUNT = Limit("login-account", 10, 15 * 60)
LOGIN_FAILURES_PER_ADDRESS = Limit("login-address", 50, 15 * 60)
# Anything that sends an email: limits what one client can make us send to a stranger.
SIGNUPS_PER_ADDRESS = Limit("signup-address", 30, 60 * 60)
RESET_MAILS_PER_ADDRESS = Limit("reset-address", 20, 60 * 60)
RESET_MAILS_PER_EMAIL = Limit("reset-email", 3, 60 * 60)
CONFIRM_MAILS_PER_USER = Limit("confirm-user", 3, 60 * 60)


@dataclasses.dataclass(frozen=True)
class _Window:
    bucket: str
    start: datetime
    seconds_left: float


def _window(limit: Limit, key: str) -> _Window:
    now = time.time()
    start = math.floor(now / limit.window_seconds) * limit.window_seconds
    return _Window(
        bucket=f"{limit.name}:{key.lower()}"[:300],
        start=datetime.fromtimestamp(start, UTC),
        seconds_left=max(1.0, start + limit.window_seconds - now),
    )


async def hit(session: AsyncSession, limit: Limit, key: str) -> float | None:
    """Count one hit against ``limit`` for ``key``. Returns None while within the limit,
    else the seconds until the window ends (for Retry-After)."""
    window = _window(limit, key)
    statement = (
        insert(RateLimitCounter)
        .values(bucket=window.bucket, window_start=window.start, hits=1)
        .on_conflict_do_update(
            index_elements=[RateLimitCounter.bucket, RateLimitCounter.window_start],
            set_={"hits": RateLimitCounter.hits + 1},
        )
        .returning(RateLimitCounter.hits)
    )
    hits = (await session.execute(statement)).scalar_one()
    return window.seconds_left if hits > limit.hits else None


async def is_limited(session: AsyncSession, limit: Limit, key: str) -> float | None:
    """Like ``hit`` but without counting: is ``key`` over the limit right now?"""
    window = _window(limit, key)
    hits = await session.scalar(
        select(RateLimitCounter.hits).where(
            RateLimitCounter.bucket == window.bucket, RateLimitCounter.window_start == window.start
        )
    )
    return window.seconds_left if (hits or 0) >= limit.hits else None


async def forget_expired(session: AsyncSession, older_than: datetime) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < older_than)
    )
