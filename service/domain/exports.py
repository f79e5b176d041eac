"""Archives of an account for its owner to take away: asked for on a settings page (one in
the making at a time), built by a durable account job (service/workers/accounts.py) from
what is gathered here, downloadable by the owner until it expires, then removed from
storage by housekeeping through the media delete jobs."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import (
    AccountJob,
    AccountWarning,
    Avatar,
    Comment,
    Export,
    Follow,
    Photo,
    Post,
    User,
)
from service.storage import queue
from service.storage.urls import ARCHIVE_FILENAME, rendition_key

CONTENT_TYPE = "application/zip"
# The avatar's largest stored size (service/workers/media/images.py AVATAR_EDGES_PX).
AVATAR_LARGEST = "400"


@dataclasses.dataclass(frozen=True)
class ArchiveFile:
    """A stored object to copy into the archive under ``name``."""

    key: str
    name: str


@dataclasses.dataclass(frozen=True)
class ArchiveContents:
    """What an archive holds: four JSON documents and the stored files they name."""

    profile: dict[str, Any]
    posts: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    files: list[ArchiveFile]


def archive_key(key_prefix: str) -> str:
    return f"{key_prefix}/{ARCHIVE_FILENAME}"


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def request_export(session: AsyncSession, user_id: int) -> int | None:
    """Ask for an archive of the account: the export's id, or None while another one is
    still being made (the partial unique index decides, whatever the concurrency)."""
    export_id = await session.scalar(
        upsert(Export)
        .values(user_id=user_id, key_prefix=queue.new_prefix("archives"))
        .on_conflict_do_nothing(
            index_elements=[Export.user_id],
            index_where=text("ready_at IS NULL AND failed_at IS NULL"),
        )
        .returning(Export.id)
    )
    if export_id is not None:
        await session.execute(
            insert(AccountJob).values(kind="export", user_id=user_id, export_id=export_id)
        )
    return export_id


async def recent_exports(session: AsyncSession, user_id: int, limit: int = 5) -> list[Export]:
    """The owner's latest archives, newest first, for the settings page."""
    rows = await session.scalars(
        select(Export)
        .where(Export.user_id == user_id)
        .order_by(Export.created_at.desc(), Export.id.desc())
        .limit(limit)
    )
    return list(rows)


async def owned_export(session: AsyncSession, export_id: int, user_id: int) -> Export | None:
    """The export if it is this user's: nobody else learns that it exists."""
    return await session.scalar(
        select(Export).where(Export.id == export_id, Export.user_id == user_id)
    )


def is_available(export: Export, now: datetime) -> bool:
    return (
        export.ready_at is not None
        and export.removed_at is None
        and export.expires_at is not None
        and export.expires_at > now
    )


def _largest_photo(photo: Photo) -> str | None:
    """The key of the photo's largest stored rendition: its widest width, or the display
    size for a photo processed before widths existed. None while it is processed."""
    if photo.ready_at is None or photo.extension is None:
        return None
    if photo.renditions:
        widest = max(photo.renditions, key=lambda item: item["width"])
        return rendition_key(photo.key_prefix, f"w{widest['width']}", widest["format"])
    return rendition_key(photo.key_prefix, "display", photo.extension)


async def _posts(session: AsyncSession, user_id: int) -> tuple[list[dict], list[ArchiveFile]]:
    posts = list(
        await session.scalars(
            select(Post).where(Post.author_id == user_id).order_by(Post.created_at, Post.id)
        )
    )
    photos: dict[int, list[Photo]] = {}
    for photo in await session.scalars(
        select(Photo)
        .join(Post, Post.id == Photo.post_id)
        .where(Post.author_id == user_id)
        .order_by(Photo.post_id, Photo.position)
    ):
        photos.setdefault(photo.post_id, []).append(photo)
    documents, files = [], []
    for post in posts:
        shown = []
        for photo in photos.get(post.id, []):
            key = _largest_photo(photo)
            name = None
            if key is not None:
                name = f"photos/{post.id}-{photo.position + 1}.{key.rsplit('.', 1)[1]}"
                files.append(ArchiveFile(key, name))
            shown.append({"file": name, "alt": photo.alt})
        documents.append(
            {
                "id": post.id,
                "text": post.body,
                "status": post.status,
                "created_at": _stamp(post.created_at),
                "published_at": _stamp(post.published_at),
                "likes": post.like_count,
                "comments": post.comment_count,
                "photos": shown,
            }
        )
    return documents, files


