"""Posts: creating, publishing when their photos are ready, deleting; and photos uploaded
before their post (the Mastodon API's media), attached when the post is made."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Row, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service import discovery, events
from service.domain import mentions
from service.domain import restricted as restricted_photos
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.models import AUDIENCES, MAX_POST_BODY_CHARS, Photo, Post, Report, User
from service.storage import queue
from service.storage.urls import PUBLIC_PHOTO_KIND, RESTRICTED_KIND
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
        return _("Use at most %(max)s characters (this has %(count)s).") % {
            "max": f"{MAX_POST_BODY_CHARS:,}",
            "count": f"{len(body):,}",
        }
    if not body and not has_photos:
        return _("Write something or add a photo.")
    return discovery_error(body)


def discovery_error(body: str) -> str | None:
    """Too many hashtags or mentions for one post (docs/discovery.md)."""
    found = discovery.find(body)
    if len(found.tags) > discovery.MAX_TAGS_PER_POST:
        return _("Use at most %(max)s hashtags (this has %(count)s).") % {
            "max": discovery.MAX_TAGS_PER_POST,
            "count": f"{len(found.tags):,}",
        }
    if len(found.mentions) > discovery.MAX_MENTIONS:
        mentioned = len(found.mentions)
        return _("Mention at most %(max)s people (this has %(count)s).") % {
            "max": discovery.MAX_MENTIONS,
            "count": f"{mentioned:,}",
        }
    return None


# As the form's (handlers/posting.py) and the photos table's position check allow.
MAX_PHOTOS_PER_POST = 4


class PostRefused(ValueError):
    """The post cannot be made as asked; the message says why, to show beside the body."""


def audience_error(audience: str) -> str | None:
    if audience not in AUDIENCES:
        return _("Choose who the post is for: public, unlisted or followers.")
    return None


PRIVATE_NOT_PUBLIC = lazy_gettext(
    "Your account is private: choose followers only or unlisted for this post. Make the"
    " account public first to post for everyone."
)


async def _refuse_public_if_private(
    session: AsyncSession, author_id: int, audience: str | None
) -> None:
    """A private account's posts are never public (its default never is either: a check
    on users)."""
    if audience == "public" and await session.scalar(
        select(User.locked).where(User.id == author_id)
    ):
        raise PostRefused(str(PRIVATE_NOT_PUBLIC))


def _audience(author_id: int, audience: str | None):
    """The audience asked for, or else the author's default, read in the insert itself."""
    if audience is not None:
        return audience
    return select(User.default_audience).where(User.id == author_id).scalar_subquery()


async def create_post(
    session: AsyncSession,
    author_id: int,
    body: str,
    photos: Sequence[NewPhoto] = (),
    audience: str | None = None,
) -> int:
    """The one way a post is made, from a page, the API or any other client: the body is
    normalised and checked, then a text post is published at once and a photo post waits
    for its photos. ``audience`` None is the author's default. Raises PostRefused before
    writing anything."""
    body = normalize_body(body)
    if message := body_error(body, has_photos=bool(photos)):
        raise PostRefused(message)
    if audience is not None and (message := audience_error(audience)):
        raise PostRefused(message)
    await _refuse_public_if_private(session, author_id, audience)
    if photos:
        return await create_photo_post(session, author_id, body, photos, audience)
    return await create_text_post(session, author_id, body, audience)


async def create_text_post(
    session: AsyncSession, author_id: int, body: str, audience: str | None = None
) -> int:
    """A text post is published the moment it is created."""
    post_id = await _insert_published(session, author_id, body, audience)
    await _published(session, post_id, author_id, body)
    return post_id


async def _insert_published(
    session: AsyncSession, author_id: int, body: str, audience: str | None
) -> int:
    """A post published at once (its photos, if any, are ready): its id."""
    post_id = await session.scalar(
        insert(Post)
        .values(
            author_id=author_id,
            body=body,
            status="published",
            published_at=func.now(),
            audience=_audience(author_id, audience),
        )
        .returning(Post.id)
    )
    return post_id


