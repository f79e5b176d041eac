"""/admin/reports and /admin/audit: the moderation queue, a report and the decisions on it
(moderators and admins), removing a post from trends (moderators, from the post's page), and
the audit log of every decision (admins)."""

from __future__ import annotations

from aiohttp import web

from service.domain import reports as commands
from service.domain import trending
from service.domain.reports import CATEGORY_LABELS
from service.keys import sessionmaker_key
from service.models import MAX_MODERATION_TEXT_CHARS
from service.reads import reports
from service.reads.views import ReportView, SessionUser
from service.views.admin import require_admin
from service.views.common import redirect, render
from service.web.auth import require_user
from service.web.flash import flash
from service.web.forms import read_form
from service.web.paging import page_request
from service.web.params import path_id
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.urls import url_for

# The decisions, by the last part of their URL: the domain's action and what the moderator
# is told once it is taken.
ACTIONS = {
    "dismiss": ("dismiss", "Report dismissed."),
    "delete": ("delete_content", "Deleted; the reports about it are resolved."),
    "suspend": ("suspend", "Account suspended; the reports about it are resolved."),
    "unsuspend": ("unsuspend", "Suspension lifted."),
    "reopen": ("reopen", "Report reopened."),
    "sensitive": (
        "mark_sensitive",
        "Photos marked sensitive; the reports about the post are resolved.",
    ),
    "unsensitive": ("unmark_sensitive", "Photos no longer marked sensitive; reports reopened."),
    "warn": ("warn", "Warning sent; the report is resolved."),
}
NO_REPORT = "There is no such report."


def require_moderator(request: web.Request) -> SessionUser:
    user = require_user(request)
    if not user.is_moderator:
        raise Problem(403, "Only moderators can do that.")
    return user


def _groups(open_reports: list[ReportView]) -> list[list[ReportView]]:
    """The reports by the account they are about, each group where its oldest report
    stands (the reports come oldest first)."""
    groups: dict[object, list[ReportView]] = {}
    for report in open_reports:
        key = report.account_id if report.account_id is not None else ("gone", report.username)
        groups.setdefault(key, []).append(report)
    return list(groups.values())


async def queue(request: web.Request) -> web.Response:
    require_moderator(request)
    async with reading(request) as reader:
        open_reports, more = await reports.queue(reader)
    context = {"groups": _groups(open_reports), "more": more, "categories": CATEGORY_LABELS}
    return await render(request, "admin/reports.html", context)


def _report_id(request: web.Request) -> int:
    return path_id(request, NO_REPORT)


async def _report_page(
    request: web.Request, report_id: int, error: str | None = None, reason: str = ""
) -> web.Response:
    async with reading(request) as reader:
        found = await reports.report(reader, report_id)
        if found is None:
            raise Problem(404, NO_REPORT)
        related = []
        if found.account_id is not None:
            related = await reports.about_account(reader, found.account_id, found.id)
        history = await reports.history(reader, found.id)
    # Evidence of a restricted photo is under the restricted kind, so named by signed URLs.
    photo_urls = [media_urls(request)(key) for key in found.photo_keys]
    context = {
        "report": found,
        "related": related,
        "history": history,
        "photo_urls": photo_urls,
        "categories": CATEGORY_LABELS,
        "max_reason": MAX_MODERATION_TEXT_CHARS,
        "error": error,
        "reason": reason,
    }
    return await render(request, "admin/report.html", context, 422 if error else 200)


async def report(request: web.Request) -> web.Response:
    require_moderator(request)
    return await _report_page(request, _report_id(request))


async def decide(request: web.Request) -> web.Response:
    moderator = require_moderator(request)
    report_id = _report_id(request)
    action, done = ACTIONS[request.match_info["action"]]
    reason = (await read_form(request)).get("reason", "")
    async with request.app[sessionmaker_key].begin() as db:
        try:
            await commands.decide(db, report_id, moderator.id, action, reason)
        except commands.ReportNotFound as error:
            raise Problem(404, NO_REPORT) from error
        except commands.DecisionRefused as error:
            refused = str(error)
        else:
            refused = None
    if refused is not None:
        return await _report_page(request, report_id, refused, reason)
    await flash(request, done, "success")
    raise redirect(url_for(request, "admin_report", id=str(report_id)))


# Taking a post off trends and putting it back: the command and what the moderator is told.
TREND_ACTIONS = {
    "remove": (trending.remove_from_trends, "Removed from trends."),
    "restore": (trending.restore_to_trends, "Back in trends, as its engagement places it."),
}


async def trends(request: web.Request) -> web.Response:
    """A moderator takes a post off trending, or puts it back; recorded in the audit log."""
    moderator = require_moderator(request)
    post_id = path_id(request, "There is no such post.")
    command, done = TREND_ACTIONS[request.match_info["action"]]
    async with request.app[sessionmaker_key].begin() as db:
        try:
            await command(db, post_id, moderator.id)
        except trending.NoSuchPost as error:
            raise Problem(404, "There is no such post.") from error
        except trending.TrendDecisionRefused as error:
            refused = str(error)
        else:
            refused = None
    await flash(request, refused or done, "warning" if refused else "success")
    raise redirect(url_for(request, "post", id=str(post_id)))


async def audit_log(request: web.Request) -> web.Response:
    require_admin(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await reports.audit_log(reader, after, limit)
    return await render(request, "admin/audit.html", {"page": page})
