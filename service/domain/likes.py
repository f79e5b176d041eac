"""Likes: idempotent, with like_count changed in the same transaction only when a like row
really appeared or disappeared, so the counter always equals COUNT(*)."""

from __future__ import annotations

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import notifications
from service.models import Like, Post
from service.reads.visibility import post_visible_to


class PostNotFound(LookupError):
    pass


async def lock_published_post(session: AsyncSession, post_id: int, viewer_id: int) -> int:
    """Lock a published post the viewer may see (the read layer's rule: nothing can be done
    to a post one cannot see) for a change to what hangs off it (a like, a comment) and its
    counters; returns its author. Raises PostNotFound if it is gone, not published or not
    the viewer's to see.

    Locking the parent first is what makes these changes safe against the post's deletion,
    whoever commits first. Deleting a post locks its row, then its likes and comments (the
    cascade). A change that touched a like or comment first and the post's counter second
    would take the same locks in the opposite order: a deadlock. One that checked the post
    without a lock could insert after the deletion committed: a foreign key violation. With
    the lock, a change that comes second waits for the deletion and then finds no post
    (404); one that comes first completes, and the deletion then removes its rows with the
    post. Catching the violation instead would cover only the insert, not the deadlock.
    NO KEY UPDATE, the lock the counter's update takes anyway, so that it is never
    upgraded while a deletion waits; it leaves readers and foreign key checks alone."""
    author_id = await session.scalar(
        select(Post.author_id)
        .where(
            Post.id == post_id,
            Post.published_at.is_not(None),
            text(post_visible_to("posts", ":viewer")).bindparams(viewer=viewer_id),
        )
        .with_for_update(key_share=True)
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
    author_id = await lock_published_post(session, post_id, user_id)
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
    author_id = await lock_published_post(session, post_id, user_id)
    deleted = await session.scalar(
        delete(Like).where(Like.post_id == post_id, Like.user_id == user_id).returning(Like.user_id)
    )
    if deleted is None:
        return await session.scalar(select(Post.like_count).where(Post.id == post_id))
    await notifications.withdraw(session, author_id, user_id, "like", post_id=post_id)
    return await _count(session, post_id, -1)
