"""Registration control (docs/moderation.md): each registration mode as a visitor meets it,
the approval queue and its mail, invites, the rules a newcomer accepts, /about, the admin's
settings page, and what the Mastodon API says of all of it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from service.domain import registration
from service.models import DEFAULT_INSTANCE_DESCRIPTION, DEFAULT_INSTANCE_NAME, Invite, User
from tests.support import message_link, submit

PASSWORD = "plum-kettle-41"
SETTINGS = "registration_mode, invites_by_users, name, description, contact_email"
# What the instance is before an admin saves its settings.
DEFAULTS = ("open", False, DEFAULT_INSTANCE_NAME, DEFAULT_INSTANCE_DESCRIPTION, "")
INVITE_LINK = re.compile(r"http://snapline\.test(/invite/[A-Za-z0-9_-]+)")


@dataclasses.dataclass
class Site:
    """The instance's settings, changed for one test (and put back after it)."""

    db: object

    async def set(self, **changes: object) -> None:
        async with self.db.begin() as session:
            row = (
                await session.execute(text(f"SELECT {SETTINGS} FROM instance_settings"))
            ).one_or_none()
            settings = registration.SiteSettings(*(row or DEFAULTS))
            await registration.save_settings(session, dataclasses.replace(settings, **changes))

    async def rules(self, *texts: str) -> list[int]:
        async with self.db.begin() as session:
            return [await registration.add_rule(session, each) for each in texts]


@pytest.fixture
async def site(db) -> AsyncIterator[Site]:
    """The instance as the test found it is put back afterwards: the rest of the suite signs
    up on an open instance without rules."""
    async with db() as session:
        saved = (
            await session.execute(text(f"SELECT {SETTINGS} FROM instance_settings"))
        ).one_or_none()
        kept = set(await session.scalars(text("SELECT id FROM instance_rules")))
    yield Site(db)
    async with db.begin() as session:
        if saved is None:
            await session.execute(text("DELETE FROM instance_settings"))
        else:
            await registration.save_settings(session, registration.SiteSettings(*saved))
        await session.execute(
            text("DELETE FROM instance_rules WHERE NOT (id = ANY(:kept))"), {"kept": list(kept)}
        )


def newcomer(factory, **extra: str) -> dict[str, str]:
    username = factory.unique("new")
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        **extra,
    }


async def accounts_named(db, username: str) -> int:
    async with db() as session:
        return await session.scalar(
            select(func.count()).where(func.lower(User.username) == username.lower())
        )


async def log_in_answer(client, form: dict[str, str]):
    return await submit(
        client, "/login", {"login": form["username"], "password": PASSWORD}, page="/login"
    )


async def test_admin_sets_the_instance_and_its_rules_and_everyone_sees_them_at_once(
    client, make_client, factory, login, site
):
    admin = await factory.user(role="admin")
    await login(client, admin)
    page = await client.get("/admin/settings")
    assert page.status == 200
    assert 'value="open" checked' in await page.text()

    name = factory.unique("Harbour ")
    saved = await submit(
        client,
        "/admin/settings",
        {
            "registration_mode": "approval",
            "name": name,
            "description": "Boats, nets and the light on the water.",
            "contact_email": "Crew@Example.com",
        },
        page="/admin/settings",
    )
    assert saved.status == 303
    for rule in ("Be kind.", "No spam.", "Credit photos"):
        added = await submit(client, "/admin/rules", {"text": rule}, page="/admin/settings")
        assert added.status == 303
    ids = [
        int(i)
        for i in re.findall(
            r'data-rule="(\d+)"', await (await client.get("/admin/settings")).text()
        )
    ]
    _, spam, credit = ids[-3:]
    await submit(
        client, f"/admin/rules/{credit}", {"text": "Credit others' photos."}, page="/admin/settings"
    )
    await submit(client, f"/admin/rules/{credit}/move", {"direction": "up"}, page="/admin/settings")
    await submit(client, f"/admin/rules/{spam}/delete", page="/admin/settings")
    await submit(client, f"/admin/rules/{credit}/move", {"direction": "up"}, page="/admin/settings")

    # A visitor in another browser sees all of it on the next request.
    visitor = await make_client(client)
    about = await (await visitor.get("/about")).text()
    assert name in about and "Boats, nets and the light on the water." in about
    assert "mailto:Crew@example.com" in about
    assert about.index("Credit others&#39; photos.") < about.index("Be kind.")
    assert "No spam." not in about
    assert f'href="/@{admin.username}"' in about
    signup = await (await visitor.get("/signup")).text()
    assert 'name="reason"' in signup and 'name="accept_rules"' in signup
    assert "Credit others&#39; photos." in signup
    instance = await (await visitor.get("/api/v2/instance")).json()
    assert instance["title"] == name
    assert instance["registrations"]["approval_required"] is True
    assert instance["contact"]["email"] == "Crew@example.com"
    assert [rule["text"] for rule in instance["rules"]][-2:] == [
        "Credit others' photos.",
        "Be kind.",
    ]