async def _comments(session: AsyncSession, user_id: int) -> list[dict]:
    rows = await session.execute(
        select(Comment.id, Comment.body, Comment.created_at, Comment.post_id, User.username)
        .join(Post, Post.id == Comment.post_id)
        .join(User, User.id == Post.author_id)
        .where(Comment.author_id == user_id)
        .order_by(Comment.created_at, Comment.id)
    )
    return [
        {
            "id": row.id,
            "text": row.body,
            "created_at": _stamp(row.created_at),
            "post_id": row.post_id,
            "post_author": row.username,
        }
        for row in rows
    ]


async def _warnings(session: AsyncSession, user_id: int) -> list[dict]:
    """The moderators' warnings to the account: what they said and when, and when the owner
    acknowledged it; not which moderator (the owner was never told that either)."""
    rows = await session.execute(
        select(AccountWarning.message, AccountWarning.created_at, AccountWarning.acknowledged_at)
        .where(AccountWarning.user_id == user_id)
        .order_by(AccountWarning.created_at, AccountWarning.id)
    )
    return [
        {
            "message": row.message,
            "created_at": _stamp(row.created_at),
            "acknowledged_at": _stamp(row.acknowledged_at),
        }
        for row in rows
    ]


async def archive_contents(session: AsyncSession, user_id: int) -> ArchiveContents | None:
    """Everything the account made, as the archive shows it; None if it is gone. Read in
    one REPEATABLE READ transaction by the caller, so the documents agree with each other."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    posts, files = await _posts(session, user_id)
    following = list(
        await session.scalars(
            select(User.username)
            .join(Follow, Follow.followed_id == User.id)
            .where(Follow.follower_id == user_id)
            .order_by(func.lower(User.username))
        )
    )
    avatar = (
        await session.execute(
            select(Avatar.key_prefix, Avatar.extension).where(Avatar.user_id == user_id)
        )
    ).one_or_none()
    avatar_name = None
    if avatar is not None and avatar.key_prefix:
        avatar_name = f"avatar.{avatar.extension}"
        files.append(
            ArchiveFile(
                rendition_key(avatar.key_prefix, AVATAR_LARGEST, avatar.extension), avatar_name
            )
        )
    profile = {
        "username": user.username,
        "display_name": user.display_name,
        "bio": user.bio,
        "location": user.location,
        "email": user.email,
        "created_at": _stamp(user.created_at),
        "email_confirmed_at": _stamp(user.email_confirmed_at),
        "avatar": avatar_name,
        "posts": user.post_count,
        "followers": user.followers_count,
        "following": following,
    }
    return ArchiveContents(
        profile,
        posts,
        await _comments(session, user_id),
        await _warnings(session, user_id),
        files,
    )


async def archive_ready(
    session: AsyncSession, export_id: int, size_bytes: int, lifetime: timedelta
) -> tuple[User, datetime] | None:
    """Record the stored archive: its owner (to mail) and until when it may be downloaded;
    None if the export is gone (its account was deleted meanwhile)."""
    expires_at = await session.scalar(
        update(Export)
        .where(Export.id == export_id)
        .values(ready_at=func.now(), expires_at=func.now() + lifetime, size_bytes=size_bytes)
        .returning(Export.expires_at)
    )
    if expires_at is None:
        return None
    owner = await session.scalar(
        select(User).join(Export, Export.user_id == User.id).where(Export.id == export_id)
    )
    return owner, expires_at


async def archive_failed(session: AsyncSession, export_id: int) -> None:
    """The archive could not be made; its owner may ask again. Whatever an attempt may
    have stored goes."""
    prefix = await session.scalar(
        update(Export)
        .where(Export.id == export_id)
        .values(failed_at=func.now(), removed_at=func.now())
        .returning(Export.key_prefix)
    )
    if prefix is not None:
        await queue.enqueue_delete(session, prefix)


async def remove_expired(session: AsyncSession) -> int:
    """Delete the stored archives past their time, through durable delete jobs; their rows
    stay, so their links answer 410 Gone. How many were removed."""
    prefixes = list(
        await session.scalars(
            update(Export)
            .where(Export.removed_at.is_(None), Export.expires_at < func.now())
            .values(removed_at=func.now())
            .returning(Export.key_prefix)
        )
    )
    for prefix in prefixes:
        await queue.enqueue_delete(session, prefix)
    return len(prefixes)
