"""Restricted photos (docs/media.md, "Restricted photos"): a photo only its post's audience
may see is flagged, served only by signed, short-lived URLs, and its objects are moved to
the ``restricted/`` kind of key, which no public URL reaches. The flag changes at once, in
the caller's transaction; a durable ``move`` job then carries the objects over: it copies
them to a fresh prefix of the other kind, switches the photo to it in one transaction
(with a delete job for the old prefix), and so loses nothing if it dies at any point."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Photo
from service.storage import queue
from service.storage.urls import is_restricted, rendition_key

# The renditions every processed photo has, besides its widths for srcset.
PHOTO_RENDITIONS = ("display", "thumb")

# Report evidence (reports.photo_keys) follows its photo to the new prefix, so the old
# prefix's delete takes nothing a moderator still needs.
_FOLLOW_EVIDENCE = text(
    """
    UPDATE reports r
       SET photo_keys = ARRAY(
           SELECT CASE WHEN starts_with(k.key, :old || '/')
                       THEN :new || substr(k.key, length(:old) + 1) ELSE k.key END
             FROM unnest(r.photo_keys) WITH ORDINALITY AS k(key, n)
            ORDER BY k.n)
     WHERE r.post_id = :post_id
       AND EXISTS (SELECT FROM unnest(r.photo_keys) k(key) WHERE starts_with(k.key, :old || '/'))
    """
)


async def set_post_photos_restricted(session: AsyncSession, post_id: int, restricted: bool) -> int:
    """Restrict the post's photos (or lift it): from this transaction's commit on they are
    named only by signed URLs (or by their public ones once back under the public kind),
    and a job per changed photo moves its objects. How many photos changed."""
    changed = list(
        await session.scalars(
            update(Photo)
            .where(Photo.post_id == post_id, Photo.restricted.is_not(restricted))
            .values(restricted=restricted)
            .returning(Photo.id)
        )
    )
    # A photo still being processed is moved too, once ready (move_if_misplaced); its job
    # here then finds nothing to do.
    for photo_id in changed:
        await queue.enqueue_move(session, photo_id, restricted)
    return len(changed)


async def move_if_misplaced(session: AsyncSession, photo_id: int) -> None:
    """When a photo has just been processed under the kind its flag no longer asks for
    (restricted or lifted while it was processed), record the move that fixes it."""
    row = (
        await session.execute(
            select(Photo.restricted, Photo.key_prefix).where(Photo.id == photo_id)
        )
    ).one_or_none()
    if row is not None and row.restricted != is_restricted(row.key_prefix):
        await queue.enqueue_move(session, photo_id, row.restricted)


@dataclasses.dataclass(frozen=True)
class PhotoToMove:
    post_id: int | None
    key_prefix: str
    extension: str
    renditions: list[dict] | None

    def keys(self, target_prefix: str) -> list[tuple[str, str]]:
        """Each stored object's key and the key it gets under ``target_prefix``."""
        names = [(name, self.extension) for name in PHOTO_RENDITIONS]
        names += [(f"w{item['width']}", item["format"]) for item in self.renditions or ()]
        return [
            (
                rendition_key(self.key_prefix, name, extension),
                rendition_key(target_prefix, name, extension),
            )
            for name, extension in names
        ]


async def photo_to_move(
    session: AsyncSession, photo_id: int, target_prefix: str
) -> PhotoToMove | None:
    """What a move job to ``target_prefix`` has to copy; None when nothing: the photo is
    gone, not processed yet (move_if_misplaced moves it then), its flag no longer asks for
    the target's kind, or it is of that kind already."""
    row = (
        await session.execute(
            select(
                Photo.post_id, Photo.key_prefix, Photo.restricted, Photo.extension, Photo.renditions
            ).where(Photo.id == photo_id, Photo.ready_at.is_not(None))
        )
    ).one_or_none()
    wanted = is_restricted(target_prefix)
    if row is None or row.restricted != wanted or is_restricted(row.key_prefix) == wanted:
        return None
    return PhotoToMove(row.post_id, row.key_prefix, row.extension, row.renditions)


async def prefix_in_use(session: AsyncSession, key_prefix: str) -> bool:
    return (
        await session.scalar(select(Photo.id).where(Photo.key_prefix == key_prefix))
    ) is not None


async def photo_moved(
    session: AsyncSession, photo_id: int, moved: PhotoToMove, target_prefix: str
) -> bool:
    """Switch the photo to ``target_prefix``, where its objects have been copied, and record
    the old prefix's deletion, in this transaction. False when the photo changed since
    ``moved`` was read (deleted, flagged again, given widths): the copies may be stale."""
    switched = await session.scalar(
        update(Photo)
        .where(
            Photo.id == photo_id,
            Photo.key_prefix == moved.key_prefix,
            Photo.restricted.is_(is_restricted(target_prefix)),
            Photo.renditions.is_not_distinct_from(moved.renditions),
        )
        .values(key_prefix=target_prefix)
        .returning(Photo.id)
    )
    if switched is None:
        return False
    if moved.post_id is not None:
        await session.execute(
            _FOLLOW_EVIDENCE,
            {"old": moved.key_prefix, "new": target_prefix, "post_id": moved.post_id},
        )
    await queue.enqueue_delete(session, moved.key_prefix)
    return True