async def test_bad_settings_are_refused_with_the_form_kept(client, factory, login, site):
    admin = await factory.user(role="admin")
    await login(client, admin)
    refused = await submit(
        client,
        "/admin/settings",
        {
            "registration_mode": "anarchy",
            "name": "",
            "description": "kept words",
            "contact_email": "nope",
        },
        page="/admin/settings",
    )
    body = await refused.text()
    assert refused.status == 422
    assert "Choose one of the ways to sign up." in body
    assert "Give the server a name." in body
    assert "Enter a valid email address." in body
    assert "kept words" in body
    empty_rule = await submit(client, "/admin/rules", {"text": "  "}, page="/admin/settings")
    assert empty_rule.status == 422
    assert "Write the rule" in await empty_rule.text()
    instance = await (await client.get("/api/v1/instance")).json()
    assert instance["registrations"] is True and instance["title"] != ""


async def test_people_who_are_not_admins_are_refused_every_admin_page(
    client, make_client, factory, login, site, db
):
    [rule] = await site.rules("Stay on topic.")
    user = await factory.user()
    await login(client, user)
    for path in ("/admin/settings", "/admin/applications"):
        assert (await client.get(path)).status == 403, path
    for path, form in [
        ("/admin/settings", {"registration_mode": "closed", "name": "Mine"}),
        ("/admin/rules", {"text": "Obey me."}),
        (f"/admin/rules/{rule}", {"text": "Obey me."}),
        (f"/admin/rules/{rule}/delete", {}),
        (f"/admin/applications/{user.username}/approve", {}),
    ]:
        response = await submit(client, path, form)
        assert response.status == 403, path
        assert "Only admins" in await response.text()
    anonymous = await make_client(client)
    redirected = await anonymous.get("/admin/settings", allow_redirects=False)
    assert redirected.status == 303 and redirected.headers["Location"].startswith("/login")
    # Without its CSRF token an admin's own form changes nothing.
    admin_browser = await make_client(client)
    await login(admin_browser, await factory.user(role="admin"))
    forged = await admin_browser.post(
        "/admin/settings", data={"registration_mode": "closed", "name": "X"}
    )
    assert forged.status == 403
    rules = await (await anonymous.get("/api/v1/instance/rules")).json()
    assert {"id": str(rule), "text": "Stay on topic.", "hint": ""} in rules
    instance = await (await anonymous.get("/api/v2/instance")).json()
    assert instance["registrations"]["enabled"] is True


async def test_rules_must_be_accepted_and_the_form_keeps_what_was_typed(
    client, factory, db, site, mailbox
):
    await site.rules("Be kind.")
    form = newcomer(factory)
    refused = await submit(client, "/signup", form, page="/signup")
    body = await refused.text()
    assert refused.status == 422
    assert "Tick the box to accept the rules" in body
    assert f'value="{form["username"]}"' in body and f'value="{form["email"]}"' in body
    assert PASSWORD not in body
    assert await accounts_named(db, form["username"]) == 0
    # A forged value is no tick either.
    forged = await submit(client, "/signup", {**form, "accept_rules": "on"}, page="/signup")
    assert forged.status == 422
    accepted = await submit(client, "/signup", {**form, "accept_rules": "yes"}, page="/signup")
    assert accepted.status == 303 and accepted.headers["Location"] == "/"
    assert message_link((await mailbox.wait_for(form["email"]))[0]).startswith("/confirm/")


