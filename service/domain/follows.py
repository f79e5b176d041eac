"""Following: idempotent, counted in the same transaction, listed newest first."""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import notifications
from service.models import Follow, User


class CannotFollowSelf(ValueError):
    pass


class UserNotFound(LookupError):
    pass


async def _lock_both(session: AsyncSession, follower_id: int, followed_id: int) -> None:
    """Lock both accounts before touching the follow between them: parents before children,
    the order a deletion of an account takes, so that the follow either lands before it
    (and goes with the account) or finds the account gone, never a foreign key violation
    (see likes.lock_published_post). In id order: two people following each other at the
    same moment would otherwise each hold one row and wait for the other (a deadlock). NO
    KEY UPDATE, the lock the counters' updates take anyway, so it is never upgraded."""
    locked = await session.scalars(
        select(User.id)
        .where(User.id.in_([follower_id, followed_id]))
        .order_by(User.id)
        .with_for_update(key_share=True)
    )
    if set(locked) != {follower_id, followed_id}:
        raise UserNotFound(followed_id)


async def _adjust_counts(
    session: AsyncSession, follower_id: int, followed_id: int, by: int
) -> None:
    await session.execute(
        text("UPDATE users SET following_count = following_count + :by WHERE id = :id"),
        {"by": by, "id": follower_id},
    )
    await session.execute(
        text("UPDATE users SET followers_count = followers_count + :by WHERE id = :id"),
        {"by": by, "id": followed_id},
    )


async def follow(session: AsyncSession, follower_id: int, followed_id: int) -> bool:
    """Start following; False (and nothing changed) if already following. Raises
    UserNotFound if either account is gone."""
    if follower_id == followed_id:
        raise CannotFollowSelf("you cannot follow yourself")
    await _lock_both(session, follower_id, followed_id)
    inserted = await session.scalar(
        insert(Follow)
        .values(follower_id=follower_id, followed_id=followed_id)
        .on_conflict_do_nothing()
        .returning(Follow.follower_id)
    )
    if inserted is None:
        return False
    await _adjust_counts(session, follower_id, followed_id, +1)
    await notifications.notify(session, followed_id, follower_id, "follow")
    return True


async def unfollow(session: AsyncSession, follower_id: int, followed_id: int) -> bool:
    """Stop following; False (and nothing changed) if not following. Raises UserNotFound if
    either account is gone."""
    await _lock_both(session, follower_id, followed_id)
    deleted = await session.scalar(
        delete(Follow)
        .where(Follow.follower_id == follower_id, Follow.followed_id == followed_id)
        .returning(Follow.follower_id)
    )
    if deleted is None:
        return False
    await _adjust_counts(session, follower_id, followed_id, -1)
    await notifications.withdraw(session, followed_id, follower_id, "follow")
    return True


async def followers_count(session: AsyncSession, user_id: int) -> int:
    return await session.scalar(select(User.followers_count).where(User.id == user_id)) or 0
