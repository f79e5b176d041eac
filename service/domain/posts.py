"""Posts: creating, reading (one page of posts in a fixed number of queries), deleting."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import asyncpg
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import events
from service.domain.users import AVATAR_SMALL, UserSummary
from service.media import queue
from service.media.urls import MediaUrls, rendition_key
from service.models import MAX_POST_BODY_CHARS, Photo, Post, User
from service.text import text_error, trim


# Views are named tuples: a page builds dozens of them, and a tuple is built several times
# faster than a frozen dataclass.
class PhotoView(NamedTuple):
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


class PostView(NamedTuple):
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


# Everything a post card shows, for the rows ``{rows}`` names ``page``, in ``{order}``: the
# post, its author and their small avatar, whether viewer $1 liked it, and its processed
# photos as parallel arrays (an aggregate always gives one row, NULLs when there are none).
# One statement and one round trip for a whole page; each part is a primary-key or index
# lookup per post, so the cost follows the page size, never the tables'. (OFFSET 0 keeps
# PostgreSQL from reading all of the viewer's likes into a hash instead, which a generic
# plan would choose for everyone, however many posts they have liked.)
_POST_CARDS = """
    SELECT p.id, p.author_id, u.username, u.display_name,
           (SELECT a.key_prefix || '/{avatar_size}.' || a.extension
              FROM avatars a
             WHERE a.user_id = p.author_id AND a.key_prefix IS NOT NULL) AS avatar_key,
           p.body, p.status, p.created_at, p.published_at, p.like_count, p.comment_count,
           EXISTS (SELECT FROM likes l WHERE l.post_id = p.id AND l.user_id = $1
                    OFFSET 0) AS liked,
           ph.prefixes, ph.extensions, ph.widths, ph.heights, ph.alts
      FROM {rows}
      JOIN posts p ON p.id = page.id
      JOIN users u ON u.id = p.author_id
     CROSS JOIN LATERAL (
           SELECT array_agg(f.key_prefix ORDER BY f.position) AS prefixes,
                  array_agg(f.extension ORDER BY f.position) AS extensions,
                  array_agg(f.width ORDER BY f.position) AS widths,
                  array_agg(f.height ORDER BY f.position) AS heights,
                  array_agg(f.alt ORDER BY f.position) AS alts
             FROM photos f
            WHERE f.post_id = p.id AND f.ready_at IS NOT NULL) AS ph
     ORDER BY {order}
"""


def cards_of_feed(feed: str) -> str:
    """The statement that shows the posts a feed statement picks (rows of id and
    published_at, in timeline order), in that order. Its parameter $1 is the viewer."""
    return _POST_CARDS.format(
        avatar_size=AVATAR_SMALL,
        rows=f"({feed}) AS page",
        order="page.published_at DESC, page.id DESC",
    )


# The posts with ids $2, in that order.
_CARDS_BY_ID = _POST_CARDS.format(
    avatar_size=AVATAR_SMALL,
    rows="unnest($2::bigint[]) WITH ORDINALITY AS page(id, position)",
    order="page.position",
)

# The unpublished posts of author $1, who is also the viewer.
_PENDING_CARDS = _POST_CARDS.format(
    avatar_size=AVATAR_SMALL,
    rows="""(SELECT id, created_at FROM posts
              WHERE author_id = $1 AND published_at IS NULL) AS page""",
    order="page.created_at DESC, page.id DESC",
)


def post_view(row: Sequence, urls: MediaUrls) -> PostView:
    """A row of a post-cards statement as what pages and the API show."""
    (
        post_id, author_id, username, display_name, avatar_key,
        body, status, created_at, published_at, like_count, comment_count, liked,
        prefixes, extensions, widths, heights, alts,
    ) = row  # fmt: skip
    photos = ()
    if prefixes:
        photos = tuple(
            PhotoView(
                urls(rendition_key(prefix, "display", extension)),
                urls(rendition_key(prefix, "thumb", extension)),
                width,
                height,
                alt,
            )
            for prefix, extension, width, height, alt in zip(
                prefixes, extensions, widths, heights, alts, strict=True
            )
        )
    return PostView(
        post_id,
        UserSummary.of(author_id, username, display_name, avatar_key),
        body,
        status,
        created_at,
        published_at,
        like_count,
        comment_count,
        liked,
        photos,
    )


async def post_views(
    connection: asyncpg.Connection, urls: MediaUrls, ids: Sequence[int], viewer_id: int | None
) -> list[PostView]:
    """The posts with ``ids`` that exist, in that order, with author, photos and counts:
    one statement however many posts there are."""
    if not ids:
        return []
    rows = await connection.fetch(_CARDS_BY_ID, viewer_id, list(ids))
    return [post_view(row, urls) for row in rows]


async def visible_post(
    connection: asyncpg.Connection, urls: MediaUrls, post_id: int, viewer_id: int | None
) -> PostView | None:
    """A published post, or an unpublished one to its own author; None for anyone else."""
    [view] = await post_views(connection, urls, [post_id], viewer_id) or [None]
    if view is None or (view.published_at is None and view.author.id != viewer_id):
        return None
    return view


async def pending_posts(
    connection: asyncpg.Connection, urls: MediaUrls, author_id: int
) -> list[PostView]:
    """The author's posts that are not published yet (processing or failed), newest first."""
    rows = await connection.fetch(_PENDING_CARDS, author_id)
    return [post_view(row, urls) for row in rows]


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