async def test_approval_mode_queues_the_applicant_until_an_admin_decides(
    client, make_client, factory, login, db, site, mailbox
):
    await site.set(registration_mode="approval", name="Quay")
    page = await (await client.get("/signup")).text()
    assert "reviews each new account" in page and 'name="reason"' in page

    form = newcomer(factory)
    no_reason = await submit(client, "/signup", form, page="/signup")
    assert no_reason.status == 422
    assert "Tell the admins why you want to join." in await no_reason.text()
    applied = await submit(
        client, "/signup", {**form, "reason": "I photograph lighthouses."}, page="/signup"
    )
    assert applied.status == 303 and applied.headers["Location"] == "/signup/pending"
    waiting = await (await client.get("/signup/pending")).text()
    assert "awaits approval" in waiting
    # The address is confirmed as for anyone, but the account cannot log in yet...
    [welcome] = await mailbox.wait_for(form["email"])
    confirmed = await client.get(message_link(welcome), allow_redirects=False)
    assert confirmed.headers["Location"] == "/signup/pending"
    refused = await log_in_answer(client, form)
    assert refused.status == 403
    assert "waiting for an admin to approve it" in await refused.text()
    # ...and nobody sees it meanwhile.
    assert (await client.get(f"/@{form['username']}")).status == 404
    lookup = await client.get(f"/api/v1/accounts/lookup?acct={form['username']}")
    assert lookup.status == 404

    admin_browser = await make_client(client)
    await login(admin_browser, await factory.user(role="admin"))
    queue = await (await admin_browser.get("/admin/applications")).text()
    assert f"@{form['username']}" in queue and "I photograph lighthouses." in queue
    approved = await submit(
        admin_browser,
        f"/admin/applications/{form['username']}/approve",
        page="/admin/applications",
    )
    assert approved.status == 303
    [_, news] = await mailbox.wait_for(form["email"], count=2)
    assert "approved" in news["Subject"] and "Quay" in news["Subject"]
    assert message_link(news) == "/login"
    assert (await log_in_answer(client, form)).status == 303
    assert (await client.get(f"/@{form['username']}")).status == 200
    again = await submit(
        admin_browser,
        f"/admin/applications/{form['username']}/approve",
        page="/admin/applications",
    )
    assert again.status == 404


async def _earlier_applications_told_long_ago(db) -> None:
    """Admins hear of sign-ups once an hour: the queue as if its last news were older."""
    async with db.begin() as session:
        await session.execute(
            text("UPDATE account_applications SET created_at = now() - interval '2 hours'")
        )


async def test_admins_are_mailed_of_sign_ups_waiting_at_most_once_an_hour(
    client, make_client, factory, db, site, mailbox
):
    await site.set(registration_mode="approval", name="Quay")
    admin = await factory.user(role="admin")
    unconfirmed_admin = await factory.user(role="admin", confirmed=False)
    await _earlier_applications_told_long_ago(db)
    first = newcomer(factory, reason="I photograph <b>lighthouses</b>.")
    assert (await submit(client, "/signup", first, page="/signup")).status == 303
    [news] = await mailbox.wait_for(admin.email)
    assert news["Subject"] == "A sign-up waits for your approval on Quay" or (
        news["Subject"].endswith("sign-ups wait for your approval on Quay")
    )
    text_body = news.get_body(("plain",)).get_content()
    assert f"@{first['username']} asks to join Quay" in text_body
    assert "I photograph <b>lighthouses</b>." in text_body
    assert message_link(news) == "/admin/applications"
    html_body = news.get_body(("html",)).get_content()
    assert "&lt;b&gt;lighthouses&lt;/b&gt;" in html_body and "<b>" not in html_body

    # A second within the hour: no new mail to the admins (its own welcome arrives).
    second = newcomer(factory, reason="Me too.")
    other = await make_client(client)
    assert (await submit(other, "/signup", second, page="/signup")).status == 303
    await mailbox.wait_for(second["email"])
    assert len(mailbox.to(admin.email)) == 1
    assert mailbox.to(unconfirmed_admin.email) == []

    # An hour on, the next one is news again, with how many wait.
    await _earlier_applications_told_long_ago(db)
    third = newcomer(factory, reason="Third.")
    assert (await submit(await make_client(client), "/signup", third, page="/signup")).status == 303
    [_, later] = await mailbox.wait_for(admin.email, count=2)
    waiting = int(re.match(r"(\d+) sign-ups wait", later["Subject"]).group(1))
    assert waiting >= 3


