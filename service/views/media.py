"""``/media/<key>``: stored images at a stable address. The local backend's files are
served here; with S3 it redirects to the object's public or presigned URL."""

from __future__ import annotations

import asyncio

from aiohttp import web

from service.keys import storage_key
from service.storage.backends import LocalStorage
from service.storage.urls import CONTENT_TYPES
from service.web.problems import Problem

# Keys are random per upload and never rewritten, so a file can be cached for good.
FILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Presigned URLs stay valid for at least an hour; the redirect is remembered for half that.
REDIRECT_CACHE_CONTROL = "private, max-age=1800"
# A stored image is never a document: even opened directly it runs nothing.
MEDIA_CSP = "default-src 'none'; img-src 'self'; sandbox"


async def media(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    storage = request.app[storage_key]
    if not isinstance(storage, LocalStorage):
        raise web.HTTPFound(storage.urls(key), headers={"Cache-Control": REDIRECT_CACHE_CONTROL})
    path = storage.path_of(key)
    if not await asyncio.to_thread(path.is_file):
        raise Problem(404, "There is no such image.")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": CONTENT_TYPES[key.rsplit(".", 1)[1]],
            "Cache-Control": FILE_CACHE_CONTROL,
            "Content-Security-Policy": MEDIA_CSP,
        },
    )
