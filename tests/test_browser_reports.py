"""Reporting in a real browser: a member reports a post from its card, a moderator finds
it in the queue and deletes the post, and the member reads the outcome; a moderator marks a
reported photo sensitive, and a viewer opens its cover to see it."""

from __future__ import annotations

from playwright.async_api import expect

from service.domain import reports
from tests.browser import Browsing, log_in
from tests.test_browser import browsing  # noqa: F401  (fixture)
from tests.test_uploads import photo_post


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
    card = reporter.locator(f"#post-{post_id}")
    await card.locator("details.post-menu summary").click()
    await card.get_by_role("link", name="Report").click()
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


async def test_a_moderator_marks_reported_photos_sensitive_and_a_viewer_opens_the_cover(
    browsing: Browsing,  # noqa: F811
    factory,
    db,
    tmp_path,
):
    member, author = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    post_id = await photo_post(db, author.id, tmp_path, "at the morgue", ("an x-ray",))
    async with db.begin() as session:
        report_id = await reports.file_report(session, member.id, "post", post_id, "sensitive")

    queue = await browsing.page()
    await log_in(queue, moderator)
    await queue.goto(browsing.url(f"/admin/reports/{report_id}"))
    await queue.get_by_role("button", name="Mark the photos sensitive").click()
    await expect(queue.get_by_text("Photos marked sensitive;")).to_be_visible()

    viewer = await browsing.page()
    await log_in(viewer, member)
    await viewer.goto(browsing.url(f"/p/{post_id}"))
    card = viewer.locator(f"#post-{post_id}")
    photo = card.get_by_role("img", name="an x-ray")
    await expect(card.get_by_text("Sensitive content")).to_be_visible()
    await expect(photo).to_be_hidden()
    await card.get_by_text("Show the photos").click()
    await expect(photo).to_be_visible()
    await expect(card.get_by_text("Hide the photos")).to_be_visible()
    # The photo has arrived, not only its box.
    await viewer.wait_for_function(
        "selector => { const img = document.querySelector(selector);"
        " return img !== null && img.complete && img.naturalWidth > 0; }",
        arg=f'#post-{post_id} img[alt="an x-ray"]',
    )

    await viewer.goto(browsing.url("/settings/reports"))
    await expect(viewer.get_by_text("behind a sensitive content warning")).to_be_visible()
