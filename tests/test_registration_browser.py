"""Registration in a real browser: an admin makes an invite link, and a newcomer follows it,
is told to accept the rules, and signs up (docs/moderation.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import expect

from tests.browser import Browsing, log_in
from tests.test_browser import browsing  # noqa: F401  (fixture)
from tests.test_registration import (
    PASSWORD,
    Site,
    accounts_named,
    site,  # noqa: F401  (fixture)
)


async def test_a_newcomer_signs_up_with_an_invite_and_accepts_the_rules(
    browsing: Browsing,  # noqa: F811
    factory,
    site: Site,  # noqa: F811
    db,
    mailbox,
) -> None:
    await site.set(registration_mode="invite")
    await site.rules("Be kind to each other.", "Credit the photos you share.")
    admin = await factory.user(role="admin")
    admin_page = await browsing.page()
    await log_in(admin_page, admin)
    await admin_page.goto("/settings/invites")
    await admin_page.get_by_label("How many people may use it").select_option("1 person")
    await admin_page.get_by_role("button", name="Create invite link").click()
    link = await admin_page.locator(".invite-link").first.inner_text()
    await expect(admin_page.get_by_text("Uses: 0 of 1")).to_be_visible()

    page = await browsing.page(viewport={"width": 390, "height": 844})
    await page.goto(urlsplit(link).path)
    await expect(page.get_by_text("You were invited")).to_be_visible()
    rules = page.get_by_role("list", name="The rules of")
    await expect(rules.get_by_role("listitem")).to_have_text(
        ["Be kind to each other.", "Credit the photos you share."]
    )
    username = factory.unique("guest")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    # The box is marked required; without JavaScript's help the server says so too.
    accept = page.get_by_label("I have read the rules and accept them")
    await expect(accept).to_have_attribute("required", "")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_text("Tick the box to accept the rules")).to_be_visible()
    await expect(page.get_by_label("Username")).to_have_value(username)
    await expect(page.get_by_label("Password")).to_have_value("")
    assert await accounts_named(db, username) == 0

    await page.get_by_label("Password").fill(PASSWORD)
    await accept.check()
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_text(f"Welcome, {username}!")).to_be_visible()
    assert urlsplit(page.url).path == "/"
    assert await accounts_named(db, username) == 1
    await mailbox.wait_for(f"{username}@example.com")
    await admin_page.reload()
    await expect(admin_page.get_by_text("Uses: 1 of 1")).to_be_visible()
