"""Following: idempotent, counted in the same transaction, listed newest first."""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import notifications
from service.models import Block, Follow, User
from service.reads.visibility import may_interact


class CannotFollowSelf(ValueError):
    pass


class UserNotFound(LookupError):
    pass


class Blocked(PermissionError):
    """One of the two blocked the other: ``by_target`` when the person to be followed did."""

    def __init__(self, by_target: bool) -> None:
        super().__init__("blocked")
        self.by_target = by_target


async def lock_both(session: AsyncSession, follower_id: int, followed_id: int) -> None:
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
    await lock_both(session, follower_id, followed_id)
    # The rule for interactions (service/reads/visibility.py); a block takes the same locks.
    allowed = await session.scalar(
        text(f"SELECT {may_interact(':follower', ':followed')}"),
        {"follower": follower_id, "followed": followed_id},
    )
    if not allowed:
        blocked_by_target = await session.scalar(
            select(Block.blocker_id).where(
                Block.blocker_id == followed_id, Block.blocked_id == follower_id
            )
        )
        raise Blocked(by_target=blocked_by_target is not None)
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
    await lock_both(session, follower_id, followed_id)
    return await end_follow(session, follower_id, followed_id)


async def end_follow(session: AsyncSession, follower_id: int, followed_id: int) -> bool:
    """End a follow, its counts and its notification, with both accounts locked (lock_both)
    by the caller; False if there was none."""
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
