"""/comments/: deleting a comment from its page."""

from __future__ import annotations

from aiohttp import web

from service.handlers.actions import delete_comment
from service.i18n import gettext as _
from service.views.common import redirect
from service.web.auth import require_user
from service.web.flash import flash
from service.web.resources import comment_id_from
from service.web.urls import url_for


async def remove_comment(request: web.Request) -> web.Response:
    post_id = await delete_comment(request, require_user(request), comment_id_from(request))
    await flash(request, _("The comment has been deleted."), "success")
    raise redirect(url_for(request, "post", id=post_id) + "#comments")
