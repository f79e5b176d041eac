"""Comments: oldest first, counted on the post in the same transaction."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import discovery
from service.domain import mentions, notifications
from service.domain.likes import lock_published_post
from service.i18n import gettext as _
from service.models import MAX_COMMENT_BODY_CHARS, Comment, Post
from service.text import text_error


class CommentNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


def body_error(body: str) -> str | None:
    if not body:
        return _("Write a comment first.")
    if message := text_error(body, multiline=True):
        return message
    if len(body) > MAX_COMMENT_BODY_CHARS:
        return _("Use at most %(max)s characters (this has %(count)s).") % {
            "max": f"{MAX_COMMENT_BODY_CHARS:,}",
            "count": f"{len(body):,}",
        }
    mentioned = len(discovery.find(body).mentions)
    if mentioned > discovery.MAX_MENTIONS:
        return _("Mention at most %(max)s people (this has %(count)s).") % {
            "max": discovery.MAX_MENTIONS,
            "count": f"{mentioned:,}",
        }
    return None


async def add(session: AsyncSession, post_id: int, author_id: int, body: str) -> int:
    """Comment on a published post; the new comment's id."""
    post_author = await lock_published_post(session, post_id, author_id)
    comment_id = await session.scalar(
        insert(Comment)
        .values(post_id=post_id, author_id=author_id, body=body)
        .returning(Comment.id)
    )
    await session.execute(
        update(Post).where(Post.id == post_id).values(comment_count=Post.comment_count + 1)
    )
    await notifications.notify(
        session, post_author, author_id, "comment", post_id=post_id, comment_id=comment_id
    )
    await mentions.record_comment(session, comment_id, post_id, author_id, body)
    return comment_id


def may_delete(
    comment_author_id: int, post_author_id: int, viewer_id: int, viewer_is_moderator: bool
) -> bool:
    """A comment's author, the author of the post it is under, and moderators."""
    return viewer_id in (comment_author_id, post_author_id) or viewer_is_moderator


async def delete_as(
    session: AsyncSession, comment_id: int, viewer_id: int, viewer_is_moderator: bool
) -> int:
    """Delete as the comment's author, the post's author, or a moderator; returns the post
    id. Its notification goes with it (foreign key cascade)."""
    post_id = await session.scalar(select(Comment.post_id).where(Comment.id == comment_id))
    if post_id is None:
        raise CommentNotFound(comment_id)
    # The post first, then the comment: the order in which deleting the post locks them
    # (see likes.lock_published_post). If the post went meanwhile, so did the comment.
    await session.execute(select(Post.id).where(Post.id == post_id).with_for_update(key_share=True))
    row = (
        await session.execute(
            select(Comment.author_id, Post.author_id)
            .join(Post, Post.id == Comment.post_id)
            .where(Comment.id == comment_id)
        )
    ).one_or_none()
    if row is None:
        raise CommentNotFound(comment_id)
    comment_author_id, post_author_id = row
    if not may_delete(comment_author_id, post_author_id, viewer_id, viewer_is_moderator):
        raise NotAllowed("not yours to delete")
    await session.execute(delete(Comment).where(Comment.id == comment_id))
    await session.execute(
        update(Post).where(Post.id == post_id).values(comment_count=Post.comment_count - 1)
    )
    return post_id
