"""Reading ``?cursor=&limit=`` the same way for pages and the API."""

from __future__ import annotations

from aiohttp import web

from service import cursor
from service.cursor import Position
from service.i18n import gettext as _
from service.reads.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.web.params import query_number
from service.web.problems import Problem

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "page_request"]


def page_request(
    request: web.Request, default_size: int = DEFAULT_PAGE_SIZE
) -> tuple[Position | None, int]:
    limit = query_number(request, "limit", default_size, 1, MAX_PAGE_SIZE)
    raw_cursor = request.query.get("cursor")
    if not raw_cursor:
        return None, limit
    try:
        return cursor.decode(raw_cursor), limit
    except cursor.MalformedCursor as error:
        raise Problem(400, _("That cursor is not valid."), "invalid_cursor") from error
