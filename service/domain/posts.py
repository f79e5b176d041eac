"""Posts: creating, publishing when their photos are ready, deleting."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.models import MAX_POST_BODY_CHARS, Photo, Post, User
from service.storage import queue
from service.text import text_error, trim


@dataclasses.dataclass(frozen=True)
class NewPhoto:
    """An uploaded photo that passed the checks, waiting in a spool file."""

    original: Path
    alt: str


def normalize_body(body: str) -> str:
    return trim(body.replace("\r\n", "\n"))


def body_error(body: str, has_photos: bool = False) -> str | None:
    if message := text_error(body, multiline=True):
        return message
    if len(body) > MAX_POST_BODY_CHARS:
        return f"Use at most {MAX_POST_BODY_CHARS:,} characters (this has {len(body):,})."
    if not body and not has_photos:
        return "Write something or add a photo."
    return None


class PostRefused(ValueError):
    """The post cannot be made as asked; the message says why, to show beside the body."""


async def create_post(
    session: AsyncSession, author_id: int, body: str, photos: Sequence[NewPhoto] = ()
) -> int:
    """The one way a post is made, from a page, the API or any other client: the body is
    normalised and checked, then a text post is published at once and a photo post waits
    for its photos. Raises PostRefused before writing anything."""
    body = normalize_body(body)
    if message := body_error(body, has_photos=bool(photos)):
        raise PostRefused(message)
    if photos:
        return await create_photo_post(session, author_id, body, photos)
    return await create_text_post(session, author_id, body)


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


class PostNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


def may_delete(author_id: int, viewer_id: int, viewer_is_moderator: bool) -> bool:
    """Authors delete their own posts; moderators and admins delete anyone's."""
    return author_id == viewer_id or viewer_is_moderator


async def delete_as(
    session: AsyncSession, post_id: int, viewer_id: int, viewer_is_moderator: bool
) -> None:
    """Delete the post as the viewer: PostNotFound, or NotAllowed when it is not theirs to
    delete."""
    author_id = await session.scalar(
        select(Post.author_id).where(Post.id == post_id).with_for_update()
    )
    if author_id is None:
        raise PostNotFound(post_id)
    if not may_delete(author_id, viewer_id, viewer_is_moderator):
        raise NotAllowed("not yours to delete")
    await delete_post(session, post_id)


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
    session: AsyncSession,
    photo_id: int,
    extension: str,
    width: int,
    height: int,
    renditions: list[dict] | None = None,
    blurhash: str | None = None,
) -> bool:
    """Record a photo's stored renditions (the display size's ``extension`` and dimensions,
    the widths for srcset as ``photos.renditions`` records them, its BlurHash); when it is
    the post's last one, publish the post (published_at = now, the author's post count, the
    live announcement), all in this transaction. False when the photo no longer exists (its
    post was deleted)."""
    post = await _lock_post_of(session, photo_id)
    if post is None:
        return False
    post_id, status, author_id = post
    await session.execute(
        update(Photo)
        .where(Photo.id == photo_id)
        .values(
            extension=extension,
            width=width,
            height=height,
            renditions=renditions,
            blurhash=blurhash,
            ready_at=func.now(),
        )
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


async def photo_renditions_ready(
    session: AsyncSession, photo_id: int, renditions: list[dict], blurhash: str | None
) -> bool:
    """Record the widths and BlurHash made for a photo processed before they existed. False
    when the photo no longer exists (its post was deleted meanwhile): its objects are to be
    deleted again, since the delete may have run before they were stored."""
    post = await _lock_post_of(session, photo_id)
    if post is None:
        return False
    await session.execute(
        update(Photo).where(Photo.id == photo_id).values(renditions=renditions, blurhash=blurhash)
    )
    return True


async def photo_failed(session: AsyncSession, photo_id: int) -> None:
    """A photo could not be processed: its post is marked failed (the author sees it and can
    delete it; nobody else ever does)."""
    post = await _lock_post_of(session, photo_id)
    if post is not None and post[1] == "processing":
        post_id, _, author_id = post
        await session.execute(update(Post).where(Post.id == post_id).values(status="failed"))
        await events.announce(session, events.post_failed(post_id, author_id))


async def photo_lacking_renditions(session: AsyncSession, photo_id: int) -> str | None:
    """The extension of the photo's display size when it is processed, still exists, and
    has no widths for srcset yet; else None (nothing to make)."""
    return await session.scalar(
        select(Photo.extension).where(
            Photo.id == photo_id, Photo.ready_at.is_not(None), Photo.renditions.is_(None)
        )
    )


async def photo_is_pending(session: AsyncSession, photo_id: int) -> bool:
    """Whether the photo still waits to be processed: it exists and its post neither
    failed nor was deleted."""
    status = await session.scalar(
        select(Post.status).join(Photo, Photo.post_id == Post.id).where(Photo.id == photo_id)
    )
    return status == "processing"
