"""/search: one box for finding people (by username or display name, a prefix, a word or a
near miss), open to everyone, under the visibility rule like every list of people."""

from __future__ import annotations

from aiohttp import web

from service.reads import people
from service.views.common import render
from service.web.auth import current_user
from service.web.params import query_number
from service.web.resources import reading

# People shown at once; "More people" shows the next as many.
PEOPLE_PAGE_SIZE = 20


async def search(request: web.Request) -> web.Response:
    viewer = current_user(request)
    query = request.query.get("q", "").strip()[: people.MAX_SEARCH_CHARS]
    offset = query_number(request, "offset", 0, 0, people.MAX_SEARCH_OFFSET)
    found: list = []
    if query:
        async with reading(request) as reader:
            # One more than shown: whether there are more.
            found = await people.search_people(
                reader, query, viewer.id if viewer else None, offset, PEOPLE_PAGE_SIZE + 1
            )
    more = len(found) > PEOPLE_PAGE_SIZE and offset + PEOPLE_PAGE_SIZE <= people.MAX_SEARCH_OFFSET
    context = {
        "query": query,
        "people": found[:PEOPLE_PAGE_SIZE],
        "next_offset": offset + PEOPLE_PAGE_SIZE if more else None,
        "offset": offset,
    }
    return await render(request, "search.html", context)
