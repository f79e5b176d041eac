"""Recording media work in the caller's transaction: a job row, and for an upload its
original, copied from the spool file into PostgreSQL. Once that transaction commits, the
work survives crashes and is visible to the workers of every process."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import MediaJob, MediaOriginal
from service.storage.urls import PUBLIC_PHOTO_KIND, RESTRICTED_KIND

# Originals are stored in parts this size, so no 20 MB value is ever held twice in memory.
ORIGINAL_PART_BYTES = 1024 * 1024


def new_prefix(kind: str) -> str:
    """A fresh random object prefix: ``photos/<32 hex>``, ``restricted/<32 hex>`` or
    ``avatars/<32 hex>``."""
    return f"{kind}/{secrets.token_hex(16)}"


async def _add_job(session: AsyncSession, **values: object) -> int:
    return await session.scalar(insert(MediaJob).values(**values).returning(MediaJob.id))


async def store_original(session: AsyncSession, job_id: int, path: Path) -> None:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        part = 0
        while chunk := await asyncio.to_thread(handle.read, ORIGINAL_PART_BYTES):
            await session.execute(
                insert(MediaOriginal).values(job_id=job_id, part=part, data=chunk)
            )
            part += 1
    finally:
        await asyncio.to_thread(handle.close)


async def enqueue_photo(
    session: AsyncSession, photo_id: int, key_prefix: str, original: Path
) -> int:
    job_id = await _add_job(session, kind="photo", photo_id=photo_id, key_prefix=key_prefix)
    await store_original(session, job_id, original)
    return job_id


async def enqueue_avatar(
    session: AsyncSession, user_id: int, key_prefix: str, original: Path
) -> int:
    job_id = await _add_job(session, kind="avatar", user_id=user_id, key_prefix=key_prefix)
    await store_original(session, job_id, original)
    return job_id


async def enqueue_delete(session: AsyncSession, key_prefix: str) -> int:
    return await _add_job(session, kind="delete", key_prefix=key_prefix)


async def enqueue_move(session: AsyncSession, photo_id: int, restricted: bool) -> int:
    """A job that moves the photo's objects to a fresh prefix of the kind ``restricted``
    asks for. The target is chosen here, so every attempt copies to the same keys, and the
    storage sweep counts them as owned while the job waits."""
    target = new_prefix(RESTRICTED_KIND if restricted else PUBLIC_PHOTO_KIND)
    return await _add_job(session, kind="move", photo_id=photo_id, key_prefix=target)
