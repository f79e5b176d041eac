"""Filing a report, as pages, the JSON API and the Mastodon API all do: what is reported
must be something the reporter may see (else 404, as if it did not exist), and the report is
made in one unit of work with the 4xx answers they share."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from service.domain import reports
from service.handlers.flood import count_action
from service.i18n import gettext as _
from service.i18n import lazy_gettext
from service.keys import sessionmaker_key
from service.reads import comments, people, posts
from service.reads.views import CommentView, PostView, Profile, SessionUser
from service.web.problems import Problem
from service.web.resources import media_urls, reading

NOT_FOUND = {
    "post": lazy_gettext("There is no such post."),
    "comment": lazy_gettext("There is no such comment."),
    "account": lazy_gettext("There is no user by that name."),
}

Target = PostView | CommentView | Profile


async def visible_target(
    request: web.Request, viewer: SessionUser, kind: str, target_id: int
) -> Target:
    """The post, comment or account (by id) as the viewer sees it; 404 when they may not
    see it (the visibility rule), or it does not exist."""
    async with reading(request) as reader:
        found: Target | None
        if kind == "post":
            found = await posts.post(reader, media_urls(request), target_id, viewer.id)
        elif kind == "comment":
            found = await comments.comment(reader, target_id, viewer.id)
        else:
            [found] = await people.profiles_by_id(reader, [target_id], viewer.id) or [None]
    if found is None:
        raise Problem(404, NOT_FOUND[kind])
    return found


def check_not_own(viewer: SessionUser, target: Target) -> None:
    author = target.summary if isinstance(target, Profile) else target.author
    if author.id == viewer.id:
        raise Problem(422, _("You cannot report yourself or what you wrote."), "cannot_report_self")


async def file_reports(
    request: web.Request,
    viewer: SessionUser,
    targets: Sequence[tuple[str, int]],
    category: str,
    comment: str,
) -> list[int]:
    """Report each (kind, id) the viewer may see, in one unit of work: all or none. The new
    reports' ids, in order."""
    for kind, target_id in targets:
        check_not_own(viewer, await visible_target(request, viewer, kind, target_id))
    # One report however many posts it names (an app may send several): counted once.
    await count_action(request, viewer.id, "reports")
    made = []
    async with request.app[sessionmaker_key].begin() as db:
        for kind, target_id in targets:
            try:
                made.append(
                    await reports.file_report(db, viewer.id, kind, target_id, category, comment)
                )
            except reports.CannotReportSelf as error:
                raise Problem(422, str(error), "cannot_report_self") from error
            except reports.ReportRefused as error:
                raise Problem(422, str(error), "invalid_report") from error
            except reports.NothingToReport as error:
                raise Problem(404, NOT_FOUND[kind]) from error
    return made
