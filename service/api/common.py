"""Helpers shared by the API modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from service.i18n import gettext as _
from service.reads.views import Page
from service.web.forms import read_form
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.urls import RouteUrls, route_urls_key

MAX_JSON_BYTES = 64 * 1024
# Bodies are flat objects of strings; a few levels spare room for clients that add their
# own fields, and a bound keeps a body of brackets from costing stack or time anywhere.
MAX_JSON_DEPTH = 8


def json_response(data: Any, status: int = 200) -> web.Response:
    """Encoded by orjson: a page of twenty posts takes the standard library's encoder
    about a tenth of a millisecond, several times orjson's."""
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", charset="utf-8"
    )


def urls(request: web.Request) -> RouteUrls:
    """What serializers build the URLs they show from."""
    return request.app[route_urls_key]


def page_json(
    request: web.Request, page: Page, serialize: Callable[[Any, RouteUrls], dict[str, Any]]
) -> web.Response:
    route_urls = urls(request)
    items = [serialize(item, route_urls) for item in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


async def read_json_object(request: web.Request, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON object body, the only way an endpoint reads one: 415 for another media type,
    413 past MAX_JSON_BYTES, 400 for anything RFC 8259 does not allow (invalid UTF-8, lone
    surrogates, NaN, numbers past a double) or nested deeper than MAX_JSON_DEPTH."""
    if request.content_type != "application/json":
        raise Problem(415, _("Send a JSON body (Content-Type: application/json)."))
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise Problem(413)
    try:
        # orjson refuses what the standard library lets through: lone surrogates in escapes
        # (text PostgreSQL cannot store), NaN, and nesting past its own limit.
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise Problem(400, _("The body is not valid JSON."), "invalid_json") from error
    if not isinstance(body, dict):
        raise Problem(400, _("The body must be a JSON object."), "invalid_json")
    if _depth_exceeds(body, MAX_JSON_DEPTH):
        raise Problem(400, _("The body is nested too deeply."), "invalid_json")
    for name in fields:
        if name in body and not isinstance(body[name], str):
            raise Problem(422, _("%(name)s must be a string.") % {"name": name}, "invalid_input")
    return body


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep; iterative, so any depth is safe."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# The longest mute with an end, in seconds (service.domain.blocks.MAX_MUTE); longer ones,
# like 0, last until unmuted.
MAX_DURATION_SECONDS = 2**31 - 1


async def duration_param(request: web.Request) -> int:
    """A mute's ``duration`` in seconds (0: until unmuted, as Mastodon): from a JSON body (a
    number, or digits in a string), a form, or the query; 0 when none is given, 422 for
    anything but a whole number of seconds."""
    raw: Any
    if request.content_type == "application/json":
        raw = (await read_json_object(request, ())).get("duration")
    elif request.content_type in {"", "application/x-www-form-urlencoded"}:
        raw = (await read_form(request)).get("duration") or request.query.get("duration")
    else:
        raise Problem(415, _("Send a JSON body or a form."))
    if raw is None or raw == "":
        return 0
    if isinstance(raw, str):
        raw = whole_number(raw, 0, MAX_DURATION_SECONDS)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DURATION_SECONDS:
        raise Problem(422, _("duration must be a whole number of seconds"), "invalid_duration")
    return raw
