"""Likes: idempotent, with like_count changed in the same transaction only when a like row
really appeared or disappeared, so the counter always equals COUNT(*)."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import notifications
from service.models import Like, Post


class PostNotFound(LookupError):
    pass


async def _published_author(session: AsyncSession, post_id: int) -> int:
    author_id = await session.scalar(
        select(Post.author_id).where(Post.id == post_id, Post.published_at.is_not(None))
    )
    if author_id is None:
        raise PostNotFound(post_id)
    return author_id


async def _count(session: AsyncSession, post_id: int, change: int) -> int:
    statement = (
        update(Post)
        .where(Post.id == post_id)
        .values(like_count=Post.like_count + change)
        .returning(Post.like_count)
    )
    return await session.scalar(statement)


async def like(session: AsyncSession, user_id: int, post_id: int) -> int:
    """Like a published post; returns its like count. Liking twice changes nothing."""
    author_id = await _published_author(session, post_id)
    inserted = await session.scalar(
        insert(Like)
        .values(post_id=post_id, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(Like.user_id)
    )
    if inserted is None:
        return await session.scalar(select(Post.like_count).where(Post.id == post_id))
    await notifications.notify(session, author_id, user_id, "like", post_id=post_id)
    return await _count(session, post_id, +1)


async def unlike(session: AsyncSession, user_id: int, post_id: int) -> int:
    author_id = await _published_author(session, post_id)
    deleted = await session.scalar(
        delete(Like).where(Like.post_id == post_id, Like.user_id == user_id).returning(Like.user_id)
    )
    if deleted is None:
        return await session.scalar(select(Post.like_count).where(Post.id == post_id))
    await notifications.withdraw(session, author_id, user_id, "like", post_id=post_id)
    return await _count(session, post_id, -1)
