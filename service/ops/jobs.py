"""The durable queues, media (``media_jobs``), mail (``outbox_mail``) and account
(``account_jobs``: archives and account removals): how many jobs are in each state, the
latest errors, failed jobs sent round again or purged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from service.ops.database import NotFound, Refused

QUEUES = ("media", "mail", "account")
# Each queue's table and the column that marks a job finished.
_TABLES = {
    "media": ("media_jobs", "done_at"),
    "mail": ("outbox_mail", "sent_at"),
    "account": ("account_jobs", "done_at"),
}
# Only a delete or a move job can succeed on a second run: a photo or avatar job that
# failed for good had its upload dropped with it, and its post marked failed for the author
# to see. A move looks at its photo afresh each time (domain/restricted.py).
RETRYABLE_MEDIA_KINDS = ("delete", "move")
# A failed removal still has its account to remove; a failed archive was marked failed for
# its owner, who asks for a new one.
RETRYABLE_ACCOUNT_KINDS = ("removal",)
LAST_ERRORS = 5

_COUNTS = """
    SELECT count(*) FILTER (WHERE {done} IS NULL AND failed_at IS NULL
                              AND (locked_until IS NULL OR locked_until <= now())) AS pending,
           count(*) FILTER (WHERE {done} IS NULL AND failed_at IS NULL
                              AND locked_until > now()) AS running,
           count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
           count(*) FILTER (WHERE {done} IS NOT NULL) AS done,
           count(*) FILTER (WHERE {done} IS NULL AND failed_at IS NULL
                              AND last_error IS NOT NULL) AS retrying,
           extract(epoch FROM now() - min(created_at)
                   FILTER (WHERE {done} IS NULL AND failed_at IS NULL)) AS oldest_pending_seconds
      FROM {table}
"""

_ERRORS = """
    SELECT id, {what} AS what, attempts,
           CASE WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'retrying' END AS state,
           coalesce(failed_at, next_attempt_at) AS at, last_error
      FROM {table}
     WHERE last_error IS NOT NULL AND {done} IS NULL
     ORDER BY coalesce(failed_at, next_attempt_at) DESC, id DESC
     LIMIT :limit
"""


async def status(sessionmaker: async_sessionmaker) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with sessionmaker() as session:
        for queue, (table, done) in _TABLES.items():
            counts = (await session.execute(text(_COUNTS.format(table=table, done=done)))).one()
            what = "recipient" if queue == "mail" else "kind"
            errors = await session.execute(
                text(_ERRORS.format(table=table, done=done, what=what)), {"limit": LAST_ERRORS}
            )
            oldest = counts.oldest_pending_seconds
            report[queue] = {
                "pending": counts.pending,
                "running": counts.running,
                "failed": counts.failed,
                "done": counts.done,
                "retrying": counts.retrying,
                "oldest_pending_seconds": None if oldest is None else round(float(oldest), 1),
                "last_errors": [
                    {
                        "id": row.id,
                        "what": row.what,
                        "state": row.state,
                        "attempts": row.attempts,
                        "at": row.at.isoformat(timespec="seconds"),
                        "error": row.last_error,
                    }
                    for row in errors
                ],
            }
    return report


def _retryable(queue: str) -> str:
    retryable = {"media": RETRYABLE_MEDIA_KINDS, "account": RETRYABLE_ACCOUNT_KINDS}.get(queue)
    if retryable is None:
        return "true"
    kinds = ", ".join(f"'{kind}'" for kind in retryable)
    return f"kind IN ({kinds})"


async def retry(sessionmaker: async_sessionmaker, queues: tuple[str, ...], ids: list[int]) -> dict:
    """Failed jobs back to pending, due now, with their attempts counted afresh. With
    ``ids`` (of one queue) exactly those, all or none; else every retryable failed job."""
    retried: dict[str, int] = {}
    async with sessionmaker.begin() as session:
        for queue in queues:
            table, _ = _TABLES[queue]
            chosen = "AND id = ANY(:ids)" if ids else ""
            if ids:
                await _check_ids(session, queue, ids)
            rows = await session.execute(
                text(
                    f"""UPDATE {table}
                           SET failed_at = NULL, attempts = 0, next_attempt_at = now(),
                               locked_until = NULL
                         WHERE failed_at IS NOT NULL AND {_retryable(queue)} {chosen}
                     RETURNING id"""
                ),
                {"ids": ids} if ids else {},
            )
            retried[queue] = len(rows.all())
    return retried


async def _check_ids(session, queue: str, ids: list[int]) -> None:
    table, _ = _TABLES[queue]
    rows = await session.execute(
        text(
            f"SELECT id, failed_at IS NOT NULL AS failed, {_retryable(queue)} AS retryable "
            f"FROM {table} WHERE id = ANY(:ids)"
        ),
        {"ids": ids},
    )
    found = {row.id: row for row in rows}
    for job_id in ids:
        row = found.get(job_id)
        if row is None:
            raise NotFound(f"no {queue} job {job_id}")
        if not row.failed:
            raise Refused(f"{queue} job {job_id} has not failed")
        if not row.retryable:
            raise Refused(
                f"{queue} job {job_id} cannot be retried: "
                + (
                    "only delete jobs can (a failed photo or avatar job no longer has its upload)"
                    if queue == "media"
                    else "only removals can (ask for a new archive instead)"
                )
            )


async def failed_counts(sessionmaker: async_sessionmaker, queues: tuple[str, ...]) -> dict:
    async with sessionmaker() as session:
        return {
            queue: await session.scalar(
                text(f"SELECT count(*) FROM {_TABLES[queue][0]} WHERE failed_at IS NOT NULL")
            )
            for queue in queues
        }


async def purge_failed(sessionmaker: async_sessionmaker, queues: tuple[str, ...]) -> dict:
    """Delete the failed jobs (a media job's upload, if any, goes with it by cascade)."""
    purged: dict[str, int] = {}
    async with sessionmaker.begin() as session:
        for queue in queues:
            rows = await session.execute(
                text(f"DELETE FROM {_TABLES[queue][0]} WHERE failed_at IS NOT NULL RETURNING id")
            )
            purged[queue] = len(rows.all())
    return purged
