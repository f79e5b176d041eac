"""Comments: oldest first, counted on the post in the same transaction."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.cursor import Position
from service.domain import notifications
from service.domain.likes import lock_published_post
from service.domain.users import UserSummary, avatar_key_of
from service.models import MAX_COMMENT_BODY_CHARS, Comment, Post, User
from service.text import text_error


class CommentNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


@dataclasses.dataclass(frozen=True)
class CommentView:
    id: int
    post_id: int
    post_author_id: int
    author: UserSummary
    body: str
    created_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.created_at, self.id)


def body_error(body: str) -> str | None:
    if not body:
        return "Write a comment first."
    if message := text_error(body, multiline=True):
        return message
    if len(body) > MAX_COMMENT_BODY_CHARS:
        return f"Use at most {MAX_COMMENT_BODY_CHARS:,} characters (this has {len(body):,})."
    return None


def _views_query():
    return (
        select(Comment, Post.author_id, User.username, User.display_name, avatar_key_of(User.id))
        .join(User, User.id == Comment.author_id)
        .join(Post, Post.id == Comment.post_id)
    )


def _view(row) -> CommentView:
    comment, post_author_id, username, display_name, avatar = row
    return CommentView(
        id=comment.id,
        post_id=comment.post_id,
        post_author_id=post_author_id,
        author=UserSummary.of(comment.author_id, username, display_name, avatar),
        body=comment.body,
        created_at=comment.created_at,
    )


async def add(session: AsyncSession, post_id: int, author_id: int, body: str) -> CommentView:
    post_author = await lock_published_post(session, post_id)
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
    return _view((await session.execute(_views_query().where(Comment.id == comment_id))).one())


async def page(
    session: AsyncSession, post_id: int, after: Position | None, limit: int
) -> list[CommentView]:
    """Oldest first, ``limit + 1`` at most (the extra one means there is more)."""
    query = (
        _views_query()
        .where(Comment.post_id == post_id)
        .order_by(Comment.created_at, Comment.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Comment.created_at, Comment.id) > tuple_(after.at, after.id))
    return [_view(row) for row in await session.execute(query)]


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
    row = (await session.execute(_views_query().where(Comment.id == comment_id))).one_or_none()
    if row is None:
        raise CommentNotFound(comment_id)
    view = _view(row)
    if viewer_id not in (view.author.id, view.post_author_id) and not viewer_is_moderator:
        raise NotAllowed("not yours to delete")
    await session.execute(delete(Comment).where(Comment.id == comment_id))
    await session.execute(
        update(Post).where(Post.id == view.post_id).values(comment_count=Post.comment_count - 1)
    )
    return view.post_id
