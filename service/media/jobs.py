"""The media worker: every process runs one. It claims jobs from ``media_jobs`` with
``FOR UPDATE SKIP LOCKED`` and a lease, renders photos in the CPU executor, stores the
renditions, and records the result; failures retry with exponential backoff and jitter.

Jobs are idempotent: object keys are fixed per job, so a job run twice (after a crash
between storing and recording) overwrites the same objects and leaves one result.

A claim names the worker, and each worker holds a PostgreSQL advisory lock on its id for as
long as its process lives. When a process dies, even by SIGKILL, its connection closes and
the lock goes with it, so any other worker (or the restarted process) takes its jobs over
at once; the lease only covers a holder that vanished without its connection closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from concurrent.futures import Executor

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from service.backoff import backoff_seconds
from service.db import is_database_unavailable
from service.domain import posts
from service.media import avatars, images, queue
from service.media.budget import PixelBudget
from service.media.storage import Storage, StorageError
from service.media.urls import rendition_key
from service.models import MediaJob, MediaOriginal
from service.observability import JOB_FAILURES
from service.workers.liveness import ADVISORY_NAMESPACE, Liveness

log = logging.getLogger(__name__)

# Jobs one process works on at once: one per CPU executor thread, and while one job waits
# for storage the other renders.
LANES = 2
# Other processes' new jobs are found by polling; this process's own are signalled at once.
POLL_INTERVAL_SECONDS = 1.0
# A claim stays valid this long when its holder cannot be seen to die (a host that dropped
# off the network keeps its connection, and so its lock, until TCP gives up).
LEASE_SECONDS = 300
# Retry delays double from this up to the cap...
RETRY_BASE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10 * 60
# ...until this many attempts (about three days of a storage outage), then the job fails.
MAX_ATTEMPTS = 450
# On a graceful stop, jobs in progress get this long to finish before they are released.
STOP_GRACE_SECONDS = 5.0
# Finished jobs are kept this long for inspection, then deleted.
DONE_RETENTION_DAYS = 7
SWEEP_INTERVAL_SECONDS = 3600

CLAIM = text(
    f"""
    UPDATE media_jobs
       SET attempts = attempts + 1,
           claimed_by = :worker,
           locked_until = now() + interval '{LEASE_SECONDS} seconds'
     WHERE id = (
        SELECT id FROM media_jobs
         WHERE done_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
           AND (locked_until IS NULL
                OR locked_until < now()
                OR claimed_by NOT IN (
                    SELECT l.objid::bigint FROM pg_locks l
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                       AND l.classid = CAST({ADVISORY_NAMESPACE} AS oid)
                       AND l.database = (SELECT oid FROM pg_database
                                          WHERE datname = current_database())))
         ORDER BY next_attempt_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, photo_id, user_id, key_prefix, attempts
    """
)


class PermanentFailure(Exception):
    """The job can never succeed (the original cannot be decoded): no retry."""


@dataclasses.dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    photo_id: int | None
    user_id: int | None
    key_prefix: str
    attempts: int


class MediaWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        storage: Storage,
        executor: Executor,
        liveness: Liveness,
        budget: PixelBudget,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.storage = storage
        self.executor = executor
        self.liveness = liveness
        self.budget = budget
        self._wakeup = asyncio.Event()
        self._stopping = False
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

    async def claim(self) -> Claimed | None:
        async with self.sessionmaker.begin() as session:
            row = (await session.execute(CLAIM, {"worker": self.worker_id})).one_or_none()
        return None if row is None else Claimed(*row)

    async def _original(self, job: Claimed) -> bytes:
        async with self.sessionmaker() as session:
            parts = await session.scalars(
                select(MediaOriginal.data)
                .where(MediaOriginal.job_id == job.id)
                .order_by(MediaOriginal.part)
            )
            data = b"".join(parts)
        if not data:
            raise PermanentFailure("the original is missing")
        return data

    async def _render(self, job: Claimed) -> images.Rendered:
        data = await self._original(job)
        renditions = images.PHOTO if job.kind == "photo" else images.AVATAR
        loop = asyncio.get_running_loop()
        try:
            cost = await loop.run_in_executor(self.executor, images.render_cost, data, renditions)
            return await self.budget.run(cost, self.executor, images.render, data, renditions)
        except Exception as error:  # the check at upload passed, so this file is hopeless
            raise PermanentFailure(f"{error.__class__.__name__}: {error}") from error

    async def _store(self, job: Claimed, rendered: images.Rendered) -> None:
        """Both renditions at once: a slow storage server costs one round trip, not two."""
        await asyncio.gather(
            *(
                self.storage.put(
                    rendition_key(job.key_prefix, name, rendered.extension),
                    data,
                    rendered.content_type,
                )
                for name, data in rendered.files.items()
            )
        )

    async def _photo_target_exists(self, job: Claimed) -> bool:
        async with self.sessionmaker() as session:
            return await posts.photo_is_pending(session, job.photo_id)

    async def _run_photo(self, job: Claimed) -> None:
        if not await self._photo_target_exists(job):
            # Deleted (or failed) meanwhile: nothing to make; an earlier attempt may have
            # stored renditions before a crash, so remove whatever is there.
            await self.storage.delete_prefix(job.key_prefix)
            await self._finish(job)
            return
        rendered = await self._render(job)
        await self._store(job, rendered)
        async with self.sessionmaker.begin() as session:
            kept = await posts.photo_ready(
                session, job.photo_id, rendered.extension, rendered.width, rendered.height
            )
            if not kept:  # the post was deleted while we worked
                await queue.enqueue_delete(session, job.key_prefix)
            await self._finish(job, session)

    async def _run_avatar(self, job: Claimed) -> None:
        rendered = await self._render(job)
        await self._store(job, rendered)
        async with self.sessionmaker.begin() as session:
            unused = await avatars.avatar_ready(
                session, job.user_id, job.key_prefix, rendered.extension
            )
            if unused is not None:
                await queue.enqueue_delete(session, unused)
            await self._finish(job, session)

    async def _run_delete(self, job: Claimed) -> None:
        await self.storage.delete_prefix(job.key_prefix)
        await self._finish(job)

    async def _finish(self, job: Claimed, session=None) -> None:
        """Mark the job done and drop its original, in ``session``'s transaction if given."""
        if session is None:
            async with self.sessionmaker.begin() as own:
                await self._finish(job, own)
            return
        await session.execute(delete(MediaOriginal).where(MediaOriginal.job_id == job.id))
        await session.execute(
            update(MediaJob)
            .where(MediaJob.id == job.id)
            .values(done_at=text("now()"), locked_until=None, last_error=None)
        )

    async def _fail(self, job: Claimed, error: BaseException) -> None:
        log.error("media job %s (%s) failed for good: %s", job.id, job.kind, error)
        async with self.sessionmaker.begin() as session:
            await session.execute(delete(MediaOriginal).where(MediaOriginal.job_id == job.id))
            await session.execute(
                update(MediaJob)
                .where(MediaJob.id == job.id)
                .values(failed_at=text("now()"), locked_until=None, last_error=str(error)[:2000])
            )
            if job.kind == "photo":
                await posts.photo_failed(session, job.photo_id)
            elif job.kind == "avatar":
                await avatars.avatar_failed(session, job.user_id, job.key_prefix)

    async def _retry(self, job: Claimed, error: BaseException) -> None:
        JOB_FAILURES.labels("media").inc()
        if job.attempts >= MAX_ATTEMPTS:
            await self._fail(job, error)
            return
        delay = backoff_seconds(job.attempts, RETRY_BASE_SECONDS, MAX_BACKOFF_SECONDS)
        log.warning(
            "media job %s (%s) attempt %s failed, retry in %.1f s: %s",
            job.id,
            job.kind,
            job.attempts,
            delay,
            error,
        )
        async with self.sessionmaker.begin() as session:
            await session.execute(
                update(MediaJob)
                .where(MediaJob.id == job.id)
                .values(
                    next_attempt_at=text(f"now() + interval '{delay:.3f} seconds'"),
                    locked_until=None,
                    last_error=f"{error.__class__.__name__}: {error}"[:2000],
                )
            )

    async def release(self, job: Claimed) -> None:
        """Give a claimed job back untouched (at shutdown): any worker may take it now."""
        async with self.sessionmaker.begin() as session:
            await session.execute(
                update(MediaJob)
                .where(
                    MediaJob.id == job.id,
                    MediaJob.claimed_by == self.worker_id,
                    MediaJob.done_at.is_(None),
                )
                .values(locked_until=None, attempts=MediaJob.attempts - 1)
            )

    async def run_job(self, job: Claimed) -> None:
        try:
            if job.kind == "photo":
                await self._run_photo(job)
            elif job.kind == "avatar":
                await self._run_avatar(job)
            else:
                await self._run_delete(job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release(job))
            raise
        except PermanentFailure as error:
            await self._fail(job, error)
        except StorageError as error:
            await self._retry(job, error)
        except Exception as error:
            if is_database_unavailable(error):
                raise  # the lane waits; the claim is picked up again when it lapses
            log.exception("media job %s (%s) raised", job.id, job.kind)
            await self._retry(job, error)

    async def run_pending(self) -> int:
        """Run jobs until none is due; returns how many were run."""
        done = 0
        while not self._stopping and self.liveness.alive.is_set():
            job = await self.claim()
            if job is None:
                break
            await self.run_job(job)
            done += 1
        return done

    async def _sweep(self) -> None:
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS
        async with self.sessionmaker.begin() as session:
            await session.execute(
                delete(MediaJob).where(
                    MediaJob.done_at < text(f"now() - interval '{DONE_RETENTION_DAYS} days'")
                )
            )

    async def _lane(self, number: int) -> None:
        while not self._stopping:
            try:
                await self.run_pending()
                if number == 0:
                    await self._sweep()
            except Exception as error:  # the worker must outlive database outages
                if is_database_unavailable(error):
                    log.warning("media worker: database unavailable, retrying")
                else:
                    log.exception("media worker error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), POLL_INTERVAL_SECONDS)
            self._wakeup.clear()

    async def run(self) -> None:
        await asyncio.gather(*(self._lane(number) for number in range(LANES)))
