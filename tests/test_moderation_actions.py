"""Marking a reported post's photos sensitive and warning an account's owner
(docs/moderation.md): what everyone then sees, what both APIs say, the audit log, what the
reporter is told, undoing the marking, and the warning shown to its owner alone until they
acknowledge it."""

from __future__ import annotations

import re

from sqlalchemy import text

from service.domain import reports
from tests.api import Api
from tests.support import submit
from tests.test_reports import _as, _audit, _report, _reports_of
from tests.test_uploads import photo_post

COVER = '<details class="sensitive" data-sensitive>'


async def _decide(mod, report_id: int, action: str, reason: str = "") -> int:
    page = f"/admin/reports/{report_id}"
    return (await submit(mod, f"{page}/{action}", {"reason": reason}, page=page)).status


async def _outcomes(client) -> list[str]:
    mine = await (await client.get("/settings/reports")).text()
    return [" ".join(found.split()) for found in re.findall(r'"report-outcome">([^<]*)</p>', mine)]


async def _flag(db, post_id: int) -> bool:
    async with db() as session:
        return await session.scalar(
            text("SELECT sensitive FROM posts WHERE id = :id"), {"id": post_id}
        )


async def test_marked_photos_show_behind_a_cover_everywhere_until_unmarked(
    client, make_client, factory, login, db, tmp_path
):
    me, them, bystander = await factory.user(), await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    photo = await photo_post(db, them.id, tmp_path, "a beach", ("sand",))
    await login(client, me)
    assert (await _report(client, f"/p/{photo}/report", "sensitive")).status == 303
    second = await _as(make_client, client, login, bystander)
    assert (await _report(second, f"/p/{photo}/report", "sensitive")).status == 303
    [report_id] = [r["id"] for r in await _reports_of(db, me.id)]
    [other_report] = [r["id"] for r in await _reports_of(db, bystander.id)]
    assert COVER not in await (await client.get(f"/p/{photo}")).text()
    assert await _flag(db, photo) is False

    mod = await _as(make_client, client, login, moderator)
    page = await (await mod.get(f"/admin/reports/{report_id}")).text()
    assert "Mark the photos sensitive" in page and "Unmark the photos" not in page
    assert await _decide(mod, report_id, "sensitive") == 303
    assert await _decide(mod, report_id, "sensitive") == 422  # nothing would change
    assert await _flag(db, photo) is True

    author = await _as(make_client, client, login, them)
    anonymous = await make_client(client)
    for viewer in (client, author, anonymous):
        for path in (f"/p/{photo}", "/explore?sort=latest", f"/@{them.username}?tab=posts"):
            html = await (await viewer.get(path)).text()
            assert COVER in html and "Sensitive content" in html, path
        # The grid's tile shows the cover's words, and no photo but its placeholder.
        grid = await (await viewer.get(f"/@{them.username}?tab=photos")).text()
        tile = re.search(rf'<a class="tile" id="tile-{photo}".*?</a>', grid, re.S)
        assert tile and "Sensitive content" in tile.group(0) and "<img" not in tile.group(0)
    # The photo is still in the page, inside the cover, and never fetched first.
    post_page = await (await anonymous.get(f"/p/{photo}")).text()
    cover = post_page[post_page.index(COVER) :]
    assert 'alt="sand"' in cover[: cover.index("</details>")]
    assert 'fetchpriority="high"' not in post_page

    api = await Api(client).get(f"/api/snapline/v1/posts/{photo}")
    assert api["sensitive"] is True
    async with db() as session:
        status_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": photo}
        )
    status = await (await anonymous.get(f"/api/v1/statuses/{status_id}")).json()
    assert status["sensitive"] is True and len(status["media_attachments"]) == 1

    told = "Resolved: the moderators put the post's photos behind a sensitive content warning."
    assert await _outcomes(client) == [told]
    assert await _outcomes(second) == [told]  # marking answers every report about the post

    page = await (await mod.get(f"/admin/reports/{report_id}")).text()
    assert "photos marked sensitive" in page and "Unmark the photos" in page
    assert await _decide(mod, report_id, "unsensitive") == 303
    assert await _decide(mod, report_id, "unsensitive") == 422  # it is open again
    assert await _flag(db, photo) is False
    assert COVER not in await (await anonymous.get(f"/p/{photo}")).text()
    assert (await Api(client).get(f"/api/snapline/v1/posts/{photo}"))["sensitive"] is False
    status = await (await anonymous.get(f"/api/v1/statuses/{status_id}")).json()
    assert status["sensitive"] is False
    assert await _outcomes(client) == ["Open: the moderators have not decided yet."]
    assert await _outcomes(second) == ["Open: the moderators have not decided yet."]
    assert await _audit(db, [report_id, other_report]) == [
        ("mark_sensitive", moderator.username, ""),
        ("unmark_sensitive", moderator.username, ""),
    ]


