"""Reports, and what moderators decide about them (docs/moderation.md).

Anyone signed in may report a post, a comment or an account they can see (the caller checks
that through the read layer). A report keeps a copy of what it is about, taken here in the
reporting transaction, so the evidence outlives an edit or a deletion; a reported post's
stored photos are kept as well (posts.delete_post leaves the objects of reported photos).

A decision resolves the report it is taken on and the other open reports it answers too:
deleting a post or comment, or marking its photos sensitive, answers every open report
about it, suspending an account every open report about that account; a warning answers
the report it is written on. Each decision is written to the audit log
(``moderation_actions``) in the same transaction; a decision can be changed later, or the
report reopened, and that is written there too.
"""

from __future__ import annotations

import contextlib
import dataclasses

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import accounts, comments, posts
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.models import (
    MAX_MODERATION_TEXT_CHARS,
    REPORT_CATEGORIES,
    AccountWarning,
    Comment,
    ModerationAction,
    Photo,
    Post,
    Report,
    User,
)
from service.storage.urls import rendition_key
from service.text import text_error, trim

# What a reporter chooses from, as the form names each category.
CATEGORY_LABELS = {
    "spam": lazy_gettext("Spam"),
    "harassment": lazy_gettext("Harassment or abuse"),
    "illegal": lazy_gettext("Illegal content"),
    "sensitive": lazy_gettext("Sensitive media without a warning"),
    "other": lazy_gettext("Something else"),
}
assert tuple(CATEGORY_LABELS) == REPORT_CATEGORIES

# What each decision makes of a report.
RESOLUTION_OF = {
    "dismiss": "dismissed",
    "delete_content": "content_deleted",
    "suspend": "account_suspended",
    "mark_sensitive": "media_marked_sensitive",
    "warn": "warned",
}


class ReportRefused(ValueError):
    """A report that cannot be made as asked: the message says why (a 422)."""


class CannotReportSelf(ReportRefused):
    pass


class NothingToReport(LookupError):
    """The post, comment or account is gone."""


class ReportNotFound(LookupError):
    pass


class DecisionRefused(ValueError):
    """A decision that cannot be taken on this report now: the message says why."""


def moderation_text_error(value: str, what: str = "reason") -> str | None:
    """Why a reporter's comment (``what`` "comment") or a moderator's reason (anything
    else) cannot be kept, or None."""
    if len(value) > MAX_MODERATION_TEXT_CHARS:
        if what == "comment":
            message = _("The comment is at most %(count)s characters.")
        else:
            message = _("The reason is at most %(count)s characters.")
        return message % {"count": MAX_MODERATION_TEXT_CHARS}
    return text_error(value, multiline=True)


def check_report(category: str, comment: str) -> str:
    """The comment as it is kept; ReportRefused for an unknown category or a comment that
    cannot be kept."""
    if category not in CATEGORY_LABELS:
        raise ReportRefused(
            _("Choose what is wrong: %(categories)s.") % {"categories": ", ".join(CATEGORY_LABELS)}
        )
    comment = trim(comment)
    if message := moderation_text_error(comment, "comment"):
        raise ReportRefused(message)
    return comment


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    account_id: int
    username: str
    body: str
    post_id: int | None = None
    comment_id: int | None = None
    photo_keys: tuple[str, ...] = ()


async def _post_snapshot(session: AsyncSession, post_id: int) -> _Snapshot | None:
    # Locked against deletion (key share) until the report that refers to it is in.
    row = (
        await session.execute(
            select(Post.author_id, User.username, Post.body)
            .join(User, User.id == Post.author_id)
            .where(Post.id == post_id)
            .with_for_update(of=Post, key_share=True)
        )
    ).one_or_none()
    if row is None:
        return None
    photos = await session.execute(
        select(Photo.key_prefix, Photo.extension)
        .where(Photo.post_id == post_id, Photo.extension.is_not(None))
        .order_by(Photo.position)
    )
    keys = tuple(rendition_key(prefix, "display", extension) for prefix, extension in photos)
    return _Snapshot(row.author_id, row.username, row.body, post_id=post_id, photo_keys=keys)


async def _comment_snapshot(session: AsyncSession, comment_id: int) -> _Snapshot | None:
    row = (
        await session.execute(
            select(Comment.author_id, User.username, Comment.body, Comment.post_id)
            .join(User, User.id == Comment.author_id)
            .where(Comment.id == comment_id)
            .with_for_update(of=Comment, key_share=True)
        )
    ).one_or_none()
    if row is None:
        return None
    return _Snapshot(
        row.author_id, row.username, row.body, post_id=row.post_id, comment_id=comment_id
    )


