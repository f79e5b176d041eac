"""The footer's language switcher (docs/translating.md)."""

from __future__ import annotations

from aiohttp import web

from service.domain import profiles
from service.keys import session_cache_key, sessionmaker_key, settings_key
from service.security import safe_next
from service.views.common import redirect
from service.web.auth import current_user
from service.web.forms import read_form
from service.web.language import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_MAX_AGE_SECONDS,
    NOT_OFFERED,
    offered,
)
from service.web.problems import Problem


async def set_language(request: web.Request) -> web.Response:
    """Read Snapline in the language chosen: kept in a cookie for this browser, and on the
    account of whoever is signed in (their mails follow it), then back to the page."""
    form = await read_form(request)
    language = form.get("language", "")
    if not offered(request, language):
        raise Problem(422, str(NOT_OFFERED), "unknown_language")
    viewer = current_user(request)
    if viewer is not None:
        async with request.app[sessionmaker_key].begin() as db:
            await profiles.set_language(db, viewer.id, language)
        # Other processes hear of it from the database; this one shows the next page.
        request.app[session_cache_key].user_changed(viewer.id)
    response = redirect(safe_next(form.get("next")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE_SECONDS,
        path="/",
        samesite="Lax",
        httponly=True,
        secure=request.app[settings_key].is_https,
    )
    raise response
