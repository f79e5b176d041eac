"""Live updates and in-place actions in a real browser: the "new posts" banner, the
notification badge, like buttons and comments that need no reload, each inserting exactly
the markup the server renders for the page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from service.domain import posts
from tests.browser import WAIT_MS, Browsing, log_in, outer_html
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_uploads import delay_jobs, photo_post, release

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
    # The newest post has the focus, to read on from (focusable for that alone).
    newest = page.locator("article.post").first
    await expect(newest).to_be_focused()
    await newest.evaluate("card => card.removeAttribute('tabindex')")
    # The inserted cards are the server's: the same as the page loaded afresh shows.
    inserted = await outer_html(page, ".feed > li")
    await page.reload()
    await expect(page.locator("article.post")).to_have_count(3)
    assert await outer_html(page, ".feed > li") == inserted


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
    await expect(like).to_be_focused()
    assert fan_page.url.endswith(f"/p/{post['id']}")
    # The button in place is the one the server renders for the page.
    liked = await outer_html(fan_page, ".like-form")
    await fan_page.reload()
    assert await outer_html(fan_page, ".like-form") == liked
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "false")
    await expect(like.locator(".like-label")).to_have_text("likes")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(like.locator(".like-label")).to_have_text("like")

    # A refused comment says why beside the field, and keeps the text.
    await fan_page.fill("#field-comment", "   ")
    await fan_page.click(".comment-form button[type=submit]")
    await expect(fan_page.locator("#error-comment")).to_have_text("Write a comment first.")
    await expect(fan_page.locator("#field-comment")).to_have_attribute("aria-invalid", "true")
    await expect(fan_page.locator("#field-comment")).to_have_value("   ")
    await expect(fan_page.locator(".comment-list .comment")).to_have_count(0)

    await fan_page.fill("#field-comment", "<b>great</b> shot")
    await fan_page.click(".comment-form button[type=submit]")
    comment = fan_page.locator(".comment-list .comment-body")
    await expect(comment).to_have_text("<b>great</b> shot")
    await expect(comment).to_have_attribute("dir", "auto")
    await expect(fan_page.locator(".comment-list .post-name")).to_have_attribute("dir", "auto")
    await expect(fan_page.locator("#field-comment")).to_have_value("")
    await expect(fan_page.locator("#error-comment")).to_be_hidden()
    await expect(fan_page.locator(".comments-empty")).to_have_count(0)
    # The comment in place is the one the server renders, delete button and all.
    added = await outer_html(fan_page, ".comment-list > li")
    assert len(added) == 1 and "comment-delete" in added[0]
    await fan_page.reload()
    assert await outer_html(fan_page, ".comment-list > li") == added

    # The author's badge counts the like and the comment without a reload.
    await expect(badge).to_be_visible(timeout=LIVE_WAIT_MS)
    await expect(badge).to_contain_text("2", timeout=LIVE_WAIT_MS)
    await author_page.goto(browsing.url("/notifications"))
    await expect(author_page.locator(".notification")).to_have_count(2)


async def test_an_own_post_shown_as_processing_gives_way_to_its_published_card(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
) -> None:
    """The author waits for their photo: the home page and the post's own page show it the
    moment it is published, with no banner to click and no reload."""
    author = await member()
    post_id = await photo_post(db, author.account.id, tmp_path, "Mine", ["A hill"], held=True)
    home = await browsing.page()
    await log_in(home, author.account)
    post_page = await browsing.page()
    await log_in(post_page, author.account)
    await post_page.goto(browsing.url(f"/p/{post_id}"))
    for page in (home, post_page):
        await expect(page.locator(f"#post-{post_id}")).to_contain_text("Processing photos")
        await expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=WAIT_MS)

    await release(db, post_id)
    await expect(home.locator(f".feed #post-{post_id} .photos-1 img")).to_have_attribute(
        "alt", "A hill", timeout=LIVE_WAIT_MS
    )
    await expect(home.locator(f"#post-{post_id}")).to_have_count(1)
    await expect(home.get_by_text("Processing photos")).to_have_count(0)
    await expect(home.locator(".new-posts")).to_be_hidden()
    await expect(post_page.locator(f"#post-{post_id} .photos img")).to_have_attribute(
        "alt", "A hill", timeout=LIVE_WAIT_MS
    )
    await expect(post_page.get_by_text("Processing photos")).to_have_count(0)
    # What the script put in place is what the pages serve afresh.
    inserted = await outer_html(home, ".feed > li")
    await home.reload()
    assert await outer_html(home, ".feed > li") == inserted


async def test_an_own_post_that_fails_shows_so_in_place(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
) -> None:
    author = await member()
    # As if a file had passed the upload checks yet could not be decoded later.
    broken = tmp_path / "broken.upload"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    async with db.begin() as session:
        post_id = await posts.create_photo_post(
            session, author.account.id, "doomed", [posts.NewPhoto(broken, "")]
        )
        await delay_jobs(session, post_id, timedelta(hours=1))
    page = await browsing.page()
    await log_in(page, author.account)
    card = page.locator(f"#post-{post_id}")
    await expect(card).to_contain_text("Processing photos")
    await expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=WAIT_MS)

    async with db.begin() as session:
        await delay_jobs(session, post_id, timedelta(0))
    await expect(card).to_contain_text("Processing failed", timeout=LIVE_WAIT_MS)
    await card.get_by_role("button", name="Delete").click()
    await expect(page.locator(f"#post-{post_id}")).to_have_count(0)
