"""Instance discovery: /api/v1/instance, /api/v2/instance, /api/v1/instance/rules,
/.well-known/nodeinfo and /nodeinfo/2.0."""

from __future__ import annotations

from importlib import metadata
from urllib.parse import urlsplit

from aiohttp import web

from service.handlers.posting import MAX_PHOTOS
from service.keys import settings_key
from service.mastodon import entities
from service.mastodon.common import json_response, links
from service.models import MAX_ALT_CHARS, MAX_POST_BODY_CHARS
from service.reads import instance, people
from service.web.resources import reading
from service.web.uploads import MAX_PHOTO_BYTES
from service.workers.media.images import MAX_PIXELS, MEDIA_TYPE_FORMATS

SOFTWARE_VERSION = metadata.version("snapline")


def _canonical_types() -> tuple[str, ...]:
    """One media type per accepted format: its first, canonical, spelling."""
    first: dict[str, str] = {}
    for media_type, image_format in MEDIA_TYPE_FORMATS.items():
        first.setdefault(image_format, media_type)
    return tuple(first.values())


PHOTO_TYPES = _canonical_types()


async def _facts(request: web.Request) -> entities.InstanceFacts:
    async with reading(request) as reader:
        users, posts = await people.instance_counts(reader)
        site = await instance.instance(reader)
    return entities.InstanceFacts(
        domain=urlsplit(request.app[settings_key].app.public_url).netloc,
        title=site.name,
        software_version=SOFTWARE_VERSION,
        user_count=users,
        post_count=posts,
        max_post_chars=MAX_POST_BODY_CHARS,
        max_photos=MAX_PHOTOS,
        max_photo_bytes=MAX_PHOTO_BYTES,
        max_photo_pixels=MAX_PIXELS,
        max_alt_chars=MAX_ALT_CHARS,
        photo_types=PHOTO_TYPES,
        description=site.description,
        contact_email=site.contact_email,
        registration_mode=site.registration_mode,
        invites_by_users=site.invites_by_users,
        rules=site.rules,
    )


async def instance_v1(request: web.Request) -> web.Response:
    return json_response(entities.instance_v1(await _facts(request), links(request)))


async def instance_v2(request: web.Request) -> web.Response:
    return json_response(entities.instance_v2(await _facts(request), links(request)))


async def rules(request: web.Request) -> web.Response:
    async with reading(request) as reader:
        site = await instance.instance(reader)
    return json_response([entities.rule(each) for each in site.rules])


async def nodeinfo_links(request: web.Request) -> web.Response:
    href = links(request).route("mastodon_nodeinfo")
    return json_response(entities.nodeinfo_links(href))


async def nodeinfo(request: web.Request) -> web.Response:
    return json_response(entities.nodeinfo(await _facts(request)))
