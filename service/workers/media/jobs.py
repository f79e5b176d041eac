"""The media worker: every process runs one, on the polling worker (service/workers). It
claims jobs from ``media_jobs``, renders photos in the CPU executor, stores the renditions,
and records the result; failures retry with exponential backoff and jitter. A
``renditions`` job makes the widths for srcset of a photo processed before they existed,
from its stored display size (``admin media renditions`` enqueues them). A ``move`` job
carries a photo's objects between the public and the restricted kind of key
(domain/restricted.py).

Jobs are idempotent: object keys are fixed per job, so a job run twice (after a crash
between storing and recording) overwrites the same objects and leaves one result.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain import avatars, posts, restricted
from service.models import MediaOriginal
from service.storage import queue
from service.storage.backends import Storage, StorageError
from service.storage.urls import CONTENT_TYPES, rendition_key
from service.workers.liveness import Liveness
from service.workers.media import images
from service.workers.media.budget import PixelBudget
from service.workers.polling import JobTable, PollingWorker

log = logging.getLogger(__name__)

# Jobs one process works on at once: one per CPU executor thread, and while one job waits
# for storage the other renders.
LANES = 2
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
# A move starts over this many times when its photo changes while being copied, then
# waits for a retry.
MOVE_TRIES = 3
# Finished jobs are kept this long for inspection, then deleted.
DONE_RETENTION_DAYS = 7

JOB_COLUMNS = "id, kind, photo_id, user_id, key_prefix, attempts"
MEDIA_JOBS = JobTable("media_jobs", "done_at", columns=JOB_COLUMNS, lease_seconds=LEASE_SECONDS)


class PermanentFailure(Exception):
    """The job can never succeed (the original cannot be decoded): no retry."""


class MediaWorker(PollingWorker):
    name = "media"
    table = MEDIA_JOBS
    lanes = LANES
    retry_base_seconds = RETRY_BASE_SECONDS
    max_backoff_seconds = MAX_BACKOFF_SECONDS
    max_attempts = MAX_ATTEMPTS
    done_retention_days = DONE_RETENTION_DAYS

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        storage: Storage,
        executor: Executor,
        liveness: Liveness,
        budget: PixelBudget,
    ) -> None:
        super().__init__(sessionmaker, liveness)
        self.storage = storage
        self.executor = executor
        self.budget = budget

    async def _original(self, job: Row) -> bytes:
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

    async def _render(self, job: Row) -> images.Rendered:
        data = await self._original(job)
        return await self._render_data(data, images.PHOTO if job.kind == "photo" else images.AVATAR)

    async def _render_data(self, data: bytes, renditions: images.Renditions) -> images.Rendered:
        loop = asyncio.get_running_loop()
        try:
            cost = await loop.run_in_executor(self.executor, images.render_cost, data, renditions)
            return await self.budget.run(cost, self.executor, images.render, data, renditions)
        except Exception as error:  # the check at upload passed, so this file is hopeless
            raise PermanentFailure(f"{error.__class__.__name__}: {error}") from error

    async def _store(self, job: Row, rendered: images.Rendered, prefix: str | None = None) -> None:
        """Every rendition at once: a slow storage server costs one round trip, not six."""
        await asyncio.gather(
            *(
                self.storage.put(
                    f"{prefix or job.key_prefix}/{filename}",
                    data,
                    CONTENT_TYPES[filename.rsplit(".", 1)[1]],
                )
                for filename, data in rendered.files.items()
            )
        )

    async def _photo_target_exists(self, job: Row) -> bool:
        async with self.sessionmaker() as session:
            return await posts.photo_is_pending(session, job.photo_id)

    async def _run_photo(self, job: Row) -> None:
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
                session,
                job.photo_id,
                rendered.extension,
                rendered.width,
                rendered.height,
                [variant.as_record() for variant in rendered.variants],
                rendered.blurhash,
            )
            if not kept:  # the post was deleted while we worked
                await queue.enqueue_delete(session, job.key_prefix)
            await self._finish(job, session)

    async def _run_renditions(self, job: Row) -> None:
        async with self.sessionmaker() as session:
            lacking = await posts.photo_lacking_renditions(session, job.photo_id)
        if lacking is None:  # deleted meanwhile, or made already
            await self._finish(job)
            return
        # Where the photo is now: it may have moved since the job was recorded.
        prefix, extension = lacking
        display = await self.storage.get(rendition_key(prefix, "display", extension))
        rendered = await self._render_data(display, images.PHOTO_WIDTHS)
        await self._store(job, rendered, prefix)
        async with self.sessionmaker.begin() as session:
            kept = await posts.photo_renditions_ready(
                session,
                job.photo_id,
                prefix,
                [variant.as_record() for variant in rendered.variants],
                rendered.blurhash,
            )
            if not kept:  # deleted or moved while we worked, its delete perhaps before
                await queue.enqueue_delete(session, prefix)
            await self._finish(job, session)

    async def _run_move(self, job: Row) -> None:
        """Copy the photo's objects to the job's prefix, then switch the photo to it and
        record the old prefix's deletion in one transaction. Dying anywhere loses nothing:
        the copies are made again to the same keys, and the switch happens once."""
        target = job.key_prefix
        for _ in range(MOVE_TRIES):
            async with self.sessionmaker() as session:
                photo = await restricted.photo_to_move(session, job.photo_id, target)
                in_use = photo is None and await restricted.prefix_in_use(session, target)
            if photo is None:
                # Nothing (or no longer anything) to move: what an earlier attempt copied
                # goes, unless the photo already lives there.
                if not in_use:
                    await self.storage.delete_prefix(target)
                await self._finish(job)
                return
            await asyncio.gather(
                *(self.storage.copy(source, copy) for source, copy in photo.keys(target))
            )
            async with self.sessionmaker.begin() as session:
                if await restricted.photo_moved(session, job.photo_id, photo, target):
                    await self._finish(job, session)
                    return
            # The photo changed while its objects were copied: look again.
        raise StorageError(f"photo {job.photo_id} kept changing while it was moved")

    async def _run_avatar(self, job: Row) -> None:
        rendered = await self._render(job)
        await self._store(job, rendered)
        async with self.sessionmaker.begin() as session:
            unused = await avatars.avatar_ready(
                session, job.user_id, job.key_prefix, rendered.extension
            )
            if unused is not None:
                await queue.enqueue_delete(session, unused)
            await self._finish(job, session)

    async def _run_delete(self, job: Row) -> None:
        await self.storage.delete_prefix(job.key_prefix)
        await self._finish(job)

    async def _finish(self, job: Row, session: AsyncSession | None = None) -> None:
        """Mark the job done and drop its original, in ``session``'s transaction if given."""
        if session is None:
            async with self.sessionmaker.begin() as own:
                await self._finish(job, own)
            return
        await session.execute(delete(MediaOriginal).where(MediaOriginal.job_id == job.id))
        await self.mark_done(job, session)

    async def on_give_up(self, session: AsyncSession, job: Row) -> None:
        await session.execute(delete(MediaOriginal).where(MediaOriginal.job_id == job.id))
        if job.kind == "photo":
            await posts.photo_failed(session, job.photo_id)
        elif job.kind == "avatar":
            await avatars.avatar_failed(session, job.user_id, job.key_prefix)

    async def handle(self, job: Row) -> None:
        try:
            if job.kind == "photo":
                await self._run_photo(job)
            elif job.kind == "avatar":
                await self._run_avatar(job)
            elif job.kind == "renditions":
                await self._run_renditions(job)
            elif job.kind == "move":
                await self._run_move(job)
            else:
                await self._run_delete(job)
        except PermanentFailure as error:
            await self.give_up(job, error)
        except StorageError as error:  # storage down: no traceback, only a retry
            await self.failed(job, error)
