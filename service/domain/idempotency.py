"""Idempotency keys of new statuses (the Mastodon API's ``Idempotency-Key`` header): an app
that retries a post it is not sure went through gets the status the first attempt made,
and nothing new is made. Keys are the user's own and last an hour, as on Mastodon."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import IdempotencyKey

IDEMPOTENCY_WINDOW = timedelta(hours=1)
MAX_KEY_CHARS = 200
_EXPIRED = text(
    "idempotency_keys.created_at"
    f" < now() - interval '{int(IDEMPOTENCY_WINDOW.total_seconds())} seconds'"
)


@dataclasses.dataclass(frozen=True)
class Earlier:
    """What an earlier request with the same key made: a post or a comment."""

    post_id: int | None
    comment_id: int | None


async def claim(session: AsyncSession, user_id: int, key: str) -> Earlier | None:
    """Claim ``key`` for the status this transaction is about to make: None when it is this
    transaction's now (new, or its hour has passed), else what the earlier request made.
    A second request with the key waits here until the first commits (the row's unique
    index), then finds its status; if the first rolled back, the key is the second's."""
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key)
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
            set_={"created_at": func.now(), "post_id": None, "comment_id": None},
            where=_EXPIRED,
        )
        .returning(IdempotencyKey.user_id)
    )
    if claimed is not None:
        return None
    row = (
        await session.execute(
            select(IdempotencyKey.post_id, IdempotencyKey.comment_id).where(
                IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
            )
        )
    ).one()
    return Earlier(row.post_id, row.comment_id)


async def record(
    session: AsyncSession,
    user_id: int,
    key: str,
    *,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Remember what the claimed key made, in the same transaction that made it."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(post_id=post_id, comment_id=comment_id)
    )


async def forget_expired(session: AsyncSession) -> None:
    await session.execute(delete(IdempotencyKey).where(_EXPIRED))
