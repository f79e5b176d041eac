"""/api/snapline/v1/reports: report a post, a comment or an account to the moderators."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.api.common import json_response, read_json_object
from service.cursor import MAX_ID
from service.handlers.actions import user_id_for
from service.handlers.reporting import file_reports
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.reads import reports
from service.reads.views import ReportView
from service.web.auth import require_user
from service.web.problems import Problem
from service.web.resources import reading
from service.web.times import iso_millis

# What a report names, one of them: the JSON field and the kind it reports.
TARGET_FIELDS = {"post_id": "post", "comment_id": "comment", "username": "account"}
ONE_TARGET = lazy_gettext("Name one of post_id, comment_id or username.")


def report_json(report: ReportView) -> dict[str, Any]:
    return {
        "id": report.id,
        "kind": report.kind,
        "username": report.username,
        "category": report.category,
        "comment": report.comment,
        "created_at": iso_millis(report.created_at),
        "status": "open" if report.is_open else "resolved",
        "outcome": report.resolution,
    }


async def _target(request: web.Request, body: dict[str, Any], viewer_id: int) -> tuple[str, int]:
    named = [field for field in TARGET_FIELDS if body.get(field) is not None]
    if len(named) != 1:
        raise Problem(422, ONE_TARGET, "invalid_report")
    field, value = named[0], body[named[0]]
    if field == "username":
        if not isinstance(value, str):
            raise Problem(422, _("%(name)s must be a string.") % {"name": field}, "invalid_input")
        return "account", await user_id_for(request, value, viewer_id)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise Problem(422, _("%(name)s must be an id.") % {"name": field}, "invalid_input")
    return TARGET_FIELDS[field], value


async def create(request: web.Request) -> web.Response:
    """JSON ``{"post_id" | "comment_id" | "username", "category", "comment"}``: 201 and the
    report; 404 for what the reporter may not see, 422 for their own or bad fields."""
    viewer = require_user(request)
    body = await read_json_object(request, ("category", "comment"))
    target = await _target(request, body, viewer.id)
    category, comment = body.get("category") or "", body.get("comment") or ""
    [report_id] = await file_reports(request, viewer, [target], category, comment)
    async with reading(request) as reader:
        made = await reports.report(reader, report_id)
    assert made is not None, "a report just made is there"
    return json_response(report_json(made), status=201)
