"""Reporting a post, a comment or an account (the "Report" entry of their menus), and the
reporter's own reports with what the moderators decided (/settings/reports)."""

from __future__ import annotations

from aiohttp import web

from service.domain import reports as commands
from service.domain.reports import CATEGORY_LABELS
from service.handlers.actions import user_id_for
from service.handlers.reporting import Target, check_not_own, file_reports, visible_target
from service.i18n import lazy_gettext
from service.keys import sessionmaker_key
from service.models import MAX_MODERATION_TEXT_CHARS
from service.reads import reports
from service.reads.views import CommentView, PostView, SessionUser
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.params import path_id
from service.web.problems import Problem
from service.web.resources import comment_id_from, post_id_from, reading
from service.web.urls import url_for

THANKS = lazy_gettext(
    "Thank you: your report is with the moderators. What they decide will show under"
    " Settings, Your reports."
)


async def _target(request: web.Request, viewer: SessionUser, kind: str) -> tuple[int, Target]:
    """The id of what the URL names and what the viewer sees of it; 404 if they may not see
    it, 422 if it is their own."""
    if kind == "post":
        target_id = post_id_from(request)
    elif kind == "comment":
        target_id = comment_id_from(request)
    else:
        target_id = await user_id_for(request, request.match_info["username"], viewer.id)
    target = await visible_target(request, viewer, kind, target_id)
    check_not_own(viewer, target)
    return target_id, target


def _back(request: web.Request, target: Target) -> str:
    """Where the reporter goes when done: what they reported."""
    if isinstance(target, PostView):
        return url_for(request, "post", id=str(target.id))
    if isinstance(target, CommentView):
        return url_for(request, "post", id=str(target.post_id)) + f"#comment-{target.id}"
    return url_for(request, "profile", username=target.summary.username)


async def _form(
    request: web.Request,
    kind: str,
    target: Target,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "kind": kind,
        "target": target,
        "author": target.summary if kind == "account" else target.author,
        "categories": CATEGORY_LABELS,
        "max_comment": MAX_MODERATION_TEXT_CHARS,
        "form": form or {},
        "errors": errors or {},
        "back": _back(request, target),
    }
    return await render(request, "reports/form.html", context, status)


async def _show_form(request: web.Request, kind: str) -> web.Response:
    viewer = require_user(request)
    _, target = await _target(request, viewer, kind)
    return await _form(request, kind, target)


async def _submit(request: web.Request, kind: str) -> web.Response:
    viewer = require_user(request)
    target_id, target = await _target(request, viewer, kind)
    raw = await read_form(request)
    form = {"category": raw.get("category", ""), "comment": raw.get("comment", "")}
    try:
        await file_reports(request, viewer, [(kind, target_id)], form["category"], form["comment"])
    except Problem as problem:
        if problem.status != 422:
            raise
        field = "category" if form["category"] not in CATEGORY_LABELS else "comment"
        return await _form(request, kind, target, form, {field: problem.message}, 422)
    await flash(request, str(THANKS), "success")
    raise redirect(_back(request, target))


async def report_post_form(request: web.Request) -> web.Response:
    return await _show_form(request, "post")


async def report_post(request: web.Request) -> web.Response:
    return await _submit(request, "post")


async def report_comment_form(request: web.Request) -> web.Response:
    return await _show_form(request, "comment")


async def report_comment(request: web.Request) -> web.Response:
    return await _submit(request, "comment")


async def report_account_form(request: web.Request) -> web.Response:
    return await _show_form(request, "account")


async def report_account(request: web.Request) -> web.Response:
    return await _submit(request, "account")


async def own_reports(request: web.Request) -> web.Response:
    """The viewer's reports, newest first, each with what the moderators decided."""
    viewer = require_user(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await reports.own(reader, viewer.id, after, limit)
    context = {"page": page, "categories": CATEGORY_LABELS}
    return await render(request, "settings/reports.html", context)


NO_WARNING = lazy_gettext("There is no such warning.")


async def acknowledge_warning(request: web.Request) -> web.Response:
    """The owner pressed "I understand" on a moderators' warning: it is shown no more. Back
    to the page it was read on (a path of this site only), else the home page."""
    viewer = require_user(request)
    warning_id = path_id(request, str(NO_WARNING))
    back = (await read_form(request)).get("next", "")
    async with request.app[sessionmaker_key].begin() as db:
        if not await commands.acknowledge_warning(db, warning_id, viewer.id):
            raise Problem(404, NO_WARNING)
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for(request, "home")
    raise redirect(back)
