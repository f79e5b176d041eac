"""/api/snapline/v1/people/suggestions: whom to suggest as a username is typed after "@"
in the composer or a comment (docs/discovery.md)."""

from __future__ import annotations

import re

from aiohttp import web

from service.api import serialize
from service.api.common import json_response, urls
from service.i18n import gettext as _
from service.reads import people
from service.web.auth import require_user
from service.web.params import query_number
from service.web.problems import Problem
from service.web.resources import reading

# What may follow "@" in a mention, typed so far: one character of a username up to a
# whole one (usernames are 3 to 30 of these).
TYPED_NAME = re.compile(r"[A-Za-z0-9_]{1,30}")


async def suggestions(request: web.Request) -> web.Response:
    """Signed in only: suggestions serve someone writing, and a list of names by any
    prefix for anyone would make the directory of accounts easy to copy."""
    viewer = require_user(request)
    typed = request.query.get("q", "")
    if TYPED_NAME.fullmatch(typed) is None:
        raise Problem(400, _("q must be 1 to 30 letters, digits or underscores."), "invalid_q")
    limit = query_number(request, "limit", people.MAX_SUGGESTIONS, 1, people.MAX_SUGGESTIONS)
    async with reading(request) as reader:
        found = await people.mention_suggestions(reader, typed, viewer.id, limit)
    route_urls = urls(request)
    return json_response({"items": [serialize.user_summary(user, route_urls) for user in found]})
