"""Avatar uploads: the request records the upload as pending; its job makes it the shown
avatar, unless a newer upload came after it, and frees the objects nobody shows any more."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Avatar
from service.reads.views import AVATAR_SMALL
from service.storage import queue


async def request_avatar(session: AsyncSession, user_id: int, original: Path) -> None:
    prefix = queue.new_prefix("avatars")
    await session.execute(
        insert(Avatar)
        .values(user_id=user_id, pending_prefix=prefix)
        .on_conflict_do_update(
            index_elements=[Avatar.user_id],
            set_={"pending_prefix": prefix, "updated_at": func.now()},
        )
    )
    await queue.enqueue_avatar(session, user_id, prefix, original)


async def avatar_ready(
    session: AsyncSession, user_id: int, prefix: str, extension: str
) -> str | None:
    """Show the processed upload under ``prefix`` if it is still the latest. Returns the
    prefix whose objects are no longer shown: the previous avatar, or this upload itself
    when a newer one superseded it (or the user is gone)."""
    row = (
        await session.execute(select(Avatar).where(Avatar.user_id == user_id).with_for_update())
    ).scalar_one_or_none()
    if row is None or row.pending_prefix != prefix:
        return prefix
    previous = row.key_prefix
    await session.execute(
        update(Avatar)
        .where(Avatar.user_id == user_id)
        .values(key_prefix=prefix, extension=extension, pending_prefix=None, updated_at=func.now())
    )
    return previous


async def avatar_failed(session: AsyncSession, user_id: int, prefix: str) -> None:
    await session.execute(
        update(Avatar)
        .where(Avatar.user_id == user_id, Avatar.pending_prefix == prefix)
        .values(pending_prefix=None)
    )


async def avatar_state(session: AsyncSession, user_id: int) -> tuple[str | None, bool]:
    """The key of the user's shown avatar (small size), and whether an upload is pending."""
    row = (
        await session.execute(
            select(Avatar.key_prefix, Avatar.extension, Avatar.pending_prefix).where(
                Avatar.user_id == user_id
            )
        )
    ).one_or_none()
    if row is None:
        return None, False
    key = f"{row.key_prefix}/{AVATAR_SMALL}.{row.extension}" if row.key_prefix else None
    return key, row.pending_prefix is not None