async def _account_snapshot(session: AsyncSession, user_id: int) -> _Snapshot | None:
    row = (
        await session.execute(
            select(User.username, User.display_name, User.bio)
            .where(User.id == user_id)
            .with_for_update(key_share=True)
        )
    ).one_or_none()
    if row is None:
        return None
    return _Snapshot(user_id, row.username, "\n".join(filter(None, (row.display_name, row.bio))))


_SNAPSHOTS = {"post": _post_snapshot, "comment": _comment_snapshot, "account": _account_snapshot}


async def file_report(
    session: AsyncSession,
    reporter_id: int,
    kind: str,
    target_id: int,
    category: str,
    comment: str = "",
) -> int:
    """Report the post, comment or account (``kind``) ``target_id``; the report's id.
    ReportRefused for a bad category or comment, CannotReportSelf for one's own,
    NothingToReport when it is gone."""
    comment = check_report(category, comment)
    snapshot = await _SNAPSHOTS[kind](session, target_id)
    if snapshot is None:
        raise NothingToReport(kind)
    if snapshot.account_id == reporter_id:
        raise CannotReportSelf(_("You cannot report yourself or what you wrote."))
    return await session.scalar(
        insert(Report)
        .values(
            reporter_id=reporter_id,
            kind=kind,
            account_id=snapshot.account_id,
            post_id=snapshot.post_id,
            comment_id=snapshot.comment_id,
            category=category,
            comment=comment,
            username=snapshot.username,
            body=snapshot.body,
            photo_keys=list(snapshot.photo_keys),
        )
        .returning(Report.id)
    )


async def record_action(
    session: AsyncSession,
    moderator_id: int | None,
    action: str,
    account_id: int | None,
    username: str,
    reason: str = "",
    report_id: int | None = None,
) -> None:
    """One line of the audit log; ``moderator_id`` None for the command line."""
    moderator = None
    if moderator_id is not None:
        moderator = await session.scalar(select(User.username).where(User.id == moderator_id))
    await session.execute(
        insert(ModerationAction).values(
            moderator_id=moderator_id,
            moderator_username=moderator,
            action=action,
            report_id=report_id,
            account_id=account_id,
            username=username,
            reason=reason,
        )
    )


async def _resolve(session: AsyncSession, moderator_id: int, resolution: str, *where) -> int:
    """Resolve the reports ``where`` selects as ``resolution``; how many."""
    result = await session.execute(
        update(Report)
        .where(*where)
        .values(resolution=resolution, resolved_at=func.now(), resolved_by=moderator_id)
    )
    return result.rowcount or 0


async def _delete_content(session: AsyncSession, report: Report, moderator_id: int) -> None:
    if report.kind == "account":
        raise DecisionRefused(_("An account is not deleted from here: suspend it instead."))
    # The reports are resolved first: deleting the content sets their links to it to NULL.
    if report.kind == "post" and report.post_id is not None:
        await _resolve(
            session, moderator_id, "content_deleted",
            Report.kind == "post", Report.post_id == report.post_id, Report.resolution.is_(None),
        )  # fmt: skip
        await posts.delete_post(session, report.post_id)
    elif report.kind == "comment" and report.comment_id is not None:
        await _resolve(
            session, moderator_id, "content_deleted",
            Report.comment_id == report.comment_id, Report.resolution.is_(None),
        )  # fmt: skip
        # If it went meanwhile, with its post, it is gone either way.
        with contextlib.suppress(comments.CommentNotFound):
            await comments.delete_as(session, report.comment_id, moderator_id, True)
    # Gone already (its author deleted it, or a decision on another report): resolved as
    # deleted all the same, which is what its reporter sees.
    await _resolve(session, moderator_id, "content_deleted", Report.id == report.id)


async def _post_with_photos(session: AsyncSession, report: Report) -> int:
    """The reported post's id, locked for the change; DecisionRefused when the report is not
    about a post with photos, or the post is gone."""
    if report.kind != "post":
        raise DecisionRefused(_("Only a reported post's photos can be marked sensitive."))
    if report.post_id is None:
        raise DecisionRefused(_("The post is gone."))
    has_photos = await session.scalar(
        select(Post.id)
        .join(Photo, Photo.post_id == Post.id)
        .where(Post.id == report.post_id)
        .limit(1)
        .with_for_update(of=Post)
    )
    if has_photos is None:
        raise DecisionRefused(_("The post has no photos."))
    return report.post_id