async def test_only_a_reported_post_with_photos_can_be_marked(
    client, make_client, factory, login, db
):
    me, them = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    words = await factory.post(them, "only words")
    async with db.begin() as session:
        post_report = await reports.file_report(session, me.id, "post", words, "sensitive")
        account_report = await reports.file_report(session, me.id, "account", them.id, "other")
    mod = await _as(make_client, client, login, moderator)
    assert (
        "Mark the photos sensitive"
        not in await (await mod.get(f"/admin/reports/{post_report}")).text()
    )
    for report_id in (post_report, account_report):
        response = await submit(
            mod, f"/admin/reports/{report_id}/sensitive", page=f"/admin/reports/{report_id}"
        )
        assert response.status == 422
        assert "photos" in await response.text()
    assert await _flag(db, words) is False
    assert await _audit(db, [post_report, account_report]) == []


async def test_a_warning_is_shown_to_its_owner_alone_until_acknowledged(
    client, make_client, factory, login, db
):
    me, them, bystander = await factory.user(), await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    post_id = await factory.post(them, "rude words")
    await login(client, me)
    assert (await _report(client, f"/p/{post_id}/report", "harassment")).status == 303
    [report_id] = [r["id"] for r in await _reports_of(db, me.id)]

    mod = await _as(make_client, client, login, moderator)
    assert await _decide(mod, report_id, "warn") == 422  # a warning needs its words
    assert await _decide(mod, report_id, "warn", "  Please keep it civil.  ") == 303
    assert await _decide(mod, report_id, "warn", "Again") == 422  # this decision already
    assert await _outcomes(client) == [f"Resolved: the moderators warned @{them.username}."]
    assert await _audit(db, [report_id]) == [("warn", moderator.username, "Please keep it civil.")]

    author = await _as(make_client, client, login, them)
    for path in ("/", "/explore", "/settings/profile"):
        html = await (await author.get(path)).text()
        assert "A warning from the moderators" in html and "Please keep it civil." in html, path
    for viewer in (client, mod, await _as(make_client, client, login, bystander)):
        assert "Please keep it civil." not in await (await viewer.get("/")).text()
    [warning] = re.findall(
        r'action="/warnings/(\d+)/acknowledge"', await (await author.get("/explore")).text()
    )
    # Nobody else may acknowledge it, nor a warning that does not exist.
    for other, path in (
        (client, f"/warnings/{warning}/acknowledge"),
        (author, "/warnings/0/acknowledge"),
    ):
        assert (await submit(other, path, {"next": "/"}, page="/explore")).status == 404
    done = await submit(
        author, f"/warnings/{warning}/acknowledge", {"next": "/explore"}, page="/explore"
    )
    assert done.status == 303 and done.headers["Location"] == "/explore"
    for path in ("/", "/explore"):
        assert "Please keep it civil." not in await (await author.get(path)).text()
    again = await submit(author, f"/warnings/{warning}/acknowledge", page="/explore")
    assert again.status == 404
    async with db() as session:
        kept = await session.scalar(
            text("SELECT acknowledged_at IS NOT NULL FROM account_warnings WHERE id = :id"),
            {"id": int(warning)},
        )
    assert kept is True


async def test_acknowledging_goes_back_only_to_a_page_of_this_site(
    client, make_client, factory, login, db
):
    me, them = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    async with db.begin() as session:
        report_id = await reports.file_report(session, me.id, "account", them.id, "spam")
        await reports.decide(session, report_id, moderator.id, "warn", "No ads")
    await login(client, them)
    [warning] = re.findall(
        r'action="/warnings/(\d+)/acknowledge"', await (await client.get("/")).text()
    )
    done = await submit(
        client, f"/warnings/{warning}/acknowledge", {"next": "//evil.example/"}, page="/"
    )
    assert done.status == 303 and done.headers["Location"] == "/"


async def test_members_cannot_take_these_decisions(client, factory, login, db, tmp_path):
    me, them = await factory.user(), await factory.user()
    photo = await photo_post(db, them.id, tmp_path, "", ("",))
    async with db.begin() as session:
        report_id = await reports.file_report(session, me.id, "post", photo, "sensitive")
    await login(client, me)
    for action, reason in (("sensitive", ""), ("unsensitive", ""), ("warn", "Behave")):
        response = await submit(
            client, f"/admin/reports/{report_id}/{action}", {"reason": reason}, page="/"
        )
        assert response.status == 403, action
    assert await _flag(db, photo) is False
    assert await _audit(db, [report_id]) == []
    async with db() as session:
        warnings = await session.scalar(
            text("SELECT count(*) FROM account_warnings WHERE user_id = :id"), {"id": them.id}
        )
    assert warnings == 0
