"""Fixed-window rate limits counted in PostgreSQL, so every process shares one count."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import RateLimitCounter, User


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
SIGNUP_NOTICES_PER_EMAIL = Limit("signup-notice-email", 3, 60 * 60)


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
    hits = (await session.execute(_counting(window))).scalar_one()
    return window.seconds_left if hits > limit.hits else None


def _counting(window: _Window, below: int | None = None):
    """The upsert that adds one hit to ``window``'s counter; with ``below``, only while the
    count is under it (it then returns no row)."""
    return (
        insert(RateLimitCounter)
        .values(bucket=window.bucket, window_start=window.start, hits=1)
        .on_conflict_do_update(
            index_elements=[RateLimitCounter.bucket, RateLimitCounter.window_start],
            set_={"hits": RateLimitCounter.hits + 1},
            where=None if below is None else RateLimitCounter.hits < below,
        )
        .returning(RateLimitCounter.hits)
    )


class LimitReached(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class Reservation:
    """Attempts counted before the work they guard, each in its window."""

    windows: tuple[_Window, ...]


async def reserve(session: AsyncSession, *uses: tuple[Limit, str]) -> Reservation:
    """Count one attempt against every (limit, key) before the guarded work runs, or raise
    LimitReached without counting it anywhere once any of them is full.

    Each count is one upsert that only adds while under the limit; its row lock holds until
    the transaction ends, so concurrent attempts, in any process, are granted one at a time
    and never more than ``limit.hits`` per window. A refused attempt raises, which rolls the
    caller's transaction back and with it the counts already taken for the other limits.
    Take them in the same order everywhere (address before account) so that no two
    transactions wait on each other's rows."""
    windows = []
    for limit, key in uses:
        window = _window(limit, key)
        counted = await session.execute(_counting(window, below=limit.hits))
        if counted.scalar_one_or_none() is None:
            raise LimitReached(window.seconds_left)
        windows.append(window)
    return Reservation(tuple(windows))


@dataclasses.dataclass(frozen=True)
class ActionLimits:
    """How often one kind of action that reaches other people (posting, commenting,
    liking, following) may be done: per account, more strictly while the account is young
    (where most floods come from: accounts made for them), and per client address."""

    per_account: Limit
    per_new_account: Limit
    per_address: Limit
    new_account: timedelta


async def reserve_action(
    session: AsyncSession, limits: ActionLimits, user_id: int, address: str
) -> Reservation:
    """Count one action by ``user_id`` from ``address``, or raise LimitReached. A young
    account counts in the same window as it will when older, against a smaller number."""
    young = await session.scalar(
        select(User.created_at > func.now() - limits.new_account).where(User.id == user_id)
    )
    per_account = limits.per_new_account if young else limits.per_account
    return await reserve(session, (limits.per_address, address), (per_account, str(user_id)))


async def refund(session: AsyncSession, reservation: Reservation) -> None:
    """Give the attempts back (in the windows they were taken in): the guarded work turned
    out to be no abuse, such as a login with the right password."""
    for window in reservation.windows:
        await session.execute(
            update(RateLimitCounter)
            .where(
                RateLimitCounter.bucket == window.bucket,
                RateLimitCounter.window_start == window.start,
                RateLimitCounter.hits > 0,
            )
            .values(hits=RateLimitCounter.hits - 1)
        )


class BatchedCounter:
    """Fixed-window counts for limits hit on every request, where one upsert per request
    would cost as much as the request itself (a bearer request's timeline is one read).

    Each process counts in memory and adds what it counted to the shared row every
    ``flush`` (about once a second, ratelimit_ctx), reading back the total all processes
    reached. A hit is judged against that total plus this process's unflushed hits, so
    the limit holds across processes to within one flush interval of traffic."""

    def __init__(self) -> None:
        # (bucket, window start) -> [hits not yet flushed, total the database last told]
        self._counts: dict[tuple[str, datetime], list[int]] = {}

    def hit(self, limit: Limit, key: str) -> tuple[int, float]:
        """Count one hit; returns (hits so far in the window, seconds until it ends)."""
        window = _window(limit, key)
        counts = self._counts.setdefault((window.bucket, window.start), [0, 0])
        counts[0] += 1
        return counts[0] + counts[1], window.seconds_left

    async def flush(self, session: AsyncSession) -> None:
        """Add the hits counted here to the shared counters; forget ended windows."""
        now = datetime.now(UTC)
        for (bucket, start), counts in list(self._counts.items()):
            pending = counts[0]
            if pending:
                total = await session.scalar(
                    insert(RateLimitCounter)
                    .values(bucket=bucket, window_start=start, hits=pending)
                    .on_conflict_do_update(
                        index_elements=[RateLimitCounter.bucket, RateLimitCounter.window_start],
                        set_={"hits": RateLimitCounter.hits + pending},
                    )
                    .returning(RateLimitCounter.hits)
                )
                counts[0] -= pending  # hits counted while the upsert ran stay pending
                counts[1] = total or 0
            elif start < now - MAX_BATCHED_WINDOW:
                del self._counts[(bucket, start)]


# Windows of batched counts are forgotten this long after they start.
MAX_BATCHED_WINDOW = timedelta(hours=1)


async def forget_expired(session: AsyncSession, older_than: datetime) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < older_than)
    )
