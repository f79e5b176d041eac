"""The composer in a real browser: choosing photos shows previews and the next slot, the
post is sent as a streamed multipart form, and its photos show in a grid once processed (on
the page, and in the card a follower's open timeline inserts live), with no script or style
blocked by the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser import CHROMIUM, WAIT_MS, Browsing, chromium, log_in, outer_html
from tests.test_uploads import camera_jpeg, encoded, picture, wait_for_status

assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"


@pytest.fixture
async def browsing(client) -> AsyncIterator[Browsing]:
    async with chromium() as browser:
        browsing = Browsing(browser, str(client.make_url("/")))
        try:
            yield browsing
        finally:
            await browsing.close()
    assert not browsing.page_errors, browsing.page_errors


async def test_composer_previews_photos_and_posts_them(
    browsing: Browsing, factory, db, tmp_path: Path, artifacts_dir: Path
):
    account, follower = await factory.user(), await factory.user()
    await factory.follow(follower, account)
    # A follower's timeline is open, live, before the post exists.
    reader = await browsing.page()
    await log_in(reader, follower)
    await expect(reader.locator("body")).to_have_attribute("data-live", "open")
    first, second = tmp_path / "beach.jpg", tmp_path / "dog.png"
    first.write_bytes(camera_jpeg(1200, 900))
    second.write_bytes(encoded(picture(600, 600), "PNG"))
    page = await browsing.page(viewport={"width": 390, "height": 844})
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    await log_in(page, account)

    await page.get_by_text("Add photos").click()
    slots = page.locator("[data-photo-slot]")
    await expect(slots.nth(0)).to_be_visible()
    await expect(slots.nth(1)).to_be_hidden()
    await page.get_by_label("Photo 1", exact=True).set_input_files(str(first))
    await expect(slots.nth(0).locator("img.photo-preview")).to_be_visible(timeout=WAIT_MS)
    await expect(slots.nth(1)).to_be_visible()
    await expect(slots.nth(2)).to_be_hidden()
    await page.get_by_label("Description of photo 1 (alt text)").fill("Waves on the sand")
    await page.get_by_label("Photo 2", exact=True).set_input_files(str(second))
    await page.get_by_label("Description of photo 2 (alt text)").fill("A dog")
    await page.get_by_label("What's new").fill("Holiday")
    await page.screenshot(path=artifacts_dir / "media-composer-phone.png", full_page=True)
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url("**/p/*")
    await expect(page.get_by_text("Processing photos")).to_be_visible()

    post_id = int(page.url.rsplit("/", 1)[1])
    await wait_for_status(db, post_id)

    # Published, it reaches the follower's banner; a click inserts the server's card.
    await reader.get_by_role("button", name="1 new post").click()
    live = reader.locator(f"#post-{post_id} .photos-2 img")
    await expect(live).to_have_count(2)
    await expect(live.nth(1)).to_have_attribute("alt", "A dog")
    await expect(live.nth(0)).to_have_js_property("naturalWidth", 320)
    await reader.locator(f"#post-{post_id}").evaluate("card => card.removeAttribute('tabindex')")
    inserted = await outer_html(reader, f".feed > li:has(> #post-{post_id})")
    await reader.reload()
    assert await outer_html(reader, f".feed > li:has(> #post-{post_id})") == inserted
    await page.goto("/")
    grid = page.locator(f"#post-{post_id} .photos-2 img")
    await expect(grid).to_have_count(2)
    await expect(grid.nth(0)).to_have_attribute("alt", "Waves on the sand")
    assert await grid.nth(1).evaluate("image => image.complete && image.naturalWidth") == 320
    await page.screenshot(path=artifacts_dir / "media-timeline-phone.png", full_page=True)
    await page.goto(f"/p/{post_id}")
    full = page.locator("img.photo-full")
    await expect(full.nth(1)).to_have_attribute("alt", "A dog")
    assert await full.nth(0).evaluate("image => image.complete && image.naturalWidth") == 810
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=artifacts_dir / "media-post-desktop.png", full_page=True)
    assert not blocked, blocked
