"""What every handler needs from the request: a reader for its reads, the media URLs, and
ids from the path."""

from __future__ import annotations

import contextlib

from aiohttp import web

from service.i18n import gettext as _
from service.keys import read_pool_key, storage_key
from service.reads import statements
from service.reads.statements import Reader
from service.storage.urls import MediaUrls
from service.web.params import path_id


def reading(request: web.Request) -> contextlib.AbstractAsyncContextManager[Reader]:
    """A reader for the statements of one request (see reads.statements)."""
    return statements.reading(request.app[read_pool_key])


def media_urls(request: web.Request) -> MediaUrls:
    """How this app's storage names a stored photo for browsers: restricted photos only by
    signed URLs (storage.urls.MediaLinks)."""
    return request.app[storage_key].urls


def post_id_from(request: web.Request) -> int:
    return path_id(request, _("There is no such post."))


def comment_id_from(request: web.Request) -> int:
    return path_id(request, _("There is no such comment."))
