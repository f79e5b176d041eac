"""/api/v1/tags/:name: a hashtag as Mastodon's Tag entity, following and unfollowing it, and
/api/v1/followed_tags (docs/discovery.md)."""

from __future__ import annotations

from aiohttp import web

from service import cursor, discovery
from service.handlers.actions import change_tag_follow
from service.mastodon import entities
from service.mastodon.accounts import follow_positions
from service.mastodon.common import json_response, limit_of, link_header, links, not_found
from service.reads import tags
from service.web.auth import current_user, require_user
from service.web.resources import reading


def _name(request: web.Request) -> tuple[str, str]:
    """The tag the path names, in any spelling: (normalised, display form); 404 for what
    cannot be a tag."""
    written = request.match_info["name"]
    if discovery.tag_error(written):
        raise not_found()
    written = written.removeprefix("#").removeprefix("\uff03")
    return discovery.normalize_tag(written), discovery.display_tag(written)


async def _entity(request: web.Request, name: str) -> web.Response:
    viewer = current_user(request)
    async with reading(request) as reader:
        found = await tags.by_name(reader, name, viewer.id if viewer else None)
    if found is None:
        raise not_found()
    return json_response(entities.tag(found, links(request)))


async def tag(request: web.Request) -> web.Response:
    """The tag by any spelling of its name; 404 for one that no post ever had and nobody
    follows. It keeps no usage history."""
    name, _ = _name(request)
    return await _entity(request, name)


async def follow(request: web.Request) -> web.Response:
    """Follow the tag, idempotent. As in Mastodon, a tag nobody has used yet can be
    followed: it is stored then, and its posts to come are found under it."""
    name, display = _name(request)
    await change_tag_follow(request, name, display, start=True)
    return await _entity(request, name)


async def unfollow(request: web.Request) -> web.Response:
    name, display = _name(request)
    await change_tag_follow(request, name, display, start=False)
    return await _entity(request, name)


async def followed_tags(request: web.Request) -> web.Response:
    """The tags the user follows, latest first, paged with Link headers whose ids are the
    follows' own positions (opaque, as Mastodon's are)."""
    viewer = require_user(request)
    before, after, oldest_first = follow_positions(request)
    async with reading(request) as reader:
        found = await tags.followed_between(
            reader, viewer.id, before, after, oldest_first, limit_of(request)
        )
    shown = links(request)
    items = [entities.tag(item.tag, shown) for item in found]
    first, last = (
        (cursor.encode(found[0].position), cursor.encode(found[-1].position))
        if found
        else (None, None)
    )
    return json_response(items, headers=link_header(request, first, last))
