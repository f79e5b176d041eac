"""The media cleanup contexts: object storage (one client per process, with the spool
directory and the URL maker), and the media worker. Registered in dependency order, so at
shutdown the worker stops first, while storage and the database are still open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from service.keys import (
    liveness_key,
    media_worker_key,
    pixel_budget_key,
    scheduler_key,
    sessionmaker_key,
    settings_key,
    spool_dir_key,
    storage_key,
)
from service.storage import backends
from service.storage.spool import prepare_spool, spool_dir
from service.workers.media.budget import PixelBudget
from service.workers.media.jobs import STOP_GRACE_SECONDS, MediaWorker
from service.workers.polling import running

# One photo renders at a time per process (about a quarter second of one core for 12 MP):
# on a two-core container the other core stays free for requests.
RENDER_THREADS = 1


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with backends.open_storage(settings) as storage:
        await backends.probe(storage, settings)
        app[storage_key] = storage
        spool = spool_dir(settings)
        await asyncio.to_thread(prepare_spool, spool)
        app[spool_dir_key] = spool
        # One budget for the whole process: upload checks and the worker's rendering share it.
        app[pixel_budget_key] = PixelBudget(settings.media.image_pixel_budget)
        yield


async def media_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    # Rendering gets a thread of its own rather than the shared CPU executor, so background
    # work never queues ahead of an upload's check or a login's password hash.
    executor = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="media")
    worker = MediaWorker(
        app[sessionmaker_key],
        app[storage_key],
        executor,
        app[liveness_key],
        app[pixel_budget_key],
    )
    app[media_worker_key] = worker
    # Jobs in progress get a few seconds to finish; then they are cancelled, which gives
    # their claims back, and any process may take them.
    async with running(worker, app[scheduler_key], STOP_GRACE_SECONDS):
        yield
    executor.shutdown(wait=True, cancel_futures=True)
