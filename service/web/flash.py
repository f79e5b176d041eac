"""One-time messages shown on the next page, kept in the session cookie."""

from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session

FLASH_KEY = "flash"
CATEGORIES = frozenset({"info", "success", "warning", "error"})


async def flash(request: web.Request, message: str, category: str = "info") -> None:
    session = await get_session(request)
    session[FLASH_KEY] = [*session.get(FLASH_KEY, []), [category, message]]


async def pop_flashes(request: web.Request) -> list[tuple[str, str]]:
    session = await get_session(request)
    messages = session.pop(FLASH_KEY, [])
    return [(category if category in CATEGORIES else "info", text) for category, text in messages]
