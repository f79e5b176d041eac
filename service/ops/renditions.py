"""Widths for srcset for the photos processed before they existed: one ``renditions`` media
job per such photo, run by the media workers of the serving processes like every media job
(durable, retried, taken over from a process that dies). Each job makes the widths from the
photo's stored display size, the best copy left once an upload's original is gone.

Idempotent: a photo that has its widths, or a job for them that has not finished or failed,
gets no second job; a job that failed for good may be queued again."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

# Processed photos without widths, and whether a job for them is under way.
_LACKING = """
    SELECT f.id, f.key_prefix,
           EXISTS (SELECT FROM media_jobs j
                    WHERE j.kind = 'renditions' AND j.photo_id = f.id
                      AND j.done_at IS NULL AND j.failed_at IS NULL) AS queued
      FROM photos f
     WHERE f.ready_at IS NOT NULL AND f.renditions IS NULL
"""
_ENQUEUE = f"""
    INSERT INTO media_jobs (kind, photo_id, key_prefix)
    SELECT 'renditions', lacking.id, lacking.key_prefix
      FROM ({_LACKING}) AS lacking
     WHERE NOT lacking.queued
     ORDER BY lacking.id
    RETURNING id
"""


@dataclasses.dataclass(frozen=True)
class Backfill:
    lacking: int  # processed photos without widths
    queued: int  # of them, with a job under way already
    enqueued: int  # jobs added now

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


async def backfill(sessionmaker: async_sessionmaker, apply: bool) -> Backfill:
    """Count the photos lacking widths; with ``apply``, queue a job for each that has none
    under way, in one transaction."""
    async with sessionmaker.begin() as session:
        rows = (await session.execute(text(_LACKING))).all()
        queued = sum(1 for row in rows if row.queued)
        enqueued = len((await session.execute(text(_ENQUEUE))).all()) if apply else 0
    return Backfill(len(rows), queued, enqueued)
