"""Photos uploaded before their post (the Mastodon API's media): one of the owner's, while
it is not attached to a post. Once attached it is shown with its post, by the statements of
service.reads.posts; the post's own rule decides who sees it there."""

from __future__ import annotations

from service.reads.statements import Reader, register
from service.reads.views import MediaView
from service.reads.visibility import person_visible
from service.storage.urls import MediaUrls, rendition_key

# Whether the photo stored under prefix $1 is restricted (its objects may not have moved to
# the restricted kind yet); NULL when no photo has that prefix.
RESTRICTED_PREFIX = register(
    "restricted_prefix", "SELECT f.restricted FROM photos f WHERE f.key_prefix = $1"
)


async def prefix_is_restricted(reader: Reader, key_prefix: str) -> bool:
    """Whether a photo under ``key_prefix`` may only be served with a signature."""
    return bool(await reader.value(RESTRICTED_PREFIX, key_prefix))


# The unattached photo $2 of user $1 (only its owner ever sees it unattached).
UNATTACHED = register(
    "unattached_media",
    f"""
    SELECT f.id, f.key_prefix, f.extension, f.width, f.height, f.alt,
           f.ready_at IS NOT NULL AS ready, f.failed_at IS NOT NULL AS failed, f.restricted
      FROM photos f
      JOIN users u ON u.id = f.owner_id
     WHERE f.id = $2 AND f.owner_id = $1 AND f.post_id IS NULL AND {person_visible("u")}
    """,
)


async def unattached(
    reader: Reader, urls: MediaUrls, owner_id: int, photo_id: int
) -> MediaView | None:
    row = await reader.row(UNATTACHED, owner_id, photo_id)
    if row is None:
        return None
    photo_id, prefix, extension, width, height, alt, ready, failed, restricted = row
    return MediaView(
        photo_id,
        urls(rendition_key(prefix, "display", extension), restricted) if ready else None,
        urls(rendition_key(prefix, "thumb", extension), restricted) if ready else None,
        width,
        height,
        alt,
        failed,
    )
