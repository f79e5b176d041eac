"""The account worker: every process runs one, on the polling worker (service/workers), for
the jobs of ``account_jobs``:

- ``export``: build the archive an owner asked for (service/domain/exports.py) as a zip
  file on disk, written on a thread of its own with every photo streamed into it from
  storage a chunk at a time, store it, and mail its owner the link;
- ``removal``: once an owner's grace period is over, delete the account
  (service/domain/deletion.py). The job is due when the grace period ends.

Both are idempotent: an archive built twice is stored twice under the same key, and a
removal finds nothing left to remove."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain import deletion, exports
from service.keys import (
    account_worker_key,
    liveness_key,
    mail_templates_key,
    mail_worker_key,
    media_worker_key,
    scheduler_key,
    sessionmaker_key,
    settings_key,
    spool_dir_key,
    storage_key,
)
from service.models import Export
from service.settings import AccountSettings, AppSettings
from service.storage.backends import Storage, StorageError
from service.storage.spool import ARCHIVE_SUFFIX
from service.workers.liveness import Liveness
from service.workers.mail import compose, enqueue, mail_language
from service.workers.polling import JobTable, PollingWorker, running

log = logging.getLogger(__name__)

# An archive of a large account takes minutes to build and store: its claim must outlast
# that, or a second worker would start the same archive while the first still writes.
LEASE_SECONDS = 3600
RETRY_BASE_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 30 * 60
# About two days of failures at the cap (storage down), then the export fails for good
# and its owner may ask again; a removal that fails for good waits for the operator.
MAX_ATTEMPTS = 100
STOP_GRACE_SECONDS = 5.0
# Finished jobs are kept this long for inspection, then deleted.
DONE_RETENTION_DAYS = 7
# The route the emailed link names (service/routes.py).
DOWNLOAD_ROUTE = "settings_export_download"

JOB_COLUMNS = "id, kind, user_id, export_id, attempts"
ACCOUNT_JOBS = JobTable("account_jobs", "done_at", columns=JOB_COLUMNS, lease_seconds=LEASE_SECONDS)


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


class ArchiveWriter:
    """A zip file on disk, every call on one thread of its own (a ZipFile is not to be
    shared between threads), so the event loop never waits on the disk or on deflate."""

    def __init__(self, path: Path, executor: Executor) -> None:
        self.path = path
        self.executor = executor
        self._zip: zipfile.ZipFile | None = None

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def __aenter__(self) -> ArchiveWriter:
        self._zip = await self._run(
            lambda: zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._zip is not None
        await self._run(self._zip.close)

    async def add_json(self, name: str, document: Any) -> None:
        assert self._zip is not None
        data = await self._run(_json_bytes, document)
        await self._run(self._zip.writestr, name, data)

    async def add_stream(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """A stored object, a chunk at a time: photos are compressed already, so they are
        stored as they are."""
        assert self._zip is not None
        info = zipfile.ZipInfo(name, time.gmtime()[:6])
        info.compress_type = zipfile.ZIP_STORED
        entry = await self._run(lambda: self._zip.open(info, "w", force_zip64=True))
        try:
            async for chunk in chunks:
                await self._run(entry.write, chunk)
        finally:
            await self._run(entry.close)


class AccountWorker(PollingWorker):
    name = "account"
    table = ACCOUNT_JOBS
    retry_base_seconds = RETRY_BASE_SECONDS
    max_backoff_seconds = MAX_BACKOFF_SECONDS
    max_attempts = MAX_ATTEMPTS
    done_retention_days = DONE_RETENTION_DAYS

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        liveness: Liveness,
        storage: Storage,
        spool: Path,
        executor: Executor,
        settings: AccountSettings,
        app: AppSettings,
        templates: jinja2.Environment,
        link_for: Callable[[int], str],
        wake: Callable[[], None],
    ) -> None:
        super().__init__(sessionmaker, liveness)
        self.storage = storage
        self.spool = spool
        self.executor = executor
        self.lifetime = timedelta(seconds=settings.export_lifetime_seconds)
        self.app = app
        self.templates = templates
        self.link_for = link_for
        # Pokes the mail and media workers: a mail or delete jobs were just committed.
        self.wake_others = wake

    async def _contents(self, export_id: int) -> tuple[Export, exports.ArchiveContents] | None:
        async with self.sessionmaker() as session:
            # One snapshot: the posts, comments and files agree with each other.
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            export = await session.get(Export, export_id)
            if export is None or export.ready_at is not None:
                return None  # its account was deleted, or an earlier attempt finished it
            contents = await exports.archive_contents(session, export.user_id)
        return None if contents is None else (export, contents)

    async def _write(self, path: Path, contents: exports.ArchiveContents) -> int:
        async with ArchiveWriter(path, self.executor) as archive:
            await archive.add_json("profile.json", contents.profile)
            await archive.add_json("posts.json", contents.posts)
            await archive.add_json("comments.json", contents.comments)
            await archive.add_json("warnings.json", contents.warnings)
            for item in contents.files:
                await archive.add_stream(item.name, self.storage.chunks(item.key))
        return (await asyncio.to_thread(path.stat)).st_size

    async def _export(self, job: Row) -> None:
        found = await self._contents(job.export_id)
        if found is None:
            await self.mark_done(job)
            return
        export, contents = found
        path = self.spool / f"export-{export.id}-{secrets.token_hex(8)}{ARCHIVE_SUFFIX}"
        try:
            size = await self._write(path, contents)
            key = exports.archive_key(export.key_prefix)
            await self.storage.put_file(key, path, exports.CONTENT_TYPE)
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        async with self.sessionmaker.begin() as session:
            ready = await exports.archive_ready(session, export.id, size, self.lifetime)
            if ready is not None:
                owner, expires_at = ready
                message = compose(
                    self.templates,
                    "export_ready",
                    language=mail_language(self.app, owner.language),
                    user=owner,
                    link=self.link_for(export.id),
                    expires_at=expires_at,
                )
                enqueue(session, owner.email, message)
            await self.mark_done(job, session)
        self.wake_others()

    async def _remove(self, job: Row) -> None:
        async with self.sessionmaker.begin() as session:
            removed = await deletion.remove_if_due(session, job.user_id)
            # Gone with the account's other jobs when it was removed; done otherwise.
            await self.mark_done(job, session)
        if removed is not None:
            log.info(
                "account %s deleted at its owner's request: %s posts, %s stored prefixes",
                removed.user_id,
                removed.posts,
                len(removed.prefixes),
            )
            self.wake_others()

    async def handle(self, job: Row) -> None:
        try:
            if job.kind == "export":
                await self._export(job)
            else:
                await self._remove(job)
        except StorageError as error:  # storage down: no traceback, only a retry
            await self.failed(job, error)

    async def on_give_up(self, session: AsyncSession, job: Row) -> None:
        if job.kind == "export":
            await exports.archive_failed(session, job.export_id)


def download_links(app: web.Application) -> Callable[[int], str]:
    """Absolute links to an archive, for its mail: from app.public_url, never a Host."""
    base = app[settings_key].app.public_url.rstrip("/")
    route = app.router[DOWNLOAD_ROUTE]
    return lambda export_id: base + str(route.url_for(id=str(export_id)))


async def account_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    # Archives are written on a thread of their own, so a large one never queues ahead of
    # a request's password hash or an upload's check.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
    mail_worker, media_worker = app[mail_worker_key], app[media_worker_key]

    def wake() -> None:
        mail_worker.wake()
        media_worker.wake()

    worker = AccountWorker(
        app[sessionmaker_key],
        app[liveness_key],
        app[storage_key],
        app[spool_dir_key],
        executor,
        app[settings_key].accounts,
        app[settings_key].app,
        app[mail_templates_key],
        download_links(app),
        wake,
    )
    app[account_worker_key] = worker
    async with running(worker, app[scheduler_key], STOP_GRACE_SECONDS):
        yield
    executor.shutdown(wait=True, cancel_futures=True)
