"""Storage against the database: objects no row refers to (orphans, left by a crash between
storing and recording, or by a delete job purged after it failed), and rows whose objects
are gone. Orphans are deleted only when asked, and never while they are young: a job may
have stored them a moment ago and be about to record them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from service.storage.backends import Storage, StoredObject
from service.storage.urls import ARCHIVE_KEY_PATTERN, KEY_PATTERN, rendition_key
from service.workers.media.images import AVATAR_EDGES_PX

PHOTO_RENDITIONS = ("display", "thumb")
AVATAR_RENDITIONS = tuple(str(edge) for edge in AVATAR_EDGES_PX)

# Every prefix something still owns: a photo or avatar row, an avatar upload in progress,
# an archive not yet removed, a job not finished (a photo job about to record, a delete job
# about to delete), or a report that keeps the photos of a deleted post as evidence.
_OWNED_PREFIXES = """
    SELECT key_prefix FROM photos
    UNION SELECT key_prefix FROM avatars WHERE key_prefix IS NOT NULL
    UNION SELECT pending_prefix FROM avatars WHERE pending_prefix IS NOT NULL
    UNION SELECT key_prefix FROM exports WHERE removed_at IS NULL
    UNION SELECT key_prefix FROM media_jobs WHERE done_at IS NULL AND failed_at IS NULL
    UNION SELECT regexp_replace(k.key, '/[^/]*$', '') FROM reports r, unnest(r.photo_keys) k(key)
"""
# The objects each finished row says exist (with PHOTO_RENDITIONS or AVATAR_RENDITIONS,
# and a photo's widths: see expected_of).
EXPECTED_OBJECTS = """
    SELECT 'photo' AS kind, key_prefix, extension, renditions::text AS renditions
      FROM photos WHERE ready_at IS NOT NULL
    UNION ALL
    SELECT 'avatar', key_prefix, extension, NULL FROM avatars WHERE key_prefix IS NOT NULL
"""


def expected_of(kind: str, key_prefix: str, extension: str, renditions: str | None) -> list[str]:
    """The keys a row of EXPECTED_OBJECTS says exist."""
    keys = [
        rendition_key(key_prefix, name, extension)
        for name in (PHOTO_RENDITIONS if kind == "photo" else AVATAR_RENDITIONS)
    ]
    for item in json.loads(renditions) if renditions else ():
        keys.append(rendition_key(key_prefix, f"w{item['width']}", item["format"]))
    return keys


@dataclasses.dataclass
class SweepReport:
    orphans: list[StoredObject] = dataclasses.field(default_factory=list)
    too_young: list[StoredObject] = dataclasses.field(default_factory=list)
    unrecognised: list[StoredObject] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)
    deleted: list[str] = dataclasses.field(default_factory=list)
    objects: int = 0

    def as_dict(self) -> dict:
        def keys(items: list[StoredObject]) -> list[dict]:
            return [{"key": item.key, "size": item.size} for item in items]

        return {
            "objects": self.objects,
            "orphans": keys(self.orphans),
            "too_young": keys(self.too_young),
            "unrecognised": keys(self.unrecognised),
            "missing": self.missing,
            "deleted": self.deleted,
        }


async def expected_keys(sessionmaker: async_sessionmaker) -> set[str]:
    async with sessionmaker() as session:
        rows = await session.execute(text(EXPECTED_OBJECTS))
        return {
            key
            for row in rows
            for key in expected_of(row.kind, row.key_prefix, row.extension, row.renditions)
        }


async def sweep(
    sessionmaker: async_sessionmaker, storage: Storage, grace: timedelta, apply: bool
) -> SweepReport:
    # Storage is listed before the database is read: an object stored after the listing is
    # not seen at all, and one stored before it has its row (or job) by the time we look.
    objects = await storage.list_objects()
    async with sessionmaker() as session:
        owned = set(await session.scalars(text(_OWNED_PREFIXES)))
    expected = await expected_keys(sessionmaker)
    report = SweepReport(objects=len(objects))
    young_after = datetime.now(UTC) - grace
    for item in objects:
        if not (KEY_PATTERN.match(item.key) or ARCHIVE_KEY_PATTERN.match(item.key)):
            report.unrecognised.append(item)
        elif item.key.rsplit("/", 1)[0] not in owned:
            (report.too_young if item.modified > young_after else report.orphans).append(item)
    present = {item.key for item in objects}
    report.missing = sorted(expected - present)
    if apply:
        for item in report.orphans:
            await storage.delete(item.key)
            report.deleted.append(item.key)
    return report
