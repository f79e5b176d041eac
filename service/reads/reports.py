"""Reports and the audit log: the moderation queue, a report with what else was said about
the same account, a reporter's own reports, and the log of decisions.

These lists show what was reported as it was copied when reported, suspended accounts
included: moderators must see them to decide, and a reporter keeps the record of what they
reported. Who may ask for them is for the handlers to say (moderators, admins for the log,
a reporter for their own); none of them shows a post or a person's current words.
"""

from __future__ import annotations

from service.cursor import Position
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.statements import Reader, register, register_paged
from service.reads.views import ModerationEntry, Page, ReportView, WarningView

# The queue shows this many open reports at most, the oldest: a moderator works from the
# oldest, and each decision takes reports off it.
QUEUE_REPORTS = 100
# Other reports about the same account shown beside a report, newest first.
RELATED_REPORTS = 20
# Warnings shown at once to their owner, oldest first; more wait for these to be read.
SHOWN_WARNINGS = 3

_REPORTS = """
    SELECT r.id, r.kind, r.category, r.comment, r.username, r.body, r.photo_keys,
           r.created_at, r.account_id, r.post_id, r.comment_id, r.resolution, r.resolved_at,
           reporter.username AS reporter, resolver.username AS resolver,
           coalesce(a.suspended_at IS NOT NULL, false) AS account_suspended,
           a.suspension_reason
      FROM reports r
      LEFT JOIN users a ON a.id = r.account_id
      LEFT JOIN users reporter ON reporter.id = r.reporter_id
      LEFT JOIN users resolver ON resolver.id = r.resolved_by"""

# The oldest open reports (ix_reports_open), one more than the queue shows.
QUEUE = register(
    "report_queue",
    f"""
    {_REPORTS}
     WHERE r.resolution IS NULL
     ORDER BY r.created_at, r.id
     LIMIT {QUEUE_REPORTS + 1}
    """,
)

# Report $1.
ONE = register(
    "report",
    f"""
    {_REPORTS}
     WHERE r.id = $1
    """,
)

# The reports about account $1 but report $2, newest first.
ABOUT = register(
    "reports_about",
    f"""
    {_REPORTS}
     WHERE r.account_id = $1 AND r.id <> $2
     ORDER BY r.created_at DESC, r.id DESC
     LIMIT {RELATED_REPORTS}
    """,
)

# How many reports are open: the count in moderators' navigation.
OPEN_COUNT = register(
    "open_report_count",
    "SELECT count(*) FROM reports r WHERE r.resolution IS NULL",
)

# Reporter $1's reports, newest first, after the position ($2 time, $3 id).
OWN = register_paged(
    "own_reports",
    lambda rows: (
        f"""
    {_REPORTS}
     WHERE r.reporter_id = $1 AND (r.created_at, r.id) < ($2, $3)
     ORDER BY r.created_at DESC, r.id DESC
     LIMIT {rows}
    """
    ),
)

# How many warnings user $1 has not acknowledged: read with the home page's own statement,
# so that its one round trip says whether there are warnings to read.
UNACKNOWLEDGED_COUNT = """
    SELECT count(*) FROM account_warnings w
     WHERE w.user_id = $1 AND w.acknowledged_at IS NULL"""

# The warnings user $1 has not acknowledged yet (ix_account_warnings_unacknowledged).
WARNINGS = register(
    "unacknowledged_warnings",
    f"""
    SELECT w.id, w.message, w.created_at
      FROM account_warnings w
     WHERE w.user_id = $1 AND w.acknowledged_at IS NULL
     ORDER BY w.created_at, w.id
     LIMIT {SHOWN_WARNINGS}
    """,
)

_ACTIONS = """
    SELECT m.id, m.created_at, m.moderator_username, m.action, m.username, m.account_id,
           m.report_id, m.reason
      FROM moderation_actions m"""

# The decisions on report $1, oldest first.
HISTORY = register(
    "report_history",
    f"""
    {_ACTIONS}
     WHERE m.report_id = $1
     ORDER BY m.created_at, m.id
    """,
)

# The audit log, newest first, after the position ($1 time, $2 id).
LOG = register_paged(
    "audit_log",
    lambda rows: (
        f"""
    {_ACTIONS}
     WHERE (m.created_at, m.id) < ($1, $2)
     ORDER BY m.created_at DESC, m.id DESC
     LIMIT {rows}
    """
    ),
)


def _report(row) -> ReportView:
    values = list(row)
    values[6] = tuple(values[6])
    return ReportView(*values)


async def queue(reader: Reader) -> tuple[list[ReportView], bool]:
    """The oldest open reports, and whether there are more than these."""
    rows = await reader.rows(QUEUE)
    return [_report(row) for row in rows[:QUEUE_REPORTS]], len(rows) > QUEUE_REPORTS


async def report(reader: Reader, report_id: int) -> ReportView | None:
    row = await reader.row(ONE, report_id)
    return None if row is None else _report(row)


async def about_account(reader: Reader, account_id: int, but: int) -> list[ReportView]:
    return [_report(row) for row in await reader.rows(ABOUT, account_id, but)]


async def open_count(reader: Reader) -> int:
    return await reader.value(OPEN_COUNT)


async def own(
    reader: Reader, reporter_id: int, after: Position | None, limit: int
) -> Page[ReportView]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(OWN.rows(limit + 1), reporter_id, start.at, start.id)
    return page_of([_report(row) for row in rows], limit)


async def warnings(reader: Reader, user_id: int) -> list[WarningView]:
    """The moderators' warnings to the user that they have not acknowledged, oldest first."""
    return [WarningView(*row) for row in await reader.rows(WARNINGS, user_id)]


async def history(reader: Reader, report_id: int) -> list[ModerationEntry]:
    return [ModerationEntry(*row) for row in await reader.rows(HISTORY, report_id)]


async def audit_log(reader: Reader, after: Position | None, limit: int) -> Page[ModerationEntry]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(LOG.rows(limit + 1), start.at, start.id)
    return page_of([ModerationEntry(*row) for row in rows], limit)
