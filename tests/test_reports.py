"""Reports, the moderation queue and the audit log (docs/moderation.md): reporting a post,
a comment or an account from its page, both APIs, what a report keeps, who may see the
queue, every decision audited and revisable, and the reason a suspended person is shown."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import text

from service.domain import accounts, blocks, reports
from tests.api import Api
from tests.oauth import bearer, user_token
from tests.support import submit
from tests.test_cli import run_command, service_env
from tests.test_uploads import photo_post


async def _report(client, path: str, category: str = "spam", comment: str = ""):
    """Send the report form of ``path`` (its page's own CSRF token)."""
    return await submit(client, path, {"category": category, "comment": comment}, page=path)


async def _reports_of(db, reporter_id: int) -> list[dict]:
    async with db() as session:
        rows = await session.execute(
            text("SELECT * FROM reports WHERE reporter_id = :id ORDER BY id"), {"id": reporter_id}
        )
        return [dict(row._mapping) for row in rows]


async def _audit(db, report_ids: list[int]) -> list[tuple]:
    async with db() as session:
        rows = await session.execute(
            text(
                "SELECT action, moderator_username, reason FROM moderation_actions"
                " WHERE report_id = ANY(:ids) ORDER BY id"
            ),
            {"ids": report_ids},
        )
        return [tuple(row) for row in rows]


async def _as(make_client, client, login, account):
    other = await make_client(client)
    await login(other, account)
    return other


async def test_each_kind_is_reported_from_its_menu_and_listed_as_open(client, factory, login, db):
    me, them = await factory.user(), await factory.user()
    post_id = await factory.post(them, "a post to report")
    comment_id = await factory.comment(them, post_id, "a comment to report")
    await login(client, me)
    post_page = await (await client.get(f"/p/{post_id}")).text()
    assert f'href="/p/{post_id}/report"' in post_page
    assert f'href="/comments/{comment_id}/report"' in post_page
    profile = await (await client.get(f"/@{them.username}")).text()
    assert f'href="/@{them.username}/report"' in profile and f"Report @{them.username}" in profile
    form = await client.get(f"/p/{post_id}/report")
    assert form.status == 200 and "a post to report" in await form.text()

    for path, back in (
        (f"/p/{post_id}/report", f"/p/{post_id}"),
        (f"/comments/{comment_id}/report", f"/p/{post_id}#comment-{comment_id}"),
        (f"/@{them.username}/report", f"/@{them.username}"),
    ):
        response = await _report(client, path, "harassment", "  mean words  ")
        assert response.status == 303 and response.headers["Location"] == back, path
    thanked = await (await client.get(f"/@{them.username}")).text()
    assert "your report is with the moderators" in thanked
    made = await _reports_of(db, me.id)
    assert [(r["kind"], r["username"], r["comment"]) for r in made] == [
        ("post", them.username, "mean words"),
        ("comment", them.username, "mean words"),
        ("account", them.username, "mean words"),
    ]
    mine = await (await client.get("/settings/reports")).text()
    assert mine.count("Open: the moderators have not decided yet.") == 3
    # Nobody offers to report what they wrote themselves.
    await factory.comment(me, post_id, "my own words")
    own = await (await client.get(f"/p/{await factory.post(me)}")).text()
    assert "/report" not in own


async def test_bad_reports_are_refused_and_change_nothing(client, factory, login, db):
    me, them, blocker, gone = [await factory.user() for _ in range(4)]
    their_post, my_post = await factory.post(them), await factory.post(me)
    blockers_post = await factory.post(blocker)
    async with db.begin() as session:
        await blocks.block(session, blocker.id, me.id)
        await accounts.suspend(session, gone.id, "gone for now")
    await login(client, me)
    too_long = "x" * 1001
    refused = [
        (f"/p/{my_post}/report", "spam", "", 422),
        (f"/@{me.username}/report", "spam", "", 422),
        (f"/p/{their_post}/report", "not-a-category", "", 422),
        (f"/p/{their_post}/report", "spam", too_long, 422),
        (f"/p/{their_post}/report", "spam", "bell \x07", 422),
    ]
    for path, category, comment, status in refused:
        response = await submit(
            client, path, {"category": category, "comment": comment}, page=f"/p/{their_post}"
        )
        assert response.status == status, (path, category, await response.text())
    shown = await submit(client, f"/p/{their_post}/report", {"category": "nope"}, page="/")
    assert "Choose what is wrong" in await shown.text()
    # What the reporter cannot see is not there to report.
    for path in (
        f"/p/{blockers_post}/report",
        f"/@{blocker.username}/report",
        f"/@{gone.username}/report",
        "/p/999999999999/report",
        "/comments/999999999999/report",
    ):
        assert (await client.get(path)).status == 404, path
        assert (await _report(client, path)).status in {404, 403}, path
    api = Api(client)
    for body, status in (
        ({"post_id": their_post, "username": them.username, "category": "spam"}, 422),
        ({"category": "spam"}, 422),
        ({"post_id": "12", "category": "spam"}, 422),
        ({"post_id": blockers_post, "category": "spam"}, 404),
        ({"username": me.username, "category": "spam"}, 422),
        ({"post_id": their_post, "category": "nope"}, 422),
    ):
        await api.call("POST", "/api/snapline/v1/reports", body, expect=status)
    assert await _reports_of(db, me.id) == []
    anonymous = await client.post("/api/snapline/v1/reports", json={"post_id": their_post})
    assert anonymous.status in {401, 403}


async def test_the_snapline_api_reports_and_answers_the_report(client, factory, login):
    me, them = await factory.user(), await factory.user()
    post_id = await factory.post(them, "api words")
    await login(client, me)
    api = Api(client)
    made = await (
        await api.call(
            "POST",
            "/api/snapline/v1/reports",
            {"post_id": post_id, "category": "illegal", "comment": "see this"},
            expect=201,
        )
    ).json()
    assert made["kind"] == "post" and made["username"] == them.username
    assert (made["category"], made["comment"], made["status"]) == ("illegal", "see this", "open")
    account = await (
        await api.call(
            "POST",
            "/api/snapline/v1/reports",
            {"username": them.username, "category": "other"},
            expect=201,
        )
    ).json()
    assert account["kind"] == "account" and account["outcome"] is None


async def test_a_report_keeps_its_evidence_when_the_post_is_deleted(
    client, make_client, factory, login, db, settings, tmp_path
):
    me, them = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    photo = await photo_post(db, them.id, tmp_path, "evidence words", ("",))
    text_post = await factory.post(them, "deleted by its author")
    await login(client, me)
    for post_id in (photo, text_post):
        assert (await _report(client, f"/p/{post_id}/report", "sensitive")).status == 303
    photo_report, text_report = (r["id"] for r in await _reports_of(db, me.id))
    # Its author deletes one; a moderator deletes the other from its report.
    author = await _as(make_client, client, login, them)
    assert (await submit(author, f"/p/{text_post}/delete", page=f"/p/{text_post}")).status == 303
    mod = await _as(make_client, client, login, moderator)
    page = f"/admin/reports/{photo_report}"
    deleted = await submit(mod, f"{page}/delete", page=page)
    assert deleted.status == 303
    assert (await client.get(f"/p/{photo}")).status == 404
    shown = await (await mod.get(page)).text()
    assert "evidence words" in shown and "deleted" in shown
    [key] = re.findall(r'<img src="/media/(photos/[0-9a-f]{32}/display\.\w+)"', shown)
    # The photo is kept: no job deletes it, and it is still served.
    async with db() as session:
        jobs = await session.scalar(
            text("SELECT count(*) FROM media_jobs WHERE kind = 'delete' AND key_prefix = :p"),
            {"p": key.rsplit("/", 1)[0]},
        )
    assert jobs == 0
    assert (await mod.get(f"/media/{key}")).status == 200
    text_page = await (await mod.get(f"/admin/reports/{text_report}")).text()
    assert "deleted by its author" in text_page and "deleted" in text_page


async def test_only_moderators_and_admins_reach_the_queue(client, make_client, factory, login, db):
    member, them = await factory.user(), await factory.user()
    moderator, admin = await factory.user(role="moderator"), await factory.user(role="admin")
    async with db.begin() as session:
        report_id = await reports.file_report(
            session, member.id, "post", await factory.post(them), "spam"
        )
    assert (await client.get("/admin/reports", allow_redirects=False)).status in {302, 303}
    await login(client, member)
    for path in ("/admin/reports", f"/admin/reports/{report_id}", "/admin/audit"):
        assert (await client.get(path)).status == 403, path
    page = "/settings/reports"
    refused = await submit(client, f"/admin/reports/{report_id}/dismiss", page=page)
    assert refused.status == 403
    assert "Reports" not in await (await client.get("/")).text()
    mod = await _as(make_client, client, login, moderator)
    for path in ("/admin/reports", f"/admin/reports/{report_id}"):
        assert (await mod.get(path)).status == 200, path
    assert (await mod.get("/admin/audit")).status == 403
    assert (await mod.get("/admin/reports/0")).status == 404
    assert (await (await _as(make_client, client, login, admin)).get("/admin/audit")).status == 200
    assert await _audit(db, [report_id]) == []


def _open_badge(html: str) -> int:
    found = re.search(r'class="count-badge">(\d+)<span class="visually-hidden"> open', html)
    return int(found.group(1)) if found else 0


async def test_every_decision_is_audited_revisable_and_told_to_the_reporter(
    client, make_client, factory, login, db
):
    me, them = await factory.user(), await factory.user()
    moderator, admin = await factory.user(role="moderator"), await factory.user(role="admin")
    post_id = await factory.post(them, "reported words")
    comment_id = await factory.comment(them, await factory.post(me), "a reported comment")
    mod = await _as(make_client, client, login, moderator)
    open_before = _open_badge(await (await mod.get("/")).text())
    await login(client, me)
    await _report(client, f"/p/{post_id}/report")
    await _report(client, f"/comments/{comment_id}/report", "harassment")
    post_report, comment_report = (r["id"] for r in await _reports_of(db, me.id))
    queue = await (await mod.get("/admin/reports")).text()
    assert _open_badge(queue) == open_before + 2
    group = re.search(rf'data-account="{them.username}">.*?</section>', queue, re.S)
    assert group and "2 open reports" in group.group(0) and "reported words" in group.group(0)

    async def decide(report_id: int, action: str, reason: str = "") -> int:
        page = f"/admin/reports/{report_id}"
        response = await submit(mod, f"{page}/{action}", {"reason": reason}, page=page)
        return response.status

    async def outcomes() -> list[str]:
        mine = await (await client.get("/settings/reports")).text()
        return re.findall(r'<p class="report-outcome">([^<]*)</p>', mine)

    assert await decide(post_report, "dismiss") == 303
    assert "Reviewed: the moderators took no action." in await outcomes()
    assert await decide(post_report, "dismiss") == 422  # nothing would change
    assert await decide(post_report, "reopen") == 303
    assert await decide(post_report, "delete") == 303
    assert (await client.get(f"/p/{post_id}")).status == 404
    assert "Resolved: the moderators removed the post." in await outcomes()
    assert await decide(comment_report, "suspend") == 422  # a suspension needs its reason
    assert await decide(comment_report, "suspend", "Harassing people") == 303
    assert f"Resolved: the moderators suspended @{them.username}." in await outcomes()
    assert await decide(comment_report, "unsuspend") == 303
    assert await decide(comment_report, "unsuspend") == 422
    assert await decide(comment_report, "reopen") == 303
    assert await decide(comment_report, "dismiss") == 303
    assert await _audit(db, [post_report, comment_report]) == [
        ("dismiss", moderator.username, ""),
        ("reopen", moderator.username, ""),
        ("delete_content", moderator.username, ""),
        ("suspend", moderator.username, "Harassing people"),
        ("unsuspend", moderator.username, ""),
        ("reopen", moderator.username, ""),
        ("dismiss", moderator.username, ""),
    ]
    assert _open_badge(await (await mod.get("/")).text()) == open_before
    history = await (await mod.get(f"/admin/reports/{comment_report}")).text()
    assert "Harassing people" in history and f"by @{moderator.username}" in history
    log = await (await (await _as(make_client, client, login, admin)).get("/admin/audit")).text()
    for report_id in (post_report, comment_report):
        assert f'href="/admin/reports/{report_id}"' in log


async def test_a_suspended_person_is_told_why_at_login(client, make_client, factory, login, db):
    me, them = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    async with db.begin() as session:
        report_id = await reports.file_report(session, me.id, "account", them.id, "spam")
    mod = await _as(make_client, client, login, moderator)
    page = f"/admin/reports/{report_id}"
    reason = "Posting the same link <again> & again"
    response = await submit(mod, f"{page}/suspend", {"reason": reason}, page=page)
    assert response.status == 303
    refused = await submit(
        client, "/login", {"login": them.username, "password": them.password}, page="/login"
    )
    body = await refused.text()
    assert refused.status == 403 and "This account is suspended" in body
    assert "Posting the same link &lt;again&gt; &amp; again" in body


async def test_the_command_line_suspends_with_a_reason_and_audits_it(
    client, factory, db, database_url
):
    them = await factory.user()
    env = service_env(database_url)
    reason = "Spam, from the command line"

    async def admin(*args: str):
        return await asyncio.to_thread(run_command, "admin", "users", *args, env=env)

    done = await admin("suspend", them.username, "--reason", reason)
    assert done.returncode == 0 and "is suspended" in done.stdout, done.stderr
    refused = await submit(
        client, "/login", {"login": them.username, "password": them.password}, page="/login"
    )
    assert refused.status == 403 and reason in await refused.text()
    bad = await admin("suspend", them.username, "--reason", "x" * 1001)
    assert bad.returncode == 2 and "at most 1000" in bad.stderr
    assert (await admin("unsuspend", them.username)).returncode == 0
    async with db() as session:
        rows = await session.execute(
            text(
                "SELECT action, moderator_id, moderator_username, reason FROM moderation_actions"
                " WHERE account_id = :id ORDER BY id"
            ),
            {"id": them.id},
        )
        logged = [tuple(row) for row in rows]
    assert logged == [("suspend", None, None, reason), ("unsuspend", None, None, "")]


async def test_mastodon_apps_report_an_account_and_its_statuses(client, factory, login, db):
    me, them, other = await factory.user(), await factory.user(), await factory.user()
    post_id = await factory.post(them, "mastodon-reported")
    others_post = await factory.post(other)
    async with db() as session:
        status_id, others_status = [
            await session.scalar(text("SELECT status_id FROM posts WHERE id = :id"), {"id": p})
            for p in (post_id, others_post)
        ]
    await login(client, me)
    token = await user_token(client, "read write:reports")
    answer = await client.post(
        "/api/v1/reports",
        json={
            "account_id": str(them.id),
            "status_ids": [str(status_id)],
            "comment": "spam again",
            "category": "spam",
        },
        headers=bearer(token),
    )
    assert answer.status == 200, await answer.text()
    report = await answer.json()
    assert report["target_account"]["id"] == str(them.id)
    assert (report["category"], report["comment"], report["action_taken"]) == (
        "spam", "spam again", False,
    )  # fmt: skip
    assert report["status_ids"] == [str(status_id)] and isinstance(report["id"], str)
    form = await client.post(
        "/api/v1/reports",
        data={"account_id": str(them.id), "category": "legal"},
        headers=bearer(token),
    )
    assert form.status == 200 and (await form.json())["category"] == "legal"
    made = await _reports_of(db, me.id)
    assert [(r["kind"], r["post_id"], r["category"]) for r in made] == [
        ("post", post_id, "spam"),
        ("account", None, "illegal"),
    ]
    for body, status in (
        ({"account_id": str(them.id), "status_ids": [str(others_status)]}, 422),
        ({"account_id": str(me.id)}, 422),
        ({"account_id": "999999999999"}, 404),
        ({"account_id": str(them.id), "category": "nonsense"}, 422),
        ({}, 422),
    ):
        refused = await client.post("/api/v1/reports", json=body, headers=bearer(token))
        assert refused.status == status, (body, await refused.text())
        assert "error" in await refused.json()
    reader = await user_token(client, "read")
    scoped = await client.post(
        "/api/v1/reports", json={"account_id": str(them.id)}, headers=bearer(reader)
    )
    assert scoped.status == 403
    assert len(await _reports_of(db, me.id)) == 2
