"""``/media/<key>``: stored images at a stable address. The local backend's files are
served here; with S3 it redirects to the object's public or presigned URL. A restricted
photo (docs/media.md, "Restricted photos") is served only with a valid signature, and then
only to be cached privately until the signature expires."""

from __future__ import annotations

import asyncio

from aiohttp import web

from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import storage_key
from service.reads import media as media_reads
from service.storage.backends import S3Storage
from service.storage.urls import (
    CONTENT_TYPES,
    PUBLIC_PHOTO_KIND,
    SIGNED_URL_LIFETIME_SECONDS,
    is_restricted,
)
from service.web.problems import Problem
from service.web.resources import reading

# Keys are random per upload and never rewritten, so a file can be cached for good.
FILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Presigned URLs stay valid for at least an hour; the redirect is remembered for half that.
REDIRECT_CACHE_CONTROL = "private, max-age=1800"
# A stored image is never a document: even opened directly it runs nothing.
MEDIA_CSP = "default-src 'none'; img-src 'self'; sandbox"
NOT_SIGNED = lazy_gettext(
    "This image is not public, and this link to it has expired or is not valid."
)


def _private(seconds: int) -> str:
    return f"private, max-age={seconds}"


async def _must_be_signed(request: web.Request, key: str) -> bool:
    """A restricted key always; a public photo's key when its photo has been restricted
    and its objects wait to move (the bare path must not outlive the restriction)."""
    if is_restricted(key):
        return True
    if not key.startswith(PUBLIC_PHOTO_KIND + "/"):
        return False
    async with reading(request) as reader:
        return await media_reads.prefix_is_restricted(reader, key.rsplit("/", 1)[0])


def _presigned(storage: S3Storage, key: str, expires: int) -> str:
    """A GET presigned when the signed URL was, to expire exactly with it: the same signed
    URL always redirects to the same place, and nothing outlives it."""
    if storage.presigner is None:
        raise Problem(503, _("Storage cannot sign this image's address."))
    return storage.presigner.url_at(
        key, expires - SIGNED_URL_LIFETIME_SECONDS, SIGNED_URL_LIFETIME_SECONDS
    )


async def media(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    storage = request.app[storage_key]
    remaining = storage.urls.signer.remaining(
        key, request.query.get("exp"), request.query.get("sig")
    )
    if remaining is None and await _must_be_signed(request, key):
        # Refused outright, never redirected: there is no public address to send anyone to.
        raise Problem(403, str(NOT_SIGNED), headers={"Cache-Control": "no-store"})
    if isinstance(storage, S3Storage):
        if remaining is None:
            raise web.HTTPFound(
                storage.urls.public(key), headers={"Cache-Control": REDIRECT_CACHE_CONTROL}
            )
        raise web.HTTPFound(
            _presigned(storage, key, int(request.query["exp"])),
            headers={"Cache-Control": _private(remaining)},
        )
    path = storage.path_of(key)
    if not await asyncio.to_thread(path.is_file):
        raise Problem(404, _("There is no such image."))
    return web.FileResponse(
        path,
        headers={
            "Content-Type": CONTENT_TYPES[key.rsplit(".", 1)[1]],
            "Cache-Control": FILE_CACHE_CONTROL if remaining is None else _private(remaining),
            "Content-Security-Policy": MEDIA_CSP,
        },
    )