async def _published(session: AsyncSession, post_id: int, author_id: int, body: str) -> None:
    """What follows a post published at once: its mentions, its author's count, the news."""
    await mentions.record_post(session, post_id, body)
    await session.execute(
        update(User).where(User.id == author_id).values(post_count=User.post_count + 1)
    )
    await _announce_published(session, post_id, author_id)


async def _announce_published(session: AsyncSession, post_id: int, author_id: int) -> None:
    """A post was published: those it mentions are told, then everyone live."""
    await mentions.post_published(session, post_id, author_id)
    await events.announce(session, events.post_published(post_id, author_id))


async def create_photo_post(
    session: AsyncSession,
    author_id: int,
    body: str,
    photos: Sequence[NewPhoto],
    audience: str | None = None,
) -> int:
    """A photo post starts unpublished; one job per photo, recorded with it, makes it
    ready (see photo_ready). The photos of a post that is not public are restricted
    (domain/restricted.py) and stored under the restricted kind at once, so they never
    need moving."""
    if audience is None:
        audience = await session.scalar(select(User.default_audience).where(User.id == author_id))
    restricted = audience != "public"
    post_id = await session.scalar(
        insert(Post)
        .values(
            author_id=author_id,
            body=body,
            status="processing",
            published_at=None,
            audience=audience,
        )
        .returning(Post.id)
    )
    await mentions.record_post(session, post_id, body)
    for position, photo in enumerate(photos):
        prefix = queue.new_prefix(RESTRICTED_KIND if restricted else PUBLIC_PHOTO_KIND)
        photo_id = await session.scalar(
            insert(Photo)
            .values(
                post_id=post_id,
                owner_id=author_id,
                position=position,
                alt=photo.alt,
                key_prefix=prefix,
                restricted=restricted,
            )
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


async def set_audience(session: AsyncSession, post_id: int, author_id: int, audience: str) -> None:
    """Change who the author's post is for; every list, page and API answer reads it from
    the post, so the change shows everywhere at once, and its photos are restricted or
    made public with it. Raises PostRefused for an audience
    that is none, PostNotFound when the post is gone or not the author's (others may not
    even learn it exists)."""
    if message := audience_error(audience):
        raise PostRefused(message)
    change = update(Post).where(Post.id == post_id, Post.author_id == author_id)
    if audience == "public":
        # A private account's post is made public by nobody (one already public, from
        # before the account was private, may stay so).
        author_locked = select(User.locked).where(User.id == author_id).scalar_subquery()
        change = change.where(or_(Post.audience == "public", ~author_locked))
    changed = await session.scalar(change.values(audience=audience).returning(Post.id))
    if changed is None and audience == "public":
        await _refuse_public_if_private(session, author_id, audience)
    if changed is None:
        raise PostNotFound(post_id)
    # Its photos follow: restricted unless public (moved by durable jobs, signed-only
    # from this commit on).
    await restricted_photos.set_post_photos_restricted(session, post_id, audience != "public")


async def delete_post(session: AsyncSession, post_id: int) -> bool:
    """Delete the post; its stored photos are deleted by jobs recorded here, so they go
    even if storage is down right now. Photos a report keeps as evidence stay stored
    (domain/reports.py); the storage sweep counts them as owned."""
    prefixes = list(await session.scalars(select(Photo.key_prefix).where(Photo.post_id == post_id)))
    # Read before the post goes: its deletion sets the reports' post_id to NULL.
    kept = set(
        await session.scalars(
            select(func.unnest(Report.photo_keys)).where(Report.post_id == post_id)
        )
    )
    deleted = (
        await session.execute(
            delete(Post)
            .where(Post.id == post_id)
            .returning(Post.author_id, Post.published_at, Post.status_id)
        )
    ).one_or_none()
    if deleted is None:
        return False
    for prefix in prefixes:
        if not any(key.startswith(prefix + "/") for key in kept):
            await queue.enqueue_delete(session, prefix)
    author_id, published_at, status_id = deleted
    if published_at is not None:
        await session.execute(
            update(User).where(User.id == author_id).values(post_count=User.post_count - 1)
        )
    if status_id is not None:
        await events.announce(session, events.post_deleted(post_id, author_id, status_id))
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
    post was deleted). A photo uploaded before its post is only marked ready."""
    rendered = {
        "extension": extension,
        "width": width,
        "height": height,
        "renditions": renditions,
        "blurhash": blurhash,
        "ready_at": func.now(),
    }
    unattached = await session.scalar(
        update(Photo)
        .where(Photo.id == photo_id, Photo.post_id.is_(None))
        .values(**rendered)
        .returning(Photo.id)
    )
    if unattached is not None:
        return True  # ready to be attached; nothing to publish yet
    post = await _lock_post_of(session, photo_id)
    if post is None:
        return False
    post_id, status, author_id = post
    await session.execute(update(Photo).where(Photo.id == photo_id).values(**rendered))
    await restricted_photos.move_if_misplaced(session, photo_id)
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
        await _announce_published(session, post_id, author_id)
    return True


async def photo_renditions_ready(
    session: AsyncSession,
    photo_id: int,
    key_prefix: str,
    renditions: list[dict],
    blurhash: str | None,
) -> bool:
    """Record the widths and BlurHash made for a photo processed before they existed, stored
    under ``key_prefix``. False when the photo no longer exists (its post was deleted
    meanwhile) or has moved to another prefix (domain/restricted.py): the objects stored
    are to be deleted, since the delete may have run before they were stored."""
    post = await _lock_post_of(session, photo_id)
    if post is None:
        return False
    recorded = await session.scalar(
        update(Photo)
        .where(Photo.id == photo_id, Photo.key_prefix == key_prefix)
        .values(renditions=renditions, blurhash=blurhash)
        .returning(Photo.id)
    )
    return recorded is not None


async def photo_failed(session: AsyncSession, photo_id: int) -> None:
    """A photo could not be processed: its post is marked failed (the author sees it and can
    delete it; nobody else ever does)."""
    await session.execute(
        update(Photo)
        .where(Photo.id == photo_id, Photo.post_id.is_(None))
        .values(failed_at=func.now())
    )
    post = await _lock_post_of(session, photo_id)
    if post is not None and post[1] == "processing":
        post_id, _, author_id = post
        await session.execute(update(Post).where(Post.id == post_id).values(status="failed"))
        await events.announce(session, events.post_failed(post_id, author_id))


async def photo_lacking_renditions(session: AsyncSession, photo_id: int) -> Row | None:
    """The prefix and the display size's extension of the photo when it is processed,
    still exists, and has no widths for srcset yet; else None (nothing to make)."""
    return (
        await session.execute(
            select(Photo.key_prefix, Photo.extension).where(
                Photo.id == photo_id, Photo.ready_at.is_not(None), Photo.renditions.is_(None)
            )
        )
    ).one_or_none()


async def photo_is_pending(session: AsyncSession, photo_id: int) -> bool:
    """Whether the photo still waits to be processed: it exists, and either waits
    unattached or its post neither failed nor was deleted."""
    photo = (
        await session.execute(
            select(Photo.post_id, Photo.ready_at, Photo.failed_at).where(Photo.id == photo_id)
        )
    ).one_or_none()
    if photo is None:
        return False
    if photo.post_id is None:
        return photo.ready_at is None and photo.failed_at is None
    status = await session.scalar(select(Post.status).where(Post.id == photo.post_id))
    return status == "processing"


# Unattached uploads older than this are removed by housekeeping (docs/media.md).
UNATTACHED_MEDIA_LIFETIME = timedelta(days=1)


async def upload_media(session: AsyncSession, owner_id: int, photo: NewPhoto) -> int:
    """A photo with no post yet, processed by the same durable job as a post's; its id.
    It waits for its owner to attach it to a post (create_post_with_media)."""
    prefix = queue.new_prefix("photos")
    photo_id = await session.scalar(
        insert(Photo)
        .values(post_id=None, owner_id=owner_id, position=0, alt=photo.alt, key_prefix=prefix)
        .returning(Photo.id)
    )
    await queue.enqueue_photo(session, photo_id, prefix, photo.original)
    return photo_id


async def describe_media(session: AsyncSession, owner_id: int, photo_id: int, alt: str) -> bool:
    """Set the alt text of one of the owner's unattached photos; False when they have none
    by that id."""
    changed = await session.scalar(
        update(Photo)
        .where(Photo.id == photo_id, Photo.owner_id == owner_id, Photo.post_id.is_(None))
        .values(alt=alt)
        .returning(Photo.id)
    )
    return changed is not None


class MediaRefused(ValueError):
    """Media that cannot be attached; the message says why."""


async def create_post_with_media(
    session: AsyncSession,
    author_id: int,
    body: str,
    photo_ids: Sequence[int],
    audience: str | None = None,
) -> int:
    """A post of the author's own unattached, processed photos, in the order given: it is
    published at once, since its photos are ready. Raises PostRefused or MediaRefused
    before anything is written."""
    body = normalize_body(body)
    if message := body_error(body, has_photos=True):
        raise PostRefused(message)
    if audience is not None and (message := audience_error(audience)):
        raise PostRefused(message)
    await _refuse_public_if_private(session, author_id, audience)
    if len(photo_ids) > MAX_PHOTOS_PER_POST:
        raise MediaRefused(_("Attach at most %(max)s photos.") % {"max": MAX_PHOTOS_PER_POST})
    # Locked in id order, as the housekeeping that removes old uploads takes them.
    rows = {
        row.id: row
        for row in await session.execute(
            select(Photo.id, Photo.ready_at, Photo.failed_at)
            .where(Photo.id.in_(photo_ids), Photo.owner_id == author_id, Photo.post_id.is_(None))
            .order_by(Photo.id)
            .with_for_update()
        )
    }
    if set(rows) != set(photo_ids):
        raise MediaRefused(_("No such media: each must be your own and not attached yet."))
    if any(row.failed_at is not None for row in rows.values()):
        raise MediaRefused(_("A photo could not be processed: upload it again."))
    if any(row.ready_at is None for row in rows.values()):
        raise MediaRefused(_("Cannot attach files that have not finished processing. Try again!"))
    post_id = await _insert_published(session, author_id, body, audience)
    for position, photo_id in enumerate(photo_ids):
        await session.execute(
            update(Photo).where(Photo.id == photo_id).values(post_id=post_id, position=position)
        )
    # Uploaded before their post, under the public kind: a post that is not public
    # restricts them, signed-only from this commit and moved by their jobs.
    chosen = await session.scalar(select(Post.audience).where(Post.id == post_id))
    if chosen != "public":
        await restricted_photos.set_post_photos_restricted(session, post_id, True)
    await _published(session, post_id, author_id, body)
    return post_id


async def forget_unattached_media(session: AsyncSession, older_than: timedelta) -> int:
    """Remove uploads never attached to a post within ``older_than``, their stored objects
    through durable delete jobs; how many."""
    prefixes = list(
        await session.scalars(
            delete(Photo)
            .where(
                Photo.post_id.is_(None),
                Photo.created_at < func.now() - older_than,
            )
            .returning(Photo.key_prefix)
        )
    )
    for prefix in prefixes:
        await queue.enqueue_delete(session, prefix)
    return len(prefixes)


async def forget_media_of(session: AsyncSession, owner_id: int) -> list[str]:
    """Remove the owner's unattached uploads (their account is going); the prefixes whose
    deletion was recorded."""
    prefixes = list(
        await session.scalars(
            delete(Photo)
            .where(Photo.owner_id == owner_id, Photo.post_id.is_(None))
            .returning(Photo.key_prefix)
        )
    )
    for prefix in prefixes:
        await queue.enqueue_delete(session, prefix)
    return prefixes
