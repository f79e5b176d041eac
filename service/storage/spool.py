"""The spool: local files an upload is streamed into while it is checked, before its
transaction copies what is kept into PostgreSQL. Files a crashed process left behind are
removed when the next one starts."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from service.settings import Settings

# Spool files older than this belong to a process that died mid-upload.
STALE_SPOOL_SECONDS = 3600
SPOOL_DIR = "var/spool"
SPOOL_SUFFIX = ".upload"
# An archive being built (service/workers/accounts.py) before it is stored.
ARCHIVE_SUFFIX = ".archive"


def spool_dir(settings: Settings) -> Path:
    return settings.resolve_path(SPOOL_DIR)


def prepare_spool(directory: Path) -> None:
    """Create the spool directory and remove what crashed processes left in it."""
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STALE_SPOOL_SECONDS
    for suffix in (SPOOL_SUFFIX, ARCHIVE_SUFFIX):
        for path in directory.glob(f"*{suffix}"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
