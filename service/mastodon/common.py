"""What every Mastodon handler shares: the absolute links, Mastodon's paging parameters
and ``Link`` header, statuses with their authors' accounts, and JSON answers.

Paging as Mastodon does it (docs.joinmastodon.org/api/guidelines/#pagination): ``max_id``
(older than), ``since_id`` (newer than, newest first), ``min_id`` (newer than, oldest
first: the page right after it), ``limit`` (default 20, clamped to 1..40), and a ``Link``
header whose ``next`` asks for ``max_id`` of the last item and ``prev`` for ``min_id`` of
the first. Errors are Mastodon's ``{"error": "..."}`` (service.web.errors answers every
route named ``mastodon_*`` so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from service.api.common import read_json_object
from service.cursor import MAX_ID
from service.i18n import gettext as _
from service.keys import settings_key
from service.mastodon import entities
from service.mastodon.entities import Links
from service.reads import people
from service.reads.statements import Reader
from service.reads.views import CommentView, PostView, StatusView
from service.web.auth import current_user
from service.web.forms import read_form
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.urls import route_urls_key

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
PAGING_PARAMETERS = ("max_id", "since_id", "min_id")
# A parameter's text beyond this is no value an endpoint here takes.
MAX_PARAM_CHARS = 10_000
# How many values a list parameter (``media_ids[]``) may carry before it is refused.
MAX_LIST_VALUES = 40
HEADER_IMAGE = "header.png"

links_key = web.AppKey("mastodon_links", Links)


def set_links(app: web.Application) -> None:
    """Made once, with every route added: the static header image's URL carries a hash of
    the file, which aiohttp computes by reading it (per account of a page, it was a fifth
    of a home timeline's time)."""
    header = str(app.router["static"].url_for(filename=HEADER_IMAGE))
    app[links_key] = Links(app[settings_key].app.public_url, app[route_urls_key].template, header)


def links(request: web.Request) -> Links:
    return request.app[links_key]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None):
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def not_found() -> Problem:
    return Problem(404, _("Record not found"))


def id_from_path(request: web.Request) -> int:
    """A numeric id from the path; anything else names no record."""
    value = whole_number(request.match_info.get("id"), 1, MAX_ID)
    if value is None:
        raise not_found()
    return value


