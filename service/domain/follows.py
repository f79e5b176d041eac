"""Following: idempotent, counted in the same transaction, listed newest first.

Following a private account (``users.locked``) asks instead: a follow request, which its
owner approves (it becomes the follow) or rejects, and the requester may withdraw. Every
command on a pair locks both accounts first (``lock_both``), as blocking does, so a request,
its approval, its withdrawal and a block between the two happen one after the other."""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import notifications
from service.models import Block, Follow, FollowRequest, User
from service.reads.visibility import may_interact


class CannotFollowSelf(ValueError):
    pass


class UserNotFound(LookupError):
    pass


class RequestNotFound(LookupError):
    """No pending request from that person (never made, withdrawn, or already answered)."""


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
    """Start following, or, when the account is private, ask to: False (and nothing
    changed) if already following or already asked. Raises UserNotFound if either account
    is gone, Blocked across a block."""
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
    # Read under the lock: switching the account to public takes the same row, so a request
    # is either made before (and accepted with the others) or not made at all.
    locked = await session.scalar(select(User.locked).where(User.id == followed_id))
    if locked and not await _follows(session, follower_id, followed_id):
        return await _ask(session, follower_id, followed_id)
    return await _add_follow(session, follower_id, followed_id)


async def _follows(session: AsyncSession, follower_id: int, followed_id: int) -> bool:
    found = await session.scalar(
        select(Follow.follower_id).where(
            Follow.follower_id == follower_id, Follow.followed_id == followed_id
        )
    )
    return found is not None


async def _ask(session: AsyncSession, requester_id: int, target_id: int) -> bool:
    inserted = await session.scalar(
        insert(FollowRequest)
        .values(requester_id=requester_id, target_id=target_id)
        .on_conflict_do_nothing()
        .returning(FollowRequest.requester_id)
    )
    if inserted is None:
        return False
    await notifications.notify(session, target_id, requester_id, "follow_request")
    return True


async def _add_follow(session: AsyncSession, follower_id: int, followed_id: int) -> bool:
    """The follow itself, with both accounts locked by the caller."""
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
    """Stop following, or withdraw a pending request; False (and nothing changed) if there
    was neither. Raises UserNotFound if either account is gone."""
    await lock_both(session, follower_id, followed_id)
    withdrawn = await end_request(session, follower_id, followed_id)
    return await end_follow(session, follower_id, followed_id) or withdrawn


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


async def end_request(session: AsyncSession, requester_id: int, target_id: int) -> bool:
    """Remove a pending request and the owner's notification of it, with both accounts
    locked (lock_both) by the caller; False if there was none."""
    deleted = await session.scalar(
        delete(FollowRequest)
        .where(FollowRequest.requester_id == requester_id, FollowRequest.target_id == target_id)
        .returning(FollowRequest.requester_id)
    )
    if deleted is None:
        return False
    await notifications.withdraw(session, target_id, requester_id, "follow_request")
    return True


async def _grant(session: AsyncSession, owner_id: int, requester_id: int) -> bool:
    """Turn the request into the follow, with both locked; False if there was none. The
    requester hears of it; the owner, who approved, gets no "followed you"."""
    if not await end_request(session, requester_id, owner_id):
        return False
    if await _add_follow(session, requester_id, owner_id):
        await notifications.withdraw(session, owner_id, requester_id, "follow")
        await notifications.notify(session, requester_id, owner_id, "follow_accepted")
    return True


async def approve(session: AsyncSession, owner_id: int, requester_id: int) -> None:
    """The owner lets ``requester_id`` follow them. Raises RequestNotFound when there is no
    pending request from them (withdrawn, answered, or never made), UserNotFound when the
    requester is gone."""
    await lock_both(session, requester_id, owner_id)
    if not await _grant(session, owner_id, requester_id):
        raise RequestNotFound(requester_id)


async def reject(session: AsyncSession, owner_id: int, requester_id: int) -> None:
    """The owner turns the request down; the requester is not told (they see "Request"
    again, as after a withdrawal). Raises RequestNotFound as ``approve`` does."""
    await lock_both(session, requester_id, owner_id)
    if not await end_request(session, requester_id, owner_id):
        raise RequestNotFound(requester_id)


async def accept_all(session: AsyncSession, owner_id: int) -> int:
    """Approve every pending request of the owner, whose account becomes public; how many.
    The owner and every requester are locked at once, in id order as ``lock_both`` locks,
    so this never holds one account while waiting on another that a pair's command holds.
    The owner stays locked to the end of the transaction: no request can be made meanwhile,
    so the caller's switch to public leaves none pending."""
    while True:
        pending = await _pending_of(session, owner_id)
        locked = set(
            await session.scalars(
                select(User.id)
                .where(User.id.in_([owner_id, *pending]))
                .order_by(User.id)
                .with_for_update(key_share=True)
            )
        )
        if owner_id not in locked:
            raise UserNotFound(owner_id)
        # A request committed while the locks were taken is not among them: start again
        # (rarely, and then with every one of them in the list).
        pending = await _pending_of(session, owner_id)
        if not set(pending) <= locked:
            continue
        granted = 0
        for requester_id in pending:
            granted += await _grant(session, owner_id, requester_id)
        return granted


async def _pending_of(session: AsyncSession, owner_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(FollowRequest.requester_id)
            .where(FollowRequest.target_id == owner_id)
            .order_by(FollowRequest.requester_id)
        )
    )


async def is_requested(session: AsyncSession, requester_id: int, target_id: int) -> bool:
    """Whether the request is pending, as the answer to a follow reads it."""
    found = await session.scalar(
        select(FollowRequest.requester_id).where(
            FollowRequest.requester_id == requester_id, FollowRequest.target_id == target_id
        )
    )
    return found is not None


async def followers_count(session: AsyncSession, user_id: int) -> int:
    return await session.scalar(select(User.followers_count).where(User.id == user_id)) or 0
