"""Removing an account and everything it made, through the same functions that undo each
thing one at a time (deleting a post, a comment, unliking, unfollowing), so every counter
they keep stays equal to what it counts. The one way an account goes: the admin command
``users delete`` and the removal job that ends an owner's grace period both come here."""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import comments, follows, likes, posts
from service.models import (
    AccountJob,
    AuthSession,
    Avatar,
    Comment,
    Export,
    Follow,
    Like,
    MediaJob,
    OutboxMail,
    Photo,
    Post,
    RetiredUsername,
    User,
)
from service.storage import queue


@dataclasses.dataclass(frozen=True)
class Removed:
    user_id: int
    username: str
    posts: int
    comments: int
    likes: int
    follows: int
    sessions: int
    # Object prefixes whose deletion was recorded as media jobs, and those jobs' ids.
    prefixes: tuple[str, ...]
    delete_jobs: tuple[int, ...]


async def remove_user(session: AsyncSession, username: str) -> Removed | None:
    """Delete the account named ``username`` (any case): see ``remove``. None if there is
    no such account."""
    # Locked first: from here on nobody can follow, like or comment as or towards this
    # account (their foreign key check waits for this row, then finds it gone).
    user = await session.scalar(
        select(User).where(func.lower(User.username) == username.lower()).with_for_update()
    )
    return None if user is None else await remove(session, user)


async def remove(session: AsyncSession, user: User) -> Removed:
    """Delete ``user`` (locked by the caller, FOR UPDATE) with its posts, comments, likes
    and follows, its sessions, tokens, blocks, mutes, notifications, archives and jobs, the
    mail addressed to it, and (through durable delete jobs) its stored photos, avatar and
    archives. Its name is retired: nobody may sign up with it again. Run in one
    transaction: all of it happens or none."""
    user_id = user.id
    photo_prefixes = list(
        await session.scalars(
            select(Photo.key_prefix)
            .join(Post, Post.id == Photo.post_id)
            .where(Post.author_id == user_id)
        )
    )
    # Uploads not attached to a post yet go with their owner, objects and all.
    photo_prefixes += await posts.forget_media_of(session, user_id)

    post_ids = list(await session.scalars(select(Post.id).where(Post.author_id == user_id)))
    for post_id in post_ids:
        await posts.delete_post(session, post_id)

    # What is left is on other people's posts (their own went with their posts).
    comment_ids = list(
        await session.scalars(select(Comment.id).where(Comment.author_id == user_id))
    )
    for comment_id in comment_ids:
        await comments.delete_as(session, comment_id, user_id, viewer_is_moderator=True)

    liked = list(await session.scalars(select(Like.post_id).where(Like.user_id == user_id)))
    for post_id in liked:
        await likes.unlike(session, user_id, post_id)

    relations = list(
        await session.execute(
            select(Follow.follower_id, Follow.followed_id).where(
                (Follow.follower_id == user_id) | (Follow.followed_id == user_id)
            )
        )
    )
    for follower_id, followed_id in relations:
        await follows.unfollow(session, follower_id, followed_id)

    avatar = (
        await session.execute(
            select(Avatar.key_prefix, Avatar.pending_prefix).where(Avatar.user_id == user_id)
        )
    ).one_or_none()
    avatar_prefixes = [prefix for prefix in avatar or () if prefix]
    for prefix in avatar_prefixes:
        await queue.enqueue_delete(session, prefix)

    archive_prefixes = list(
        await session.scalars(
            select(Export.key_prefix).where(Export.user_id == user_id, Export.removed_at.is_(None))
        )
    )
    for prefix in archive_prefixes:
        await queue.enqueue_delete(session, prefix)

    sessions = await session.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
    )
    # Their account jobs (this very removal among them, if a job runs it) have no foreign
    # key; the mail addressed to them, sent or not, names them.
    await session.execute(delete(AccountJob).where(AccountJob.user_id == user_id))
    await session.execute(
        delete(OutboxMail).where(func.lower(OutboxMail.recipient) == user.email.lower())
    )
    await session.execute(
        delete(MediaJob).where(
            MediaJob.user_id == user_id,
            (MediaJob.done_at.is_not(None)) | (MediaJob.failed_at.is_not(None)),
        )
    )
    await session.execute(
        insert(RetiredUsername)
        .values(username_lower=user.username.lower())
        .on_conflict_do_nothing()
    )
    # Sessions, tokens, email tokens, notifications, blocks, mutes, archives' rows and the
    # avatar row go by foreign key cascade.
    await session.execute(delete(User).where(User.id == user_id))
    # The jobs recorded above (by delete_post and here): now() is this transaction's start.
    jobs = list(
        await session.execute(
            select(MediaJob.id, MediaJob.key_prefix)
            .where(
                MediaJob.kind == "delete",
                MediaJob.key_prefix.in_(photo_prefixes + avatar_prefixes + archive_prefixes),
                MediaJob.created_at == func.now(),
            )
            .order_by(MediaJob.id)
        )
    )
    return Removed(
        user_id=user_id,
        username=user.username,
        posts=len(post_ids),
        comments=len(comment_ids),
        likes=len(liked),
        follows=len(relations),
        sessions=sessions,
        prefixes=tuple(prefix for _, prefix in jobs),
        delete_jobs=tuple(job_id for job_id, _ in jobs),
    )
