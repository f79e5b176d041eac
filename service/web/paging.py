"""Reading ``?cursor=&limit=`` the same way for pages and the API."""

from __future__ import annotations

from aiohttp import web

from service import cursor
from service.cursor import Position
from service.domain.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.web.problems import Problem


def page_request(request: web.Request) -> tuple[Position | None, int]:
    raw_limit = request.query.get("limit")
    limit = DEFAULT_PAGE_SIZE
    if raw_limit is not None:
        if (
            not raw_limit.isascii()
            or not raw_limit.isdigit()
            or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE
        ):
            raise Problem(
                400, f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.", "invalid_limit"
            )
        limit = int(raw_limit)
    raw_cursor = request.query.get("cursor")
    if not raw_cursor:
        return None, limit
    try:
        return cursor.decode(raw_cursor), limit
    except cursor.MalformedCursor as error:
        raise Problem(400, "That cursor is not valid.", "invalid_cursor") from error
