"""Static files (service/static/), answered from memory.

The route stays aiohttp's static route, which builds the versioned URLs (``?v=`` a hash of
the content), but the answer is made here: the files are a few small stylesheets, scripts
and icons, so each is read once (on a thread: a read can block on a slow disk) and kept, with a
gzipped copy of each text file for browsers that take it. Asked for by its versioned URL, a
file is cached for a year.
aiohttp's own file answer looks for the file only when it is sent, past every middleware
(a missing one got a bare ``application/octet-stream`` 404), and a browser that goes away
while it opens the file leaves that file open. In production nginx serves these files from
disk (deploy/nginx.conf); this serves development, tests and a service without nginx."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import mimetypes
from pathlib import Path
from typing import NamedTuple

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from service.web.problems import Problem

STATIC_ROUTE = "static"
TEXT_TYPES = frozenset({"text/css", "text/javascript", "image/svg+xml"})
# Smaller than this, gzip's own header and trailer outweigh what it saves.
GZIP_MIN_BYTES = 256
# Asked for by its versioned URL (``?v=`` the content's hash), a file never changes: a
# browser keeps it a year without asking again. Otherwise it asks each time (an ETag).
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
REVALIDATE_CACHE_CONTROL = "no-cache"


class _File(NamedTuple):
    body: bytes
    # The body gzipped, for text worth compressing; None otherwise.
    gzipped: bytes | None
    content_type: str
    etag: str
    # The ``?v=`` of its versioned URL (aiohttp's: the SHA-256 of the content, base64).
    version: str


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip: named (or ``*``) without ``q=0``."""
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            weight = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(weight) > 0
            except ValueError:
                return False
    return False


def _read(path: Path) -> _File | None:
    """The file, or None when there is no such file (or no such name can be one: too long,
    a NUL byte)."""
    try:
        if not path.is_file():
            return None
        body = path.read_bytes()
    except (OSError, ValueError):
        return None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type == "application/javascript":
        content_type = "text/javascript"
    digest = hashlib.sha256(body).digest()
    gzipped = (
        gzip.compress(body, compresslevel=9, mtime=0)
        if content_type in TEXT_TYPES and len(body) >= GZIP_MIN_BYTES
        else None
    )
    return _File(
        body,
        gzipped,
        content_type,
        f'"{digest.hex()[:32]}"',
        base64.urlsafe_b64encode(digest).decode("ascii"),
    )


def static_files_middleware(directory: Path, remember: bool = True):
    """``remember``: keep each file after its first read (outside development, where the
    files never change while the process runs)."""
    known: dict[str, _File] = {}

    @web.middleware
    async def static_files(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.route.name != STATIC_ROUTE:
            return await handler(request)
        # aiohttp has already refused names that leave the directory.
        filename = request.match_info.get("filename", "")
        found = known.get(filename)
        if found is None:
            found = await asyncio.to_thread(_read, directory / filename)
            if found is None:
                raise Problem(404)
            if remember:
                known[filename] = found
        versioned = request.query.get("v") == found.version
        headers = {
            hdrs.ETAG: found.etag,
            hdrs.CACHE_CONTROL: IMMUTABLE_CACHE_CONTROL if versioned else REVALIDATE_CACHE_CONTROL,
        }
        if found.gzipped is not None:
            headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
        if request.headers.get(hdrs.IF_NONE_MATCH) == found.etag:
            return web.Response(status=304, headers=headers)
        body = found.body
        if found.gzipped is not None and _accepts_gzip(
            request.headers.get(hdrs.ACCEPT_ENCODING, "")
        ):
            body = found.gzipped
            headers[hdrs.CONTENT_ENCODING] = "gzip"
        response = web.Response(body=body, headers=headers)
        response.content_type = found.content_type
        if found.content_type in TEXT_TYPES:
            response.charset = "utf-8"
        return response

    return static_files