async def test_a_rejected_applicant_is_told_and_the_account_is_gone(
    client, make_client, factory, login, db, site, mailbox
):
    await site.set(registration_mode="approval")
    reason = factory.unique("Let me in, ")
    form = newcomer(factory, reason=reason)
    assert (await submit(client, "/signup", form, page="/signup")).status == 303
    admin_browser = await make_client(client)
    await login(admin_browser, await factory.user(role="admin"))
    rejected = await submit(
        admin_browser, f"/admin/applications/{form['username']}/reject", page="/admin/applications"
    )
    assert rejected.status == 303
    queue = await (await admin_browser.get(rejected.headers["Location"])).text()
    assert "was rejected" in queue and reason not in queue
    [_, news] = await mailbox.wait_for(form["email"], count=2)
    assert "did not approve" in news.get_body(("plain",)).get_content()
    assert await accounts_named(db, form["username"]) == 0
    assert (await log_in_answer(client, form)).status == 422


async def test_invite_only_mode_needs_a_usable_invite(
    client, make_client, factory, login, db, site
):
    await site.set(registration_mode="invite")
    visitor = await make_client(client)
    page = await (await visitor.get("/signup")).text()
    assert "Sign-ups here are by invitation" in page and 'name="username"' not in page
    uninvited = newcomer(factory)
    refused = await submit(visitor, "/signup", uninvited, page="/signup")
    assert refused.status == 403
    assert "by invitation" in await refused.text()
    forged = await submit(
        visitor, "/signup", {**uninvited, "invite": "no-such-invite"}, page="/signup"
    )
    assert forged.status == 403
    assert "can no longer be used" in await forged.text()
    assert await accounts_named(db, uninvited["username"]) == 0

    admin = await factory.user(role="admin")
    await login(client, admin)
    made = await submit(
        client,
        "/settings/invites",
        {"max_uses": "1", "expires_in": "86400"},
        page="/settings/invites",
    )
    assert made.status == 303
    listing = await (await client.get("/settings/invites")).text()
    [link] = INVITE_LINK.findall(listing)
    assert "Uses: 0 of 1" in listing

    invited_page = await (await visitor.get(link)).text()
    assert "You were invited" in invited_page and 'name="invite"' in invited_page
    code = link.rsplit("/", 1)[1]
    invited = newcomer(factory, invite=code)
    joined = await submit(visitor, "/signup", invited, page=link)
    assert joined.status == 303 and joined.headers["Location"] == "/"
    assert await accounts_named(db, invited["username"]) == 1
    assert "Uses: 1 of 1" in await (await client.get("/settings/invites")).text()

    # Used up: the link and a sign-up with it are refused, and nothing is made.
    used_up = await visitor.get(link)
    assert used_up.status == 404 and "can no longer be used" in await used_up.text()
    late = newcomer(factory, invite=code)
    assert (await submit(visitor, "/signup", late, page="/signup")).status == 403
    assert await accounts_named(db, late["username"]) == 0


async def test_an_expired_or_revoked_invite_is_refused(
    client, make_client, factory, login, db, site
):
    await site.set(registration_mode="invite")
    admin = await factory.user(role="admin")
    await login(client, admin)
    for _ in range(2):
        await submit(
            client,
            "/settings/invites",
            {"max_uses": "", "expires_in": ""},
            page="/settings/invites",
        )
    async with db() as session:
        expiring, revoked = await session.scalars(
            select(Invite).where(Invite.creator_id == admin.id).order_by(Invite.id)
        )
    async with db.begin() as session:
        await session.execute(
            text("UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": expiring.id},
        )
    revoke = await submit(
        client, f"/settings/invites/{revoked.id}/revoke", page="/settings/invites"
    )
    assert revoke.status == 303
    listing = await (await client.get("/settings/invites")).text()
    assert "no longer works" in listing and revoked.code not in listing

    visitor = await make_client(client)
    for invite in (expiring, revoked):
        assert (await visitor.get(f"/invite/{invite.code}")).status == 404
        form = newcomer(factory, invite=invite.code)
        refused = await submit(visitor, "/signup", form, page="/signup")
        assert refused.status == 403
        assert "can no longer be used" in await refused.text()
        assert await accounts_named(db, form["username"]) == 0
    # Another's invite is not theirs to revoke.
    other = await make_client(client)
    await login(other, await factory.user(role="admin"))
    foreign = await submit(
        other, f"/settings/invites/{expiring.id}/revoke", page="/settings/invites"
    )
    assert foreign.status == 404


