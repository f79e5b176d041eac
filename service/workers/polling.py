"""The polling worker that mail and media jobs run on. Every process runs one per queue.

A queue is a table of jobs with the columns ``attempts``, ``next_attempt_at``,
``claimed_by``, ``locked_until``, ``failed_at`` and ``last_error`` and a column set when a
job is done. A worker claims one due job at a time with ``FOR UPDATE SKIP LOCKED``, naming
itself and taking a lease; a job that fails comes back later with exponential backoff and
jitter, and after too many attempts it fails for good. A claim whose worker is dead (its
advisory lock is gone, see liveness.py) is taken over at once; the lease only covers a
holder that vanished without its connection closing. On a graceful stop, work in progress
gets a grace period, then is cancelled and its claim given back untouched.

Jobs must be idempotent: one cut off after its effect and before being marked done runs
again."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiojobs
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.backoff import backoff_seconds
from service.db import is_database_unavailable
from service.observability import JOB_FAILURES
from service.workers.liveness import LIVE_WORKER_IDS, Liveness

log = logging.getLogger(__name__)

# Other processes' new jobs are found by polling; this process's own are signalled at once.
POLL_INTERVAL_SECONDS = 1.0
# How much of an error is kept with the job.
ERROR_CHARS = 2000
# How often finished jobs past their retention are deleted.
SWEEP_INTERVAL_SECONDS = 3600


@dataclasses.dataclass(frozen=True)
class JobTable:
    """Where a queue's jobs are, and what a claim returns (``id`` and ``attempts`` among
    them). Names written in code, never taken from input."""

    name: str
    done_column: str
    columns: str
    lease_seconds: int

    def claim(self) -> Any:
        return text(
            f"""
            UPDATE {self.name}
               SET attempts = attempts + 1,
                   claimed_by = :worker,
                   locked_until = now() + interval '{self.lease_seconds} seconds'
             WHERE id = (
                SELECT id FROM {self.name}
                 WHERE {self.done_column} IS NULL AND failed_at IS NULL
                   AND next_attempt_at <= now()
                   AND (locked_until IS NULL
                        OR locked_until < now()
                        OR claimed_by NOT IN ({LIVE_WORKER_IDS}))
                 ORDER BY next_attempt_at, id
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED)
            RETURNING {self.columns}
            """
        )

    def release(self) -> Any:
        return text(
            f"""
            UPDATE {self.name} SET locked_until = NULL, attempts = attempts - 1
             WHERE id = :id AND claimed_by = :worker AND {self.done_column} IS NULL
            """
        )

    def retry(self) -> Any:
        return text(
            f"""
            UPDATE {self.name}
               SET next_attempt_at = now() + make_interval(secs => :delay),
                   locked_until = NULL, last_error = :error
             WHERE id = :id
            """
        )

    def fail(self) -> Any:
        return text(
            f"""
            UPDATE {self.name} SET failed_at = now(), locked_until = NULL, last_error = :error
             WHERE id = :id
            """
        )

    def sweep(self) -> Any:
        return text(
            f"DELETE FROM {self.name}"
            f" WHERE {self.done_column} < now() - make_interval(days => :days)"
        )

    def done(self) -> Any:
        return text(
            f"""
            UPDATE {self.name}
               SET {self.done_column} = now(), locked_until = NULL, last_error = NULL
             WHERE id = :id
            """
        )


class PollingWorker:
    """Subclasses name their queue and do one job in ``handle``; what a job's failure means
    is theirs to decide (``failed`` retries it, ``give_up`` ends it)."""

    # For logs and the failure metric.
    name: str
    table: JobTable
    # Jobs one process works on at once.
    lanes: int = 1
    # Retry delays double from the base up to the cap...
    retry_base_seconds: float
    max_backoff_seconds: float
    # ...until this many attempts, then the job fails for good.
    max_attempts: int
    # Finished jobs are kept this long (for `admin jobs status`), then deleted by the first
    # lane's housekeeping once an hour; None keeps them.
    done_retention_days: int | None = None

    def __init__(self, sessionmaker: async_sessionmaker, liveness: Liveness) -> None:
        self.sessionmaker = sessionmaker
        self.liveness = liveness
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._claim = self.table.claim()
        self._next_sweep = 0.0

    @property
    def worker_id(self) -> int:
        return self.liveness.worker_id

    def wake(self) -> None:
        """Jobs were committed by this process: start on them now, not at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def handle(self, job: Row) -> None:
        raise NotImplementedError

    async def housekeeping(self) -> None:
        """Run by one lane after each round of work: the sweep of finished jobs."""
        if self.done_retention_days is None or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        async with self.sessionmaker.begin() as session:
            await session.execute(self.table.sweep(), {"days": self.done_retention_days})

    async def on_give_up(self, session: AsyncSession, job: Row) -> None:
        """What else a job that failed for good changes, in the same transaction."""

    async def claim(self) -> Row | None:
        async with self.sessionmaker.begin() as session:
            return (await session.execute(self._claim, {"worker": self.worker_id})).one_or_none()

    async def mark_done(self, job: Row, session: AsyncSession | None = None) -> None:
        """In ``session``'s transaction if given, so the job is done exactly when its
        effect is recorded."""
        if session is None:
            async with self.sessionmaker.begin() as own:
                await self.mark_done(job, own)
            return
        await session.execute(self.table.done(), {"id": job.id})

    async def give_up(self, job: Row, error: BaseException) -> None:
        log.error("%s job %s failed for good: %s", self.name, job.id, error)
        async with self.sessionmaker.begin() as session:
            await session.execute(
                self.table.fail(), {"id": job.id, "error": str(error)[:ERROR_CHARS]}
            )
            await self.on_give_up(session, job)

    async def failed(self, job: Row, error: BaseException) -> None:
        """This attempt failed: try again later, or give up after the last attempt."""
        JOB_FAILURES.labels(self.name).inc()
        if job.attempts >= self.max_attempts:
            await self.give_up(job, error)
            return
        delay = backoff_seconds(job.attempts, self.retry_base_seconds, self.max_backoff_seconds)
        log.warning(
            "%s job %s attempt %s failed, retry in %.1f s: %s",
            self.name,
            job.id,
            job.attempts,
            delay,
            error,
        )
        async with self.sessionmaker.begin() as session:
            await session.execute(
                self.table.retry(),
                {
                    "id": job.id,
                    "delay": delay,
                    "error": f"{error.__class__.__name__}: {error}"[:ERROR_CHARS],
                },
            )

    async def release(self, job: Row) -> None:
        """Give a claimed job back untouched (at shutdown): any worker may take it now."""
        async with self.sessionmaker.begin() as session:
            await session.execute(self.table.release(), {"id": job.id, "worker": self.worker_id})

    async def run_job(self, job: Row) -> None:
        """``handle`` decides what the failures it knows mean; any other is this attempt's
        failure, retried later, except the database's own: then the lane waits, and the
        claim is picked up again when it lapses."""
        try:
            await self.handle(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release(job))
            raise
        except Exception as error:
            if is_database_unavailable(error):
                raise
            log.exception("%s job %s raised", self.name, job.id)
            await self.failed(job, error)

    async def run_pending(self) -> int:
        """Run jobs until none is due; returns how many were run. Nothing is claimed while
        this process's lock is not held: its claims could not be told from a dead one's."""
        done = 0
        while not self._stopping and self.liveness.alive.is_set():
            job = await self.claim()
            if job is None:
                break
            await self.run_job(job)
            done += 1
        return done

    async def _lane(self, number: int) -> None:
        while not self._stopping:
            try:
                await self.run_pending()
                if number == 0:
                    await self.housekeeping()
            except Exception as error:  # the worker must outlive database outages
                if is_database_unavailable(error):
                    log.warning("%s worker: database unavailable, retrying", self.name)
                else:
                    log.exception("%s worker error", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), POLL_INTERVAL_SECONDS)
            self._wakeup.clear()

    async def run(self) -> None:
        await asyncio.gather(*(self._lane(number) for number in range(self.lanes)))


@contextlib.asynccontextmanager
async def running(
    worker: PollingWorker, scheduler: aiojobs.Scheduler, grace_seconds: float
) -> AsyncIterator[None]:
    """Run ``worker`` in the background; on leaving, stop it, give the jobs in progress
    ``grace_seconds`` to finish, then cancel them, which gives their claims back."""
    working = await scheduler.spawn(worker.run())
    try:
        yield
    finally:
        worker.stop()
        with contextlib.suppress(TimeoutError):
            await working.wait(timeout=grace_seconds)
