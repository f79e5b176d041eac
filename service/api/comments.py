"""/api/snapline/v1/comments: deleting a comment."""

from __future__ import annotations

from aiohttp import web

from service.handlers.actions import delete_comment
from service.web.auth import require_user
from service.web.resources import comment_id_from


async def remove_comment(request: web.Request) -> web.Response:
    await delete_comment(request, require_user(request), comment_id_from(request))
    return web.Response(status=204)
