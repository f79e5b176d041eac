"""A missing static file answers with the usual 404 page.

aiohttp's static handler hands back a FileResponse that only looks for its file when it is
sent, past every middleware, and then answers a bare ``application/octet-stream`` 404. The
file is looked for here first, on a thread (a stat can block on a slow disk)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from service.web.problems import Problem

STATIC_ROUTE = "static"


def static_files_middleware(directory: Path):
    @web.middleware
    async def static_files(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route
        if route.name == STATIC_ROUTE:
            # aiohttp has already refused names that leave the directory.
            filename = request.match_info.get("filename", "")
            if not await asyncio.to_thread(os.path.isfile, directory / filename):
                raise Problem(404)
        return await handler(request)

    return static_files