async def _mark_sensitive(session: AsyncSession, report: Report, moderator_id: int) -> None:
    post_id = await _post_with_photos(session, report)
    await session.execute(update(Post).where(Post.id == post_id).values(sensitive=True))
    # This one too, if it was resolved otherwise: the decision is changed.
    await _resolve(
        session, moderator_id, "media_marked_sensitive",
        Report.kind == "post", Report.post_id == post_id,
        (Report.resolution.is_(None)) | (Report.id == report.id),
    )  # fmt: skip


async def _unmark_sensitive(session: AsyncSession, report: Report) -> None:
    if report.resolution != "media_marked_sensitive":
        raise DecisionRefused(_("This report's decision is not to mark the photos sensitive."))
    answered = Report.id == report.id
    if report.post_id is not None:
        await session.execute(update(Post).where(Post.id == report.post_id).values(sensitive=False))
        # Every report that marking answered is open again: what it did is undone.
        answered = answered | (
            (Report.kind == "post")
            & (Report.post_id == report.post_id)
            & (Report.resolution == "media_marked_sensitive")
        )
    await session.execute(
        update(Report).where(answered).values(resolution=None, resolved_at=None, resolved_by=None)
    )


async def _warn(session: AsyncSession, report: Report, moderator_id: int, message: str) -> None:
    if report.account_id is None:
        raise DecisionRefused(_("The account is gone."))
    if not message:
        raise DecisionRefused(_("Write the warning: its owner reads it on their next page."))
    await session.execute(
        insert(AccountWarning).values(
            user_id=report.account_id,
            report_id=report.id,
            moderator_id=moderator_id,
            message=message,
        )
    )
    await _resolve(session, moderator_id, "warned", Report.id == report.id)


async def acknowledge_warning(session: AsyncSession, warning_id: int, user_id: int) -> bool:
    """The owner has read the warning: it is shown no more. False when it is not theirs,
    or acknowledged already."""
    result = await session.execute(
        update(AccountWarning)
        .where(
            AccountWarning.id == warning_id,
            AccountWarning.user_id == user_id,
            AccountWarning.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=func.now())
    )
    return bool(result.rowcount)


async def decide(
    session: AsyncSession, report_id: int, moderator_id: int, action: str, reason: str = ""
) -> None:
    """Take ``action`` (models.MODERATION_ACTIONS) on the report as the moderator, and write
    it to the audit log. ReportNotFound; DecisionRefused when it cannot be taken (the
    account or content is gone, nothing would change, a suspension or a warning without its
    text). For ``warn``, ``reason`` is the warning its owner reads."""
    reason = trim(reason)
    if message := moderation_text_error(reason):
        raise DecisionRefused(message)
    report = await session.scalar(select(Report).where(Report.id == report_id).with_for_update())
    if report is None:
        raise ReportNotFound(report_id)
    resolution = RESOLUTION_OF.get(action)
    if action == "reopen":
        if report.resolution is None:
            raise DecisionRefused(_("This report is open already."))
        await session.execute(
            update(Report)
            .where(Report.id == report_id)
            .values(resolution=None, resolved_at=None, resolved_by=None)
        )
    elif resolution is not None and report.resolution == resolution:
        raise DecisionRefused(_("That is this report's decision already."))
    elif action == "dismiss":
        await _resolve(session, moderator_id, "dismissed", Report.id == report_id)
    elif action == "delete_content":
        await _delete_content(session, report, moderator_id)
    elif action == "mark_sensitive":
        await _mark_sensitive(session, report, moderator_id)
    elif action == "unmark_sensitive":
        await _unmark_sensitive(session, report)
    elif action == "warn":
        await _warn(session, report, moderator_id, reason)
    elif action in ("suspend", "unsuspend"):
        if report.account_id is None:
            raise DecisionRefused(_("The account is gone."))
        if action == "suspend":
            if not reason:
                raise DecisionRefused(_("Say why: its owner reads it when they try to log in."))
            await accounts.suspend(session, report.account_id, reason)
            # This one too, if it was resolved otherwise: the decision is changed.
            await _resolve(
                session, moderator_id, "account_suspended",
                Report.account_id == report.account_id,
                (Report.resolution.is_(None)) | (Report.id == report_id),
            )  # fmt: skip
        elif not await accounts.unsuspend(session, report.account_id):
            raise DecisionRefused(_("The account is not suspended."))
    else:
        raise ValueError(action)
    await record_action(
        session, moderator_id, action, report.account_id, report.username, reason, report_id
    )
