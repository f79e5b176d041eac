"""What apps ask for when they start, for features Snapline does not have (yet): valid
empty or default answers, never 404, so an app starts normally (SPEC §7). Those about the
user's own things need a user, as Mastodon's do."""

from __future__ import annotations

from aiohttp import web

from service.mastodon.common import json_response
from service.mastodon.entities import VISIBILITY
from service.web.auth import require_user

# Mastodon's preference keys, with the only values Snapline has but for the user's default
# visibility (their default audience, docs/privacy.md): none is sensitive, no language is
# set, media and content warnings shown as the app does.
PREFERENCES = {
    "posting:default:visibility": "public",
    "posting:default:sensitive": False,
    "posting:default:language": None,
    "reading:expand:media": "default",
    "reading:expand:spoilers": False,
}


async def preferences(request: web.Request) -> web.Response:
    viewer = require_user(request)
    visibility = VISIBILITY[viewer.default_audience]
    return json_response({**PREFERENCES, "posting:default:visibility": visibility})


async def markers(request: web.Request) -> web.Response:
    """No read positions are kept yet: no marker for any timeline."""
    require_user(request)
    return json_response({})


async def own_empty_list(request: web.Request) -> web.Response:
    """Filters, lists and announcements: the user has none."""
    require_user(request)
    return json_response([])


async def empty_list(request: web.Request) -> web.Response:
    """Custom emoji and trends: there are none."""
    return json_response([])
