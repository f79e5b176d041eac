"""/about: what the instance is, its rules, and whom to contact."""

from __future__ import annotations

from aiohttp import web

from service.reads import instance
from service.views.common import render
from service.web.auth import current_user
from service.web.resources import reading


async def about(request: web.Request) -> web.Response:
    viewer = current_user(request)
    async with reading(request) as reader:
        site = await instance.instance(reader)
        admins = await instance.admins(reader, viewer.id if viewer else None)
    return await render(request, "about.html", {"instance": site, "admins": admins})
