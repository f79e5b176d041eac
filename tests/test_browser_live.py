"""Live updates and in-place actions in a real browser: the "new posts" banner, the
notification badge, like buttons and comments that need no reload."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import WAIT_MS, Browsing, log_in
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)

LIVE_WAIT_MS = 5000


async def test_new_posts_banner_appears_and_shows_the_post_on_click(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    reader, author = await member(), await member()
    await reader.follow(author)
    await author.post("already here")
    page = await browsing.page()
    await log_in(page, reader.account)
    await page.goto(browsing.url("/"))
    await expect(page.locator("article.post")).to_have_count(1)
    banner = page.locator(".new-posts")
    await expect(banner).to_be_hidden()
    await expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=WAIT_MS)

    first = await author.post("fresh off the press")
    await author.post("and another one")
    await expect(banner).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(banner).to_have_text("2 new posts", timeout=LIVE_WAIT_MS)
    # Nothing is inserted under the reader until they ask.
    await expect(page.locator("article.post")).to_have_count(1)

    await banner.locator("button").click()
    await expect(page.locator("article.post")).to_have_count(3)
    await expect(page.locator("article.post").first).to_contain_text("and another one")
    await expect(page.locator(f"#post-{first['id']}")).to_contain_text("fresh off the press")
    await expect(banner).to_be_hidden()


async def test_badge_likes_and_comments_update_in_place(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    author, fan = await member(), await member()
    post = await author.post("like and comment me")
    author_page = await browsing.page()
    await log_in(author_page, author.account)
    await author_page.goto(browsing.url("/"))
    badge = author_page.locator(".count-badge")
    await expect(badge).to_be_hidden()

    fan_page = await browsing.page()
    await log_in(fan_page, fan.account)
    await fan_page.goto(browsing.url(f"/p/{post['id']}"))
    like = fan_page.locator(".like-button")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(like.locator(".like-count")).to_have_text("1")
    assert fan_page.url.endswith(f"/p/{post['id']}")

    await fan_page.fill("#field-comment", "<b>great</b> shot")
    await fan_page.click(".comment-form button[type=submit]")
    comment = fan_page.locator(".comment-list .comment-body")
    await expect(comment).to_have_text("<b>great</b> shot")
    await expect(comment).to_have_attribute("dir", "auto")
    await expect(fan_page.locator(".comment-list .post-name")).to_have_attribute("dir", "auto")
    await expect(fan_page.locator("#field-comment")).to_have_value("")

    # The author's badge counts the like and the comment without a reload.
    await expect(badge).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(badge).to_contain_text("2", timeout=LIVE_WAIT_MS)
    await author_page.goto(browsing.url("/notifications"))
    await expect(author_page.locator(".notification")).to_have_count(2)
