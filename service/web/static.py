"""Static files (service/static/), answered from memory.

The route stays aiohttp's static route, which builds the versioned URLs (``?v=`` a hash of
the content), but the answer is made here: the files are a few small stylesheets, scripts
and icons, so each is read once (on a thread: a read can block on a slow disk) and kept.
aiohttp's own file answer looks for the file only when it is sent, past every middleware
(a missing one got a bare ``application/octet-stream`` 404), and a browser that goes away
while it opens the file leaves that file open. In production nginx serves these files from
disk (deploy/nginx.conf); this serves development, tests and a service without nginx."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from pathlib import Path
from typing import NamedTuple

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from service.web.problems import Problem

STATIC_ROUTE = "static"
TEXT_TYPES = frozenset({"text/css", "text/javascript", "image/svg+xml"})


class _File(NamedTuple):
    body: bytes
    content_type: str
    etag: str


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
    return _File(body, content_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


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
        headers = {hdrs.ETAG: found.etag}
        if request.headers.get(hdrs.IF_NONE_MATCH) == found.etag:
            return web.Response(status=304, headers=headers)
        response = web.Response(body=found.body, headers=headers)
        response.content_type = found.content_type
        if found.content_type in TEXT_TYPES:
            response.charset = "utf-8"
        return response

    return static_files