async def test_people_invite_only_while_the_instance_lets_them(
    client, make_client, factory, login, db, site
):
    await site.set(registration_mode="invite", invites_by_users=False)
    user = await factory.user()
    await login(client, user)
    page = await (await client.get("/settings/invites")).text()
    assert "Only admins can invite people" in page
    refused = await submit(
        client,
        "/settings/invites",
        {"max_uses": "5", "expires_in": "3600"},
        page="/settings/invites",
    )
    assert refused.status == 403
    await site.set(invites_by_users=True)
    made = await submit(
        client,
        "/settings/invites",
        {"max_uses": "5", "expires_in": "3600"},
        page="/settings/invites",
    )
    assert made.status == 303
    [link] = INVITE_LINK.findall(await (await client.get("/settings/invites")).text())
    visitor = await make_client(client)
    assert (await visitor.get(link)).status == 200
    # Taking the right away takes their links' power with it.
    await site.set(invites_by_users=False)
    assert (await visitor.get(link)).status == 404


async def test_an_invite_skips_approval(client, make_client, factory, login, db, site):
    await site.set(registration_mode="approval")
    await login(client, await factory.user(role="admin"))
    await submit(
        client,
        "/settings/invites",
        {"max_uses": "1", "expires_in": "3600"},
        page="/settings/invites",
    )
    [link] = INVITE_LINK.findall(await (await client.get("/settings/invites")).text())
    visitor = await make_client(client)
    page = await (await visitor.get(link)).text()
    assert 'name="reason"' not in page
    form = newcomer(factory, invite=link.rsplit("/", 1)[1])
    joined = await submit(visitor, "/signup", form, page=link)
    assert joined.status == 303 and joined.headers["Location"] == "/"
    assert (await log_in_answer(visitor, form)).status == 303


async def test_closed_mode_refuses_every_sign_up(client, make_client, factory, login, db, site):
    admin = await factory.user(role="admin")
    await login(client, admin)
    await submit(
        client, "/settings/invites", {"max_uses": "", "expires_in": ""}, page="/settings/invites"
    )
    [link] = INVITE_LINK.findall(await (await client.get("/settings/invites")).text())
    await site.set(registration_mode="closed")
    visitor = await make_client(client)
    page = await visitor.get("/signup")
    body = await page.text()
    assert page.status == 200
    assert "Sign-ups are closed" in body and 'name="username"' not in body
    for form in (newcomer(factory), newcomer(factory, invite=link.rsplit("/", 1)[1])):
        refused = await submit(visitor, "/signup", form, page="/signup")
        assert refused.status == 403
        assert "not taking new accounts" in await refused.text()
        assert await accounts_named(db, form["username"]) == 0
    assert "not taking new accounts" in await (await visitor.get(link)).text()


@pytest.mark.parametrize(
    ("mode", "enabled", "approval"),
    [
        ("open", True, False),
        ("approval", True, True),
        ("invite", False, False),
        ("closed", False, False),
    ],
)
async def test_the_mastodon_api_tells_apps_how_to_sign_up(client, site, mode, enabled, approval):
    await site.set(registration_mode=mode, invites_by_users=True)
    [rule] = await site.rules("No hate.")
    v1 = await (await client.get("/api/v1/instance")).json()
    v2 = await (await client.get("/api/v2/instance")).json()
    assert (v1["registrations"], v1["approval_required"]) == (enabled, approval)
    assert v1["invites_enabled"] is (mode != "closed")
    assert v2["registrations"]["enabled"] is enabled
    assert v2["registrations"]["approval_required"] is approval
    expected = {"id": str(rule), "text": "No hate.", "hint": ""}
    assert v2["rules"][-1] == v1["rules"][-1] == expected
    listed = await client.get("/api/v1/instance/rules")
    assert listed.status == 200 and (await listed.json())[-1] == expected
    nodeinfo = await (await client.get("/nodeinfo/2.0")).json()
    assert nodeinfo["openRegistrations"] is enabled


async def test_an_application_with_a_taken_address_answers_as_any_other(
    client, factory, db, site, mailbox
):
    await site.set(registration_mode="approval")
    existing = await factory.user()
    form = newcomer(factory, reason="Hello.")
    response = await submit(client, "/signup", {**form, "email": existing.email}, page="/signup")
    assert response.status == 303 and response.headers["Location"] == "/signup/pending"
    assert await accounts_named(db, form["username"]) == 0
    [notice] = await mailbox.wait_for(existing.email)
    assert "sign up" in notice["Subject"]
