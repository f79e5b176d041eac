"""An owner deleting their account: asked for with the password, it waits out a grace
period (hidden from everyone as a suspended account is, logged out everywhere, its tokens
revoked), which logging in again cancels; then a durable removal job (an account job due
when the grace period ends) deletes everything of it through ``removal.remove``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import removal
from service.models import AccessToken, AccountJob, AuthSession, OAuthCode, User


async def request_deletion(
    session: AsyncSession, user_id: int, grace: timedelta
) -> tuple[datetime, list[bytes]]:
    """Schedule the account's deletion ``grace`` from now: when it happens, and the hashes
    of the tokens revoked (for this process's cache; the others hear it from the
    database). Asked again while scheduled, the first date stands."""
    due = await session.scalar(
        select(User.deletion_due_at).where(User.id == user_id).with_for_update()
    )
    if due is None:
        due = await session.scalar(
            update(User)
            .where(User.id == user_id)
            .values(deletion_due_at=func.now() + grace)
            .returning(User.deletion_due_at)
        )
        await session.execute(
            insert(AccountJob).values(kind="removal", user_id=user_id, next_attempt_at=due)
        )
    # Logged out everywhere: browsers, apps and scripts alike.
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    await session.execute(delete(OAuthCode).where(OAuthCode.user_id == user_id))
    revoked = await session.scalars(
        delete(AccessToken).where(AccessToken.user_id == user_id).returning(AccessToken.token_hash)
    )
    return due, list(revoked)


async def cancel_deletion(session: AsyncSession, user_id: int) -> bool | None:
    """The owner is back: the account stays. True when its deletion was cancelled, False
    when none was scheduled, None when the account is gone (its removal ran first)."""
    kept = await session.scalar(
        update(User)
        .where(User.id == user_id, User.deletion_due_at.is_not(None))
        .values(deletion_due_at=None)
        .returning(User.id)
    )
    if kept is None:
        exists = await session.scalar(select(User.id).where(User.id == user_id))
        return None if exists is None else False
    await session.execute(
        delete(AccountJob).where(
            AccountJob.user_id == user_id,
            AccountJob.kind == "removal",
            AccountJob.done_at.is_(None),
        )
    )
    return True


async def remove_if_due(session: AsyncSession, user_id: int) -> removal.Removed | None:
    """The removal job's work: delete the account if its deletion is still asked for and
    due. None when there is nothing to do (the owner came back, or it is gone already)."""
    # Locked first, as the login that would cancel it locks it: one of the two wins.
    user = await session.scalar(
        select(User).where(User.id == user_id, User.deletion_due_at <= func.now()).with_for_update()
    )
    return None if user is None else await removal.remove(session, user)
