"""/admin/reports and /admin/audit: the moderation queue, a report and the decisions on it
(moderators and admins), removing a post from trends (moderators, from the post's page), and
the audit log of every decision (admins)."""

from __future__ import annotations

from aiohttp import web

from service.domain import reports as commands
from service.domain import trending
from service.domain.reports import CATEGORY_LABELS
from service.i18n import gettext as _
from service.i18n import lazy_gettext, pgettext
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
    "dismiss": ("dismiss", lazy_gettext("Report dismissed.")),
    "delete": ("delete_content", lazy_gettext("Deleted; the reports about it are resolved.")),
    "suspend": (
        "suspend",
        lazy_gettext("Account suspended; the reports about it are resolved."),
    ),
    "unsuspend": ("unsuspend", lazy_gettext("Suspension lifted.")),
    "reopen": ("reopen", lazy_gettext("Report reopened.")),
    "sensitive": (
        "mark_sensitive",
        lazy_gettext("Photos marked sensitive; the reports about the post are resolved."),
    ),
    "unsensitive": (
        "unmark_sensitive",
        lazy_gettext("Photos no longer marked sensitive; reports reopened."),
    ),
    "warn": ("warn", lazy_gettext("Warning sent; the report is resolved.")),
}
NO_REPORT = lazy_gettext("There is no such report.")
NO_POST = lazy_gettext("There is no such post.")


def action_names() -> dict[str, str]:
    """The audit log's actions (stored by their identifiers) as the admin pages word them,
    in the language in use."""
    return {
        "dismiss": pgettext("audit log", "dismiss"),
        "delete_content": pgettext("audit log", "delete content"),
        "suspend": pgettext("audit log", "suspend"),
        "unsuspend": pgettext("audit log", "unsuspend"),
        "reopen": pgettext("audit log", "reopen"),
        "mark_sensitive": pgettext("audit log", "mark sensitive"),
        "unmark_sensitive": pgettext("audit log", "unmark sensitive"),
        "warn": pgettext("audit log", "warn"),
        "remove_from_trends": pgettext("audit log", "remove from trends"),
        "restore_to_trends": pgettext("audit log", "restore to trends"),
    }


def decision_names() -> dict[str, str]:
    """What was decided about a report (its stored resolution), as a moderator reads it."""
    return {
        "dismissed": pgettext("report decision", "dismissed"),
        "content_deleted": pgettext("report decision", "content deleted"),
        "account_suspended": pgettext("report decision", "account suspended"),
        "media_marked_sensitive": pgettext("report decision", "photos marked sensitive"),
        "warned": pgettext("report decision", "account warned"),
    }


def kind_names() -> dict[str, str]:
    """What a report is about (its stored kind), as a moderator reads it."""
    return {
        "post": pgettext("reported", "post"),
        "comment": pgettext("reported", "comment"),
        "account": pgettext("reported", "account"),
    }


def require_moderator(request: web.Request) -> SessionUser:
    user = require_user(request)
    if not user.is_moderator:
        raise Problem(403, _("Only moderators can do that."))
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
        "actions": action_names(),
        "decisions": decision_names(),
        "kinds": kind_names(),
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
    await flash(request, str(done), "success")
    raise redirect(url_for(request, "admin_report", id=str(report_id)))


# Taking a post off trends and putting it back: the command and what the moderator is told.
TREND_ACTIONS = {
    "remove": (trending.remove_from_trends, lazy_gettext("Removed from trends.")),
    "restore": (
        trending.restore_to_trends,
        lazy_gettext("Back in trends, as its engagement places it."),
    ),
}


async def trends(request: web.Request) -> web.Response:
    """A moderator takes a post off trending, or puts it back; recorded in the audit log."""
    moderator = require_moderator(request)
    post_id = path_id(request, NO_POST)
    command, done = TREND_ACTIONS[request.match_info["action"]]
    async with request.app[sessionmaker_key].begin() as db:
        try:
            await command(db, post_id, moderator.id)
        except trending.NoSuchPost as error:
            raise Problem(404, NO_POST) from error
        except trending.TrendDecisionRefused as error:
            refused = str(error)
        else:
            refused = None
    await flash(request, refused or str(done), "warning" if refused else "success")
    raise redirect(url_for(request, "post", id=str(post_id)))


async def audit_log(request: web.Request) -> web.Response:
    require_admin(request)
    after, limit = page_request(request)
    async with reading(request) as reader:
        page = await reports.audit_log(reader, after, limit)
    return await render(request, "admin/audit.html", {"page": page, "actions": action_names()})
