"""POST /api/v1/reports: report an account, and any of its statuses, to the moderators.

Mastodon's categories map to Snapline's: ``legal`` is illegal content, ``violation`` (of a
rule, which Snapline does not number) and ``other`` are "something else"; Snapline's own
names are taken too. A report naming statuses is one report per status, made together; the
answer is Mastodon's Report entity, with the id of the first."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.cursor import MAX_ID
from service.handlers.reporting import file_reports
from service.i18n import gettext as _
from service.mastodon import entities
from service.mastodon.common import (
    ids_of,
    json_response,
    links,
    not_found,
    read_params,
    text_of,
)
from service.mastodon.entities import Links
from service.reads import comments, people, reports
from service.reads import statuses as status_reads
from service.reads.statements import Reader
from service.reads.views import Profile, ReportView
from service.web.auth import require_user
from service.web.params import whole_number
from service.web.problems import Problem
from service.web.resources import media_urls, reading
from service.web.times import iso_millis

COMMENT_KIND = 1
CATEGORIES = {
    "spam": "spam",
    "legal": "illegal",
    "violation": "other",
    "other": "other",
    "illegal": "illegal",
    "harassment": "harassment",
    "sensitive": "sensitive",
}
# Snapline's categories as Mastodon names them back.
MASTODON_CATEGORY = {"spam": "spam", "illegal": "legal"}


async def _statuses(
    reader: Reader, request: web.Request, status_ids: list[int], account_id: int, viewer_id: int
) -> list[tuple[str, int]]:
    """What each status id names, if the viewer may see it (else 404) and the account wrote
    it (else 422)."""
    targets = []
    for status_id in status_ids:
        if status_id & 1 == COMMENT_KIND:
            found = await comments.by_status_id(reader, status_id, viewer_id)
            kind = "comment"
        else:
            found = await status_reads.by_status_id(
                reader, media_urls(request), status_id, viewer_id
            )
            kind = "post"
        if found is None:
            raise not_found()
        if found.author.id != account_id:
            raise Problem(422, _("Validation failed: a status is not by the account reported"))
        targets.append((kind, found.id))
    return targets


async def create(request: web.Request) -> web.Response:
    """``account_id``, ``status_ids[]``, ``comment``, ``category``; ``rule_ids[]`` and
    ``forward`` are accepted and ignored (no numbered rules, no other servers)."""
    viewer = require_user(request)
    params = await read_params(request, frozenset({"status_ids", "rule_ids"}))
    account_id = whole_number(text_of(params, "account_id"), 1, MAX_ID)
    if account_id is None:
        raise Problem(422, _("Validation failed: account_id is missing or not an id"))
    category = CATEGORIES.get(text_of(params, "category") or "other")
    if category is None:
        raise Problem(422, _("Validation failed: category is not one this server knows"))
    status_ids = ids_of(params, "status_ids")
    async with reading(request) as reader:
        [profile] = await people.profiles_by_id(reader, [account_id], viewer.id) or [None]
        if profile is None:
            raise not_found()
        targets = await _statuses(reader, request, status_ids, account_id, viewer.id)
    comment = text_of(params, "comment") or ""
    made = await file_reports(
        request, viewer, targets or [("account", account_id)], category, comment
    )
    async with reading(request) as reader:
        first = await reports.report(reader, made[0])
    assert first is not None, "a report just made is there"
    return json_response(_report(first, status_ids, profile, links(request)))


def _report(
    report: ReportView, status_ids: list[int], profile: Profile, links: Links
) -> dict[str, Any]:
    """Mastodon's Report entity."""
    return {
        "id": str(report.id),
        "action_taken": not report.is_open,
        "action_taken_at": iso_millis(report.resolved_at) if report.resolved_at else None,
        "category": MASTODON_CATEGORY.get(report.category, "other"),
        "comment": report.comment,
        "forwarded": False,
        "created_at": iso_millis(report.created_at),
        "status_ids": [str(status_id) for status_id in status_ids] or None,
        "rule_ids": None,
        "target_account": entities.account(profile, links),
    }
