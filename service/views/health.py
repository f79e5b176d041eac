"""The probes a load balancer or orchestrator asks."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import text

from service.keys import engine_key

READINESS_TIMEOUT_SECONDS = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with request.app[engine_key].connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return web.Response(text="database unavailable", status=503, headers={"Retry-After": "5"})
    return web.Response(text="ready")
