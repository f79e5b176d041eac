"""Reporting in a real browser: a member reports a post from its card, a moderator finds
it in the queue and deletes the post, and the member reads the outcome."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import Browsing, log_in
from tests.test_browser import browsing  # noqa: F401  (fixture)


async def test_a_reported_post_goes_through_the_queue_and_the_reporter_sees_it_removed(
    browsing: Browsing,  # noqa: F811
    factory,
):
    member, author = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    post_id = await factory.post(author, "buy cheap watches here")

    reporter = await browsing.page()
    await log_in(reporter, member)
    await reporter.goto(browsing.url(f"/p/{post_id}"))
    await reporter.locator(f"#post-{post_id}").get_by_role("link", name="Report").click()
    await expect(
        reporter.get_by_role("heading", name=f"Report a post by @{author.username}")
    ).to_be_visible()
    await reporter.get_by_label("Spam").check()
    await reporter.get_by_label("Anything the moderators should know").fill("Ads, again")
    await reporter.get_by_role("button", name="Send report").click()
    await expect(reporter.get_by_text("your report is with the moderators")).to_be_visible()

    queue = await browsing.page()
    await log_in(queue, moderator)
    await queue.get_by_role("link", name="Reports").click()
    group = queue.locator(f'section[data-account="{author.username}"]')
    await expect(group.get_by_text("buy cheap watches here")).to_be_visible()
    await group.get_by_role("link", name="Review").first.click()
    await expect(queue.get_by_text("Ads, again")).to_be_visible()
    await queue.get_by_role("button", name="Delete the post").click()
    await expect(queue.get_by_text("Deleted; the reports about it are resolved.")).to_be_visible()

    await reporter.goto(browsing.url("/"))
    await reporter.get_by_role("link", name="Settings").click()
    await reporter.get_by_role("link", name="Your reports").click()
    await expect(reporter.get_by_text("Resolved: the moderators removed the post.")).to_be_visible()
    await reporter.goto(browsing.url(f"/p/{post_id}"))
    await expect(reporter.get_by_text("buy cheap watches here")).to_have_count(0)
