"""Blocks, mutes and removing a follower (docs/moderation.md).

What each hides is the read layer's rule (service/reads/visibility.py); what each changes is
here. Blocking ends the follows and the pending follow requests between the two people both
ways, counters and follow notifications with them, and removes the notifications either had
of the other; the likes and comments either left on the other's posts stay, hidden from
both by the rule, as Mastodon keeps them (nothing another reader saw is rewritten).
Unblocking restores nothing. A mute changes nothing but what the muter sees, until it
expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import follows
from service.models import Block, Mute, Notification

# The longest mute with an end: Mastodon takes any number of seconds; a bound keeps the end
# a time PostgreSQL can store. Longer is "until unmuted".
MAX_MUTE = timedelta(days=3650)


class CannotBlockSelf(ValueError):
    pass


class CannotMuteSelf(ValueError):
    pass


class BadDuration(ValueError):
    pass


async def block(session: AsyncSession, blocker_id: int, blocked_id: int) -> bool:
    """Block; False (and nothing changed) if already blocked. Raises follows.UserNotFound if
    either account is gone."""
    if blocker_id == blocked_id:
        raise CannotBlockSelf("you cannot block yourself")
    # Both accounts locked as a follow locks them: a follow between them either committed
    # before (and is ended here) or waits and then finds the block.
    await follows.lock_both(session, blocker_id, blocked_id)
    inserted = await session.scalar(
        insert(Block)
        .values(blocker_id=blocker_id, blocked_id=blocked_id)
        .on_conflict_do_nothing()
        .returning(Block.blocker_id)
    )
    if inserted is None:
        return False
    for follower, followed in ((blocker_id, blocked_id), (blocked_id, blocker_id)):
        await follows.end_follow(session, follower, followed)
        await follows.end_request(session, follower, followed)
    await session.execute(
        delete(Notification).where(
            or_(
                and_(Notification.user_id == blocker_id, Notification.actor_id == blocked_id),
                and_(Notification.user_id == blocked_id, Notification.actor_id == blocker_id),
            )
        )
    )
    return True


async def unblock(session: AsyncSession, blocker_id: int, blocked_id: int) -> bool:
    """Lift a block; False if there was none. Follows ended by it stay ended."""
    deleted = await session.scalar(
        delete(Block)
        .where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        .returning(Block.blocker_id)
    )
    return deleted is not None


def mute_end(duration_seconds: int | None, now: datetime) -> datetime | None:
    """When a mute of ``duration_seconds`` made ``now`` ends: None (until unmuted) for no
    duration or 0, as Mastodon; BadDuration for a negative one."""
    if not duration_seconds:
        return None
    if duration_seconds < 0:
        raise BadDuration("a duration is a number of seconds, 0 for until unmuted")
    duration = timedelta(seconds=duration_seconds)
    return None if duration > MAX_MUTE else now + duration


async def mute(
    session: AsyncSession, muter_id: int, muted_id: int, duration_seconds: int | None = None
) -> None:
    """Mute for ``duration_seconds`` (None or 0: until unmuted). Muting again replaces the
    duration, as Mastodon does. Raises follows.UserNotFound if the account is gone."""
    if muter_id == muted_id:
        raise CannotMuteSelf("you cannot mute yourself")
    await follows.lock_both(session, muter_id, muted_id)
    expires_at = mute_end(duration_seconds, await session.scalar(select(func.now())))
    await session.execute(
        insert(Mute)
        .values(muter_id=muter_id, muted_id=muted_id, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=[Mute.muter_id, Mute.muted_id],
            set_={"expires_at": expires_at, "created_at": func.now()},
        )
    )


async def unmute(session: AsyncSession, muter_id: int, muted_id: int) -> bool:
    """Lift a mute; False if there was none (or it had expired)."""
    deleted = await session.scalar(
        delete(Mute)
        .where(Mute.muter_id == muter_id, Mute.muted_id == muted_id)
        .returning(Mute.expires_at)
    )
    return deleted is not None


async def forget_expired_mutes(session: AsyncSession) -> int:
    """Delete the mutes that have ended (the rule already ignores them, so this only keeps
    the table small; housekeeping runs it); how many."""
    result = await session.execute(delete(Mute).where(Mute.expires_at <= func.now()))
    return result.rowcount or 0


async def remove_follower(session: AsyncSession, user_id: int, follower_id: int) -> bool:
    """End ``follower_id``'s follow of ``user_id`` without blocking them; False if they did
    not follow. They may follow again."""
    await follows.lock_both(session, follower_id, user_id)
    return await follows.end_follow(session, follower_id, user_id)
