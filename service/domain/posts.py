"""Posts: creating, reading (one page of posts in a fixed number of queries), deleting."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.cursor import Position
from service.domain.users import UserSummary, avatar_key_of
from service.media import queue
from service.media.urls import rendition_key, urls_for
from service.models import MAX_POST_BODY_CHARS, Like, Photo, Post, User
from service.text import has_forbidden_characters


@dataclasses.dataclass(frozen=True)
class PhotoView:
    url: str  # the display size, longest edge 1080 px
    thumb_url: str  # a 320 px square
    width: int  # of the display size
    height: int
    alt: str


@dataclasses.dataclass(frozen=True)
class NewPhoto:
    """An uploaded photo that passed the checks, waiting in a spool file."""

    original: Path
    alt: str


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
    photos: tuple[PhotoView, ...] = ()

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


async def create_photo_post(
    session: AsyncSession, author_id: int, body: str, photos: Sequence[NewPhoto]
) -> int:
    """A photo post starts unpublished; one job per photo, recorded with it, makes it
    ready (see photo_ready)."""
    post_id = await session.scalar(
        insert(Post)
        .values(author_id=author_id, body=body, status="processing", published_at=None)
        .returning(Post.id)
    )
    for position, photo in enumerate(photos):
        prefix = queue.new_prefix("photos")
        photo_id = await session.scalar(
            insert(Photo)
            .values(post_id=post_id, position=position, alt=photo.alt, key_prefix=prefix)
            .returning(Photo.id)
        )
        await queue.enqueue_photo(session, photo_id, prefix, photo.original)
    return post_id


async def _photo_views(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[PhotoView]]:
    urls = urls_for(session)
    rows = await session.execute(
        select(Photo.post_id, Photo.key_prefix, Photo.extension, Photo.width, Photo.height)
        .add_columns(Photo.alt)
        .where(Photo.post_id.in_(ids), Photo.ready_at.is_not(None))
        .order_by(Photo.post_id, Photo.position)
    )
    photos: dict[int, list[PhotoView]] = {}
    for post_id, prefix, extension, width, height, alt in rows:
        photos.setdefault(post_id, []).append(
            PhotoView(
                url=urls(rendition_key(prefix, "display", extension)),
                thumb_url=urls(rendition_key(prefix, "thumb", extension)),
                width=width,
                height=height,
                alt=alt,
            )
        )
    return photos


async def post_views(
    session: AsyncSession, ids: Sequence[int], viewer_id: int | None
) -> list[PostView]:
    """The posts with ``ids``, in that order, with author, photos and counts: two queries
    however many posts a page shows."""
    if not ids:
        return []
    liked = exists().where(Like.post_id == Post.id, Like.user_id == (viewer_id or -1))
    avatar = avatar_key_of(User.id)
    rows = await session.execute(
        select(Post, User.username, User.display_name, avatar, liked)
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(ids))
    )
    photos = await _photo_views(session, ids)
    found = {
        post.id: PostView(
            id=post.id,
            author=UserSummary.of(post.author_id, username, display_name, avatar_key),
            body=post.body,
            status=post.status,
            created_at=post.created_at,
            published_at=post.published_at,
            like_count=post.like_count,
            comment_count=post.comment_count,
            liked=bool(viewer_liked),
            photos=tuple(photos.get(post.id, ())),
        )
        for post, username, display_name, avatar_key, viewer_liked in rows
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
    """Delete the post; its stored photos are deleted by jobs recorded here, so they go
    even if storage is down right now."""
    prefixes = list(await session.scalars(select(Photo.key_prefix).where(Photo.post_id == post_id)))
    deleted = (
        await session.execute(
            delete(Post).where(Post.id == post_id).returning(Post.author_id, Post.published_at)
        )
    ).one_or_none()
    if deleted is None:
        return False
    for prefix in prefixes:
        await queue.enqueue_delete(session, prefix)
    author_id, published_at = deleted
    if published_at is not None:
        await session.execute(
            update(User).where(User.id == author_id).values(post_count=User.post_count - 1)
        )
    return True


def positions(views: Sequence[PostView]) -> list[Position]:
    return [Position(view.shown_at, view.id) for view in views]


async def _lock_post_of(session: AsyncSession, photo_id: int) -> tuple[int, str, int] | None:
    """The photo's post (id, status, author), locked. Finishing photos lock the post first,
    as deleting it does, so two photos finishing at once see each other and never
    deadlock."""
    post_id = await session.scalar(select(Photo.post_id).where(Photo.id == photo_id))
    if post_id is None:
        return None
    row = (
        await session.execute(
            select(Post.status, Post.author_id).where(Post.id == post_id).with_for_update()
        )
    ).one_or_none()
    return None if row is None else (post_id, row.status, row.author_id)


async def photo_ready(
    session: AsyncSession, photo_id: int, extension: str, width: int, height: int
) -> bool:
    """Record a photo's stored renditions; when it is the post's last one, publish the post
    (published_at = now, the author's post count, the live announcement), all in this
    transaction. False when the photo no longer exists (its post was deleted)."""
    post = await _lock_post_of(session, photo_id)
    if post is None:
        return False
    post_id, status, author_id = post
    await session.execute(
        update(Photo)
        .where(Photo.id == photo_id)
        .values(extension=extension, width=width, height=height, ready_at=func.now())
    )
    waiting = await session.scalar(
        select(func.count()).where(Photo.post_id == post_id, Photo.ready_at.is_(None))
    )
    if status == "processing" and waiting == 0:
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(status="published", published_at=func.now())
        )
        await session.execute(
            update(User).where(User.id == author_id).values(post_count=User.post_count + 1)
        )
        await events.announce(session, events.post_published(post_id, author_id))
    return True


async def photo_failed(session: AsyncSession, photo_id: int) -> None:
    """A photo could not be processed: its post is marked failed (the author sees it and can
    delete it; nobody else ever does)."""
    post = await _lock_post_of(session, photo_id)
    if post is not None and post[1] == "processing":
        await session.execute(update(Post).where(Post.id == post[0]).values(status="failed"))


async def photo_is_pending(session: AsyncSession, photo_id: int) -> bool:
    """Whether the photo still waits to be processed: it exists and its post neither
    failed nor was deleted."""
    status = await session.scalar(
        select(Post.status).join(Photo, Photo.post_id == Post.id).where(Photo.id == photo_id)
    )
    return status == "processing"
