"""/api/v1/accounts: the signed-in user, an account, its statuses, followers and following,
relationships and look-up by name."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from service import cursor
from service.cursor import MAX_ID, Position
from service.keys import settings_key
from service.mastodon import entities
from service.mastodon.common import (
    PAGING_PARAMETERS,
    id_from_path,
    json_response,
    limit_of,
    link_header,
    links,
    not_found,
    page_response,
    statuses,
    window,
)
from service.reads import people
from service.reads import statuses as status_reads
from service.reads.paging import NEWEST_FIRST, OLDEST_FIRST
from service.reads.statements import Reader
from service.reads.views import Profile
from service.web.auth import current_user, require_user
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading

# Mastodon answers relationships for at most this many accounts at once.
MAX_RELATIONSHIPS = 40


def _viewer_id(request: web.Request) -> int | None:
    viewer = current_user(request)
    return viewer.id if viewer else None


async def _profile(reader: Reader, user_id: int, viewer_id: int | None) -> Profile:
    found = await people.profiles_by_id(reader, [user_id], viewer_id)
    if not found:
        raise not_found()
    return found[0]


async def verify_credentials(request: web.Request) -> web.Response:
    viewer = require_user(request)
    async with reading(request) as reader:
        profile = await _profile(reader, viewer.id, viewer.id)
    return json_response(entities.credential_account(profile, links(request)))


async def account(request: web.Request) -> web.Response:
    async with reading(request) as reader:
        profile = await _profile(reader, id_from_path(request), _viewer_id(request))
    return json_response(entities.account(profile, links(request)))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"true", "1", "on"}


async def account_statuses(request: web.Request) -> web.Response:
    """An account's posts, newest first; ``only_media`` keeps those with photos. Nothing is
    pinned here, and an account's list holds no replies (comments are not in it)."""
    user_id, viewer_id, paging = id_from_path(request), _viewer_id(request), window(request)
    async with reading(request) as reader:
        await _profile(reader, user_id, viewer_id)
        if _flag(request, "pinned"):
            return page_response(request, [])
        posts = await status_reads.by_account(
            reader, media_urls(request), viewer_id, user_id, _flag(request, "only_media"),
            paging.above, paging.below, paging.oldest_first, paging.limit,
        )  # fmt: skip
        items = await statuses(reader, request, posts, viewer_id)
    return page_response(request, items)


def _follow_positions(request: web.Request) -> tuple[Position, Position, bool]:
    """The paging parameters of a list of follows: the ids in its Link headers are the
    follows' own keyset positions (opaque to apps, as Mastodon's follow ids are)."""
    positions: dict[str, Position] = {}
    for name in PAGING_PARAMETERS:
        raw = request.query.get(name)
        if raw:
            try:
                positions[name] = cursor.decode(raw)
            except cursor.MalformedCursor as error:
                raise Problem(422, f"{name} is not valid", f"invalid_{name}") from error
    after = max(
        (positions[name] for name in ("since_id", "min_id") if name in positions),
        key=lambda position: (position.at, position.id),
        default=OLDEST_FIRST,
    )
    return positions.get("max_id", NEWEST_FIRST), after, "min_id" in positions


async def _follows(request: web.Request, direction: str) -> web.Response:
    user_id, viewer_id = id_from_path(request), _viewer_id(request)
    before, after, oldest_first = _follow_positions(request)
    async with reading(request) as reader:
        await _profile(reader, user_id, viewer_id)
        found = await people.relationships_between(
            reader, user_id, direction, before, after, oldest_first, limit_of(request)
        )
        profiles = await people.profiles_by_id(reader, [r.user.id for r in found], viewer_id)
    by_id = {profile.summary.id: profile for profile in profiles}
    shown = links(request)
    items = [entities.account(by_id[r.user.id], shown) for r in found if r.user.id in by_id]
    first, last = (
        (cursor.encode(found[0].position), cursor.encode(found[-1].position))
        if found
        else (None, None)
    )
    return json_response(items, headers=link_header(request, first, last))


async def followers(request: web.Request) -> web.Response:
    return await _follows(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _follows(request, "following")


async def relationships(request: web.Request) -> web.Response:
    """The viewer's relationship with each account asked for (``id[]``, or ``id``) that
    exists; ids that name nobody are left out, as Mastodon does."""
    viewer = require_user(request)
    asked = request.query.getall("id[]", []) + request.query.getall("id", [])
    ids = [value for raw in asked if (value := whole_number(raw, 1, MAX_ID)) is not None]
    async with reading(request) as reader:
        profiles = await people.profiles_by_id(
            reader, list(dict.fromkeys(ids))[:MAX_RELATIONSHIPS], viewer.id
        )
    return json_response([entities.relationship(profile) for profile in profiles])


async def lookup(request: web.Request) -> web.Response:
    """An account by ``acct``: ``name``, ``@name``, or ``name@`` this instance's domain."""
    acct = request.query.get("acct", "").removeprefix("@")
    username, _, domain = acct.partition("@")
    ours = urlsplit(request.app[settings_key].app.public_url).netloc
    if domain and domain.lower() != ours.lower():
        raise not_found()
    viewer_id = _viewer_id(request)
    async with reading(request) as reader:
        user_id = await people.user_id_by_name(reader, username)
        if user_id is None:
            raise not_found()
        profile = await _profile(reader, user_id, viewer_id)
    return json_response(entities.account(profile, links(request)))
