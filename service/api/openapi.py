"""/api/snapline/v1/openapi.json: the API's OpenAPI 3.1 document (service/openapi.py), to
anyone."""

from __future__ import annotations

import functools

import orjson
from aiohttp import web

from service.openapi import DOCUMENT

# The same for every reader and every request until the next release: caches may keep it.
CACHE_SECONDS = 3600


@functools.cache
def _encoded() -> bytes:
    return orjson.dumps(DOCUMENT)


async def document(request: web.Request) -> web.Response:
    return web.Response(
        body=_encoded(),
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"},
    )
