"""A private account in a real browser: its owner makes it private in the settings, someone
asks to follow it from the profile, the owner's badge hears of it live, the owner approves
on the follow requests page, and the follower's home timeline shows the owner's posts."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import WAIT_MS, Browsing, log_in
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)

LIVE_WAIT_MS = 5000


async def test_a_request_to_a_private_account_is_approved_and_its_posts_follow(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    owner, fan = await member(), await member()
    await owner.post("a quiet morning by the lake")

    owner_page = await browsing.page()
    await log_in(owner_page, owner.account)
    await owner_page.goto(browsing.url("/settings/profile"))
    await owner_page.get_by_label("Private account").check()
    await owner_page.get_by_role("button", name="Save profile").click()
    await expect(owner_page.locator(".notice")).to_contain_text("Your profile has been saved.")
    await expect(owner_page.get_by_label("Private account")).to_be_checked()
    await owner_page.goto(browsing.url("/"))
    badge = owner_page.locator(".notifications-link .count-badge")
    await expect(badge).to_be_hidden()
    await expect(owner_page.locator("body")).to_have_attribute("data-live", "open", timeout=WAIT_MS)

    fan_page = await browsing.page()
    await log_in(fan_page, fan.account)
    await fan_page.goto(browsing.url(f"/@{owner.username}"))
    await expect(fan_page.locator(".private-mark")).to_have_text("Private account")
    await fan_page.get_by_role("button", name="Request to follow").click()
    await expect(fan_page.locator(".notice")).to_contain_text(
        f"Your request to follow @{owner.username} was sent."
    )
    await expect(fan_page.get_by_role("button", name="Requested")).to_be_visible()
    # Nothing of the owner's in the home timeline yet.
    await fan_page.goto(browsing.url("/"))
    await expect(fan_page.get_by_text("a quiet morning by the lake")).to_have_count(0)

    # The owner's badge updates in place, without a reload.
    await expect(badge).to_have_text("1 unread", timeout=LIVE_WAIT_MS)
    await badge.click()
    await expect(owner_page.locator(".notifications")).to_contain_text("requested to follow you.")
    await owner_page.get_by_role("link", name="Follow requests").click()
    await expect(owner_page).to_have_url(browsing.url("/follow-requests"))
    await owner_page.get_by_role("button", name=f"Approve @{fan.username}").click()
    await expect(owner_page.locator(".notice")).to_contain_text(f"@{fan.username} now follows you.")
    await expect(owner_page.locator(".empty")).to_have_text("Nobody is asking to follow you.")

    await fan_page.goto(browsing.url("/"))
    await expect(fan_page.locator("article.post")).to_contain_text("a quiet morning by the lake")
    await fan_page.goto(browsing.url("/notifications"))
    await expect(fan_page.locator(".notifications")).to_contain_text(
        "accepted your follow request."
    )
    await fan_page.goto(browsing.url(f"/@{owner.username}"))
    await expect(fan_page.get_by_role("button", name="Unfollow")).to_be_visible()