def limit_of(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = whole_number(raw, 0, MAX_ID)
    if value is None:
        raise Problem(422, _("limit must be a number"), "invalid_limit")
    return max(1, min(MAX_LIMIT, value))


@dataclasses.dataclass(frozen=True)
class Window:
    """Items with ids strictly between ``above`` and ``below``: the ``limit`` newest of
    them, or with ``oldest_first`` the oldest."""

    above: int
    below: int
    oldest_first: bool
    limit: int


def window(request: web.Request) -> Window:
    """The paging parameters of a list ordered by numeric ids (statuses, accounts)."""
    ids = {}
    for name in PAGING_PARAMETERS:
        raw = request.query.get(name)
        if raw:
            value = whole_number(raw, 0, MAX_ID)
            if value is None:
                raise Problem(422, _("%(name)s must be an id") % {"name": name}, f"invalid_{name}")
            ids[name] = value
    above = max(ids.get("since_id", 0), ids.get("min_id", 0))
    return Window(above, ids.get("max_id", MAX_ID), "min_id" in ids, limit_of(request))


def link_header(request: web.Request, first: str | None, last: str | None) -> dict[str, str]:
    """The ``Link`` header of a page whose items run from id ``first`` (newest) to ``last``;
    none for an empty page, as Mastodon does."""
    if first is None or last is None:
        return {}
    kept = [(k, v) for k, v in request.query.items() if k not in PAGING_PARAMETERS]
    base = links(request).base + request.path
    next_url = f"{base}?{urlencode([*kept, ('max_id', last)])}"
    prev_url = f"{base}?{urlencode([*kept, ('min_id', first)])}"
    return {"Link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}


def page_response(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    """A list answer, paged by its items' ids."""
    first, last = (items[0]["id"], items[-1]["id"]) if items else (None, None)
    return json_response(items, headers=link_header(request, first, last))


async def accounts_of(
    reader: Reader, request: web.Request, user_ids: Sequence[int], viewer_id: int | None
) -> dict[int, dict[str, Any]]:
    """The Account entities of these users (those that may be seen), by id."""
    unique = list(dict.fromkeys(user_ids))
    profiles = await people.profiles_by_id(reader, unique, viewer_id)
    found = links(request)
    return {p.summary.id: entities.account(p, found) for p in profiles}


async def statuses(
    reader: Reader, request: web.Request, posts: Sequence[PostView], viewer_id: int | None
) -> list[dict[str, Any]]:
    """Status entities of these posts, each with its author's account."""
    accounts = await accounts_of(reader, request, [post.author.id for post in posts], viewer_id)
    found = links(request)
    return [
        entities.status(post, accounts[post.author.id], found)
        for post in posts
        if post.author.id in accounts
    ]


def listed_statuses(request: web.Request, listed: Sequence[StatusView]) -> list[dict[str, Any]]:
    """Status entities of a list's posts, each with the account read beside it (one entity
    per author, however many of their posts the list holds)."""
    found = links(request)
    accounts: dict[int, dict[str, Any]] = {}
    items = []
    for post, author in listed:
        account = accounts.get(author.summary.id)
        if account is None:
            account = accounts[author.summary.id] = entities.account(author, found)
        items.append(entities.status(post, account, found))
    return items


async def comment_statuses(
    reader: Reader, request: web.Request, comments: Sequence[CommentView], viewer_id: int | None
) -> list[dict[str, Any]]:
    accounts = await accounts_of(reader, request, [c.author.id for c in comments], viewer_id)
    found = links(request)
    return [
        entities.comment_status(comment, accounts[comment.author.id], found)
        for comment in comments
        if comment.author.id in accounts
    ]


Params = dict[str, str | list[str]]


def _param_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)[:MAX_PARAM_CHARS]
    raise Problem(422, _("%(name)s is not valid") % {"name": name})


async def read_params(request: web.Request, lists: frozenset[str] = frozenset()) -> Params:
    """The parameters of a write, as Mastodon takes them: a url-encoded form (``name[]``
    repeated for a list) or a JSON object (strings, numbers and booleans, a JSON array for
    a list); every value as text. A multipart body is read by the endpoints that take
    files. Raises Problem (4xx)."""
    params: Params = {}
    if request.content_type == "application/json":
        for name, value in (await read_json_object(request, ())).items():
            key = name.removesuffix("[]")
            if value is None:
                continue
            if key in lists:
                values = value if isinstance(value, list) else [value]
                if len(values) > MAX_LIST_VALUES:
                    raise Problem(422, _("%(name)s has too many values") % {"name": key})
                params[key] = [_param_text(key, item) for item in values]
            elif isinstance(value, dict):
                # A nested object, as Rails reads it: {"source": {"privacy": ...}} is
                # source[privacy]; deeper nesting and lists in it are not read.
                for inner, item in value.items():
                    if item is not None and not isinstance(item, list | dict):
                        params[f"{key}[{inner}]"] = _param_text(f"{key}[{inner}]", item)
            elif not isinstance(value, list):
                params[key] = _param_text(key, value)
        return params
    form = await read_form(request)
    for name in form:
        key = name.removesuffix("[]")
        values = [value[:MAX_PARAM_CHARS] for value in form.getall(name)]
        if key in lists:
            if len(values) > MAX_LIST_VALUES:
                raise Problem(422, _("%(name)s has too many values") % {"name": key})
            params[key] = values
        else:
            params[key] = values[0]
    return params


def text_of(params: Params, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def flag_of(params: Params, name: str) -> bool:
    return (text_of(params, name) or "").lower() in {"true", "1", "on"}


def ids_of(params: Params, name: str) -> list[int]:
    """A list parameter of ids; one that is not an id is 422."""
    raw = params.get(name) or []
    ids = []
    for value in [raw] if isinstance(raw, str) else raw:
        number = whole_number(value, 1, MAX_ID)
        if number is None:
            raise Problem(422, _("%(name)s must be a list of ids") % {"name": name})
        ids.append(number)
    return list(dict.fromkeys(ids))


def viewer_id_of(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None
