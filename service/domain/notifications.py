"""Notifications: written with the action that causes them, removed when it is undone."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import asyncpg
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.cursor import Position
from service.domain.users import UserSummary, avatar_key_of
from service.models import Notification, User


async def notify(
    session: AsyncSession,
    user_id: int,
    actor_id: int,
    kind: str,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Record that ``actor_id`` did something to ``user_id``; nothing for one's own actions,
    and never a duplicate "followed you" or "liked your post"."""
    if user_id == actor_id:
        return
    inserted = await session.scalar(
        insert(Notification)
        .values(
            user_id=user_id, actor_id=actor_id, kind=kind, post_id=post_id, comment_id=comment_id
        )
        .on_conflict_do_nothing()
        .returning(Notification.id)
    )
    if inserted is not None:
        await events.announce(session, events.notification_for(user_id))


async def withdraw(
    session: AsyncSession, user_id: int, actor_id: int, kind: str, post_id: int | None = None
) -> None:
    """Forget the notification of an action that was undone (unfollow, unlike)."""
    statement = delete(Notification).where(
        Notification.user_id == user_id,
        Notification.actor_id == actor_id,
        Notification.kind == kind,
    )
    if post_id is not None:
        statement = statement.where(Notification.post_id == post_id)
    await session.execute(statement)


@dataclasses.dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    actor: UserSummary
    post_id: int | None
    created_at: datetime
    read: bool
    position: Position


async def page(
    session: AsyncSession, user_id: int, after: Position | None, limit: int
) -> list[NotificationView]:
    """Newest first, ``limit + 1`` at most (the extra one means there is more)."""
    query = (
        select(Notification, User.username, User.display_name, avatar_key_of(User.id))
        .join(User, User.id == Notification.actor_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(
            tuple_(Notification.created_at, Notification.id) < tuple_(after.at, after.id)
        )
    return [
        NotificationView(
            id=row.id,
            kind=row.kind,
            actor=UserSummary.of(row.actor_id, username, display_name, avatar),
            post_id=row.post_id,
            created_at=row.created_at,
            read=row.read_at is not None,
            position=Position(row.created_at, row.id),
        )
        for row, username, display_name, avatar in await session.execute(query)
    ]


async def unread_count(connection: asyncpg.Connection, user_id: int) -> int:
    """For the badge every page shows, so a plain driver statement (see db.reading)."""
    return await connection.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
    )


async def mark_all_read(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    await events.announce(session, events.notification_for(user_id))
