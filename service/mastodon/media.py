"""/api/v2/media and /api/v1/media/:id: photos uploaded before their status.

An upload is a photo row with no post, owned by the uploader, checked as the web's uploads
are and processed by the same durable job; ``POST /api/v1/statuses`` with ``media_ids[]``
attaches it (docs/media.md). Until then only its owner sees it, here."""

from __future__ import annotations

from aiohttp import web

from service.domain import posts
from service.handlers import posting
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import sessionmaker_key
from service.mastodon import entities
from service.mastodon.common import (
    id_from_path,
    json_response,
    links,
    not_found,
    read_params,
    text_of,
)
from service.reads import media
from service.reads.views import MediaView
from service.web.auth import require_confirmed, require_user
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.uploads import UploadError, received

PROCESSING_FAILED = lazy_gettext("There was an error processing the media attachment")


async def _media(request: web.Request, owner_id: int, photo_id: int) -> MediaView:
    async with reading(request) as reader:
        found = await media.unattached(reader, media_urls(request), owner_id, photo_id)
    if found is None:
        raise not_found()
    return found


async def create(request: web.Request) -> web.Response:
    """``file`` and ``description``: 202 with ``url: null`` while the photo is processed."""
    viewer = require_confirmed(request)
    if request.content_type != "multipart/form-data":
        raise Problem(422, _("Validation failed: File can't be blank (send multipart/form-data)"))
    try:
        photo_id = await posting.create_media_from_form(request, viewer.id)
    except UploadError as error:
        raise Problem(error.status, error.message) from error
    found = await _media(request, viewer.id, photo_id)
    return json_response(entities.unattached_media(found, links(request)), status=202)


async def show(request: web.Request) -> web.Response:
    """206 while the photo is processed, 200 once it is ready to attach."""
    viewer = require_user(request)
    found = await _media(request, viewer.id, id_from_path(request))
    if found.failed:
        raise Problem(422, PROCESSING_FAILED)
    entity = entities.unattached_media(found, links(request))
    return json_response(entity, status=200 if found.ready else 206)


async def update(request: web.Request) -> web.Response:
    """``description``, the alt text, until the photo is attached (``focus`` and a
    ``thumbnail`` are not kept: photos have neither here)."""
    viewer = require_confirmed(request)
    photo_id = id_from_path(request)
    if request.content_type == "multipart/form-data":
        try:
            async with received(request, {}, posting.MEDIA_TEXTS) as form:
                description = form.texts.get("description")
        except UploadError as error:
            raise Problem(error.status, error.message) from error
    else:
        description = text_of(await read_params(request), "description")
    if description is not None:
        try:
            alt = posting.alt_text(description)
        except UploadError as error:
            raise Problem(error.status, error.message) from error
        async with request.app[sessionmaker_key].begin() as db:
            if not await posts.describe_media(db, viewer.id, photo_id, alt):
                raise not_found()
    found = await _media(request, viewer.id, photo_id)
    return json_response(entities.unattached_media(found, links(request)))
