"""Accounts as an operator sees them: listed, shown in detail, confirmed, given a role,
deleted."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.domain import accounts, admin, removal, reports
from service.models import AuthSession, Comment, Like, MediaJob, OutboxMail, Photo, Post, User
from service.ops.database import NotFound, Refused
from service.text import trim

if TYPE_CHECKING:
    from service.storage.backends import Storage


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def summary(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "confirmed": user.is_confirmed,
        "suspended": user.suspended_at is not None,
        "posts": user.post_count,
        "created_at": _stamp(user.created_at),
    }


async def list_users(sessionmaker: async_sessionmaker, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` accounts, newest first."""
    async with sessionmaker() as session:
        users = await session.scalars(
            select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
        )
    return [summary(user) for user in users]


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise NotFound(f'no user named "{username}"')
    return user


async def _count(session: AsyncSession, query) -> int:
    return await session.scalar(select(func.count()).select_from(query.subquery()))


async def show_user(sessionmaker: async_sessionmaker, username: str) -> dict[str, Any]:
    async with sessionmaker() as session:
        user = await _user(session, username)
        pending = (MediaJob.done_at.is_(None)) & (MediaJob.failed_at.is_(None))
        their_photos = (
            select(Photo.id).join(Post, Post.id == Photo.post_id).where(Post.author_id == user.id)
        )
        media_jobs = await _count(
            session,
            select(MediaJob.id).where(
                pending,
                (MediaJob.user_id == user.id) | MediaJob.photo_id.in_(their_photos),
            ),
        )
        mail = await _count(
            session,
            select(OutboxMail.id).where(
                func.lower(OutboxMail.recipient) == user.email.lower(),
                OutboxMail.sent_at.is_(None),
                OutboxMail.failed_at.is_(None),
            ),
        )
        sessions = await _count(
            session,
            select(AuthSession.id_hash).where(
                AuthSession.user_id == user.id, AuthSession.expires_at > func.now()
            ),
        )
        comments = await _count(session, select(Comment.id).where(Comment.author_id == user.id))
        likes = await _count(session, select(Like.post_id).where(Like.user_id == user.id))
    return {
        **summary(user),
        "email": user.email,
        "display_name": user.display_name,
        "confirmed_at": _stamp(user.email_confirmed_at),
        "suspended_at": _stamp(user.suspended_at),
        "suspension_reason": user.suspension_reason,
        "followers": user.followers_count,
        "following": user.following_count,
        "comments": comments,
        "likes": likes,
        "sessions": sessions,
        "pending_media_jobs": media_jobs,
        "pending_mail": mail,
    }


async def confirm(sessionmaker: async_sessionmaker, username: str) -> datetime | None:
    """Mark the address confirmed; returns when it had been confirmed already, else None."""
    async with sessionmaker.begin() as session:
        user = await _user(session, username)
        if user.email_confirmed_at is not None:
            return user.email_confirmed_at
        await session.execute(
            update(User).where(User.id == user.id).values(email_confirmed_at=func.now())
        )
    return None


async def set_role(sessionmaker: async_sessionmaker, username: str, role: str) -> str:
    """Give the account ``role``; returns the role it had."""
    async with sessionmaker.begin() as session:
        before = (await _user(session, username)).role
        await admin.set_role(session, username, role)
    return before


async def suspend(
    sessionmaker: async_sessionmaker, username: str, reason: str = ""
) -> datetime | None:
    """Suspend the account, with the reason its owner is shown when they try to log in (a
    new reason replaces the old one of an account suspended already); when it had been
    suspended already, since when, else None. Written to the audit log."""
    reason = trim(reason)
    if message := reports.moderation_text_error(reason, "The reason"):
        raise Refused(message)
    async with sessionmaker.begin() as session:
        user = await _user(session, username)
        since = await accounts.suspend(session, user.id, reason)
        if since is None or reason:
            await reports.record_action(session, None, "suspend", user.id, user.username, reason)
    return since


async def unsuspend(sessionmaker: async_sessionmaker, username: str) -> bool:
    """Lift the suspension; False when there was none. Written to the audit log."""
    async with sessionmaker.begin() as session:
        user = await _user(session, username)
        lifted = await accounts.unsuspend(session, user.id)
        if lifted:
            await reports.record_action(session, None, "unsuspend", user.id, user.username)
    return lifted


async def delete(sessionmaker: async_sessionmaker, username: str) -> removal.Removed:
    async with sessionmaker.begin() as session:
        removed = await removal.remove_user(session, username)
    if removed is None:
        raise NotFound(f'no user named "{username}"')
    return removed


async def run_delete_jobs(
    sessionmaker: async_sessionmaker, storage: Storage, job_ids: tuple[int, ...]
) -> int:
    """Do these delete jobs now rather than wait for a running service's worker; returns how
    many were done. A job this cannot do (storage down) is left for the workers."""
    # Imported here: the worker's module brings the image and S3 libraries, which the
    # other account commands do without.
    from service.storage.backends import StorageError
    from service.workers.media.jobs import LEASE_SECONDS

    done = 0
    for job_id in job_ids:
        async with sessionmaker.begin() as session:
            # Claimed under a lease with no worker named: no worker takes it over while the
            # lease runs, and all of them may once it lapses (if this command dies).
            prefix = await session.scalar(
                update(MediaJob)
                .where(
                    MediaJob.id == job_id,
                    MediaJob.done_at.is_(None),
                    MediaJob.failed_at.is_(None),
                    (MediaJob.locked_until.is_(None)) | (MediaJob.locked_until < func.now()),
                )
                .values(
                    attempts=MediaJob.attempts + 1,
                    claimed_by=None,
                    locked_until=text(f"now() + interval '{LEASE_SECONDS} seconds'"),
                )
                .returning(MediaJob.key_prefix)
            )
        if prefix is None:  # a worker has it, or did it already
            continue
        try:
            await storage.delete_prefix(prefix)
        except StorageError as error:
            finish = {"locked_until": None, "last_error": str(error)[:2000]}
        else:
            finish = {"locked_until": None, "done_at": func.now(), "last_error": None}
            done += 1
        async with sessionmaker.begin() as session:
            await session.execute(update(MediaJob).where(MediaJob.id == job_id).values(**finish))
    return done
