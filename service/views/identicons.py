"""/identicons/: the generated avatar of everyone who has not uploaded one."""

from __future__ import annotations

from aiohttp import web

from service.identicon import identicon_svg

# Identicons never change for a given name: let browsers keep them for a year.
IDENTICON_MAX_AGE_SECONDS = 365 * 24 * 3600


async def identicon(request: web.Request) -> web.Response:
    return web.Response(
        text=identicon_svg(request.match_info["digest"]),
        content_type="image/svg+xml",
        headers={"Cache-Control": f"public, max-age={IDENTICON_MAX_AGE_SECONDS}, immutable"},
    )
