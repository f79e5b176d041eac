"""Notifications: written with the action that causes them, removed when it is undone."""

from __future__ import annotations

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.models import Notification


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
        await events.announce(session, events.notification_for(user_id, inserted))


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


async def mark_all_read(session: AsyncSession, user_id: int, through_id: int | None = None) -> None:
    """Mark the user's notifications read: all of them, or those up to ``through_id``, the
    newest the user was shown (one that came after it stays unread). Every page of theirs
    hears of it, to update its badge."""
    statement = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    if through_id is not None:
        statement = statement.where(Notification.id <= through_id)
    await session.execute(statement)
    await events.announce(session, events.notification_for(user_id))


async def dismiss(session: AsyncSession, user_id: int, notification_id: int) -> bool:
    """Delete one of the user's notifications; False when they have none by that id."""
    deleted = await session.scalar(
        delete(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .returning(Notification.id)
    )
    if deleted is None:
        return False
    await events.announce(session, events.notification_for(user_id))
    return True


async def clear(session: AsyncSession, user_id: int) -> None:
    """Delete all of the user's notifications (their pages' badges hear of it)."""
    await session.execute(delete(Notification).where(Notification.user_id == user_id))
    await events.announce(session, events.notification_for(user_id))
