"""What every durable queue does the same way (service/workers/polling.py): finished jobs
are kept a week for `admin jobs status`, then swept by the first lane's housekeeping."""

from __future__ import annotations

import secrets

from sqlalchemy import text

from service.keys import account_worker_key, media_worker_key


async def test_finished_jobs_are_kept_a_week_then_swept(client, db):
    tag = secrets.token_hex(4)
    async with db.begin() as session:
        for age_days in (1, 8):
            await session.execute(
                text(
                    "INSERT INTO media_jobs (kind, key_prefix, done_at)"
                    " VALUES ('delete', :prefix, now() - make_interval(days => :days))"
                ),
                {"prefix": f"swept-{tag}/{age_days}", "days": age_days},
            )
            await session.execute(
                text(
                    "INSERT INTO account_jobs (kind, user_id, done_at)"
                    " VALUES ('removal', :user, now() - make_interval(days => :days))"
                ),
                {"user": -age_days, "days": age_days},
            )
    app = client.server.app
    for worker in (app[media_worker_key], app[account_worker_key]):
        worker._next_sweep = 0.0  # due now, whatever it did before
        await worker.housekeeping()
    async with db() as session:
        media = await session.scalars(
            text("SELECT key_prefix FROM media_jobs WHERE key_prefix LIKE :like"),
            {"like": f"swept-{tag}/%"},
        )
        assert list(media) == [f"swept-{tag}/1"]
        accounts = await session.scalars(
            text("SELECT user_id FROM account_jobs WHERE user_id IN (-1, -8)")
        )
        assert list(accounts) == [-1]
    async with db.begin() as session:
        await session.execute(text("DELETE FROM account_jobs WHERE user_id = -1"))
        await session.execute(
            text("DELETE FROM media_jobs WHERE key_prefix = :prefix"), {"prefix": f"swept-{tag}/1"}
        )
