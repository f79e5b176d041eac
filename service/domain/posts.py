"""Posts: creating, reading (one page of posts in a fixed number of queries), deleting."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.cursor import Position
from service.domain.users import UserSummary
from service.models import MAX_POST_BODY_CHARS, Like, Post, User
from service.text import has_forbidden_characters


@dataclasses.dataclass(frozen=True)
class PostView:
    id: int
    author: UserSummary
    body: str
    status: str
    created_at: datetime
    published_at: datetime | None
    like_count: int
    comment_count: int
    liked: bool
    photos: tuple = ()

    @property
    def shown_at(self) -> datetime:
        return self.published_at or self.created_at


def normalize_body(body: str) -> str:
    return body.replace("\r\n", "\n").strip()


def body_error(body: str, has_photos: bool = False) -> str | None:
    if has_forbidden_characters(body, allow_newlines=True):
        return "Contains characters that are not allowed."
    if len(body) > MAX_POST_BODY_CHARS:
        return f"Use at most {MAX_POST_BODY_CHARS:,} characters (this has {len(body):,})."
    if not body and not has_photos:
        return "Write something or add a photo."
    return None


async def create_text_post(session: AsyncSession, author_id: int, body: str) -> int:
    """A text post is published the moment it is created."""
    post_id = await session.scalar(
        insert(Post)
        .values(author_id=author_id, body=body, status="published", published_at=func.now())
        .returning(Post.id)
    )
    await session.execute(
        update(User).where(User.id == author_id).values(post_count=User.post_count + 1)
    )
    await events.announce(session, events.post_published(post_id, author_id))
    return post_id


async def post_views(
    session: AsyncSession, ids: Sequence[int], viewer_id: int | None
) -> list[PostView]:
    """The posts with ``ids``, in that order, with author and counts: one query however
    many posts a page shows."""
    if not ids:
        return []
    liked = exists().where(Like.post_id == Post.id, Like.user_id == (viewer_id or -1))
    rows = await session.execute(
        select(Post, User.username, User.display_name, liked)
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(ids))
    )
    found = {
        post.id: PostView(
            id=post.id,
            author=UserSummary.of(post.author_id, username, display_name),
            body=post.body,
            status=post.status,
            created_at=post.created_at,
            published_at=post.published_at,
            like_count=post.like_count,
            comment_count=post.comment_count,
            liked=bool(viewer_liked),
        )
        for post, username, display_name, viewer_liked in rows
    }
    return [found[post_id] for post_id in ids if post_id in found]


async def visible_post(
    session: AsyncSession, post_id: int, viewer_id: int | None
) -> PostView | None:
    """A published post, or an unpublished one to its own author; None for anyone else."""
    [view] = await post_views(session, [post_id], viewer_id) or [None]
    if view is None or (view.published_at is None and view.author.id != viewer_id):
        return None
    return view


async def pending_posts(session: AsyncSession, author_id: int) -> list[PostView]:
    """The author's posts that are not published yet (processing or failed), newest first."""
    ids = await session.scalars(
        select(Post.id)
        .where(Post.author_id == author_id, Post.published_at.is_(None))
        .order_by(Post.created_at.desc())
    )
    return await post_views(session, list(ids), author_id)


async def author_of(session: AsyncSession, post_id: int) -> int | None:
    return await session.scalar(select(Post.author_id).where(Post.id == post_id))


async def delete_post(session: AsyncSession, post_id: int) -> bool:
    deleted = (
        await session.execute(
            delete(Post).where(Post.id == post_id).returning(Post.author_id, Post.published_at)
        )
    ).one_or_none()
    if deleted is None:
        return False
    author_id, published_at = deleted
    if published_at is not None:
        await session.execute(
            update(User).where(User.id == author_id).values(post_count=User.post_count - 1)
        )
    return True


def positions(views: Sequence[PostView]) -> list[Position]:
    return [Position(view.shown_at, view.id) for view in views]
