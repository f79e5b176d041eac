"""A card's actions and photos in a real browser: icons for like (filled once liked),
comments, sharing and "more"; the link copied; the menu by keyboard; a card's photo opened
in the full-screen viewer and closed by the browser's back button; and each without
JavaScript."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser import Browsing, log_in
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_browser_photos import DESKTOP, PHONE, shaped_post

NARROWEST = {"width": 320, "height": 640}
# Room enough for a finger or a pointer (WCAG 2.5.8 asks 24 px; ours are 32).
SMALLEST_TARGET_PX = 32


async def icon_of(button) -> str:
    """The sprite symbol a control shows."""
    href = await button.locator("svg use").first.get_attribute("href")
    return href.rpartition("#")[2]


async def scrolls_sideways(page: Page) -> bool:
    return await page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


async def test_a_cards_actions_are_icons_that_like_share_and_open_a_menu(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
    artifacts_dir: Path,
) -> None:
    reader = await member()
    author = await factory.user()
    theirs = await factory.post(author, "a post to like and share")
    mine = await factory.post(reader.account, "a post of my own")
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await browsing.page(
            viewport=viewport, permissions=["clipboard-read", "clipboard-write"]
        )
        await log_in(page, reader.account)
        await page.goto("/explore?sort=latest")
        card = page.locator(f"#post-{theirs}")
        like = card.locator(".like-button")
        # Every control of the footer is big enough to hit.
        for control in await card.locator(
            ".post-footer > form .like-button, .post-footer > a, .post-footer summary"
        ).all():
            box = await control.bounding_box()
            assert box and box["height"] >= SMALLEST_TARGET_PX, (name, await control.inner_html())

        # Like: the outlined heart fills, and says so to a screen reader.
        liked_before = await like.get_attribute("aria-pressed")
        assert (liked_before, await icon_of(like)) in {("false", "heart"), ("true", "heart-filled")}
        await like.click()
        pressed = "true" if liked_before == "false" else "false"
        await expect(card.locator(".like-button")).to_have_attribute("aria-pressed", pressed)
        assert await icon_of(card.locator(".like-button")) == (
            "heart-filled" if pressed == "true" else "heart"
        )
        await expect(card.locator(".like-count")).to_have_text("1" if pressed == "true" else "0")

        # Share: the post's address copied, said so, and the page stays.
        await card.get_by_role("link", name=f"Share link to post {theirs}").click()
        await expect(page.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
        copied = await page.evaluate("() => navigator.clipboard.readText()")
        assert copied == browsing.url(f"/p/{theirs}")
        assert page.url == browsing.url("/explore?sort=latest")
        await page.screenshot(path=artifacts_dir / f"cards-actions-{name}.png")

        # More: by keyboard alone, opened, its report link reached, closed by Escape.
        menu = card.locator("details.post-menu")
        report = card.get_by_role("link", name=f"Report post {theirs}")
        await expect(report).to_be_hidden()
        await card.locator("summary").focus()
        await page.keyboard.press("Enter")
        await expect(report).to_be_visible()
        await page.keyboard.press("Tab")
        await expect(report).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(report).to_be_hidden()
        await expect(card.locator("summary")).to_be_focused()
        # A click elsewhere closes it too; the own post's menu deletes instead of reporting.
        await card.locator("summary").click()
        await expect(menu).to_have_attribute("open", "")
        await page.locator("h1, main").first.click(position={"x": 2, "y": 2})
        await expect(report).to_be_hidden()
        own = page.locator(f"#post-{mine}")
        await own.locator("summary").click()
        await expect(own.get_by_role("button", name=f"Delete post {mine}")).to_be_visible()
        await expect(own.get_by_role("link", name="Report")).to_have_count(0)

    # Nothing makes a phone's narrowest screen scroll sideways.
    page = await browsing.page(viewport=NARROWEST)
    await log_in(page, reader.account)
    await page.goto("/explore?sort=latest")
    assert not await scrolls_sideways(page)

    # Without JavaScript the menu still opens and the share link opens the post.
    plain = await browsing.page(viewport=PHONE, java_script_enabled=False)
    await log_in(plain, reader.account)
    await plain.goto("/explore?sort=latest")
    card = plain.locator(f"#post-{theirs}")
    await card.locator("summary").click()
    await expect(card.get_by_role("link", name=f"Report post {theirs}")).to_be_visible()
    await card.get_by_role("link", name=f"Share link to post {theirs}").click()
    await expect(plain).to_have_url(browsing.url(f"/p/{theirs}"))


async def test_a_cards_photo_opens_the_viewer_which_the_back_button_closes(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    author = await member()
    post_id = await shaped_post(db, author.account.id, tmp_path, [(2400, 1800), (1200, 1600)])
    page = await browsing.page(viewport=PHONE)
    await log_in(page, author.account)
    await page.goto("/")
    await page.goto("/explore?sort=latest")
    viewer = page.locator("dialog.viewer")
    photos = page.locator(f"#post-{post_id} .photo")

    await photos.nth(0).click()
    await expect(viewer).to_be_visible()
    image = viewer.locator(".viewer-image")
    await expect(image).to_have_attribute("alt", "Photo 1")
    await expect(viewer.locator(".viewer-position")).to_have_text("Photo 1 of 2")
    # Drawn in the photo's own shape (4:3), not the card's box.
    await expect(image).to_have_js_property("complete", True)
    shape = await image.evaluate("i => i.naturalWidth / i.naturalHeight")
    assert abs(shape - 4 / 3) < 0.02
    await expect(viewer.get_by_role("link", name="View post")).to_have_attribute(
        "href", f"/p/{post_id}"
    )
    await page.keyboard.press("ArrowRight")
    await expect(viewer.locator(".viewer-alt")).to_have_text("Photo 2")
    await page.screenshot(path=artifacts_dir / "cards-viewer-390.png")
    # The browser's back closes the viewer and stays on the page.
    await page.go_back()
    await expect(viewer).to_be_hidden()
    assert page.url == browsing.url("/explore?sort=latest")
    await expect(photos.nth(1)).to_be_focused()

    # Closed by Escape, it takes its history entry back: "back" then leaves the page.
    await photos.nth(0).click()
    await expect(viewer).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    await page.go_back()
    await expect(page).to_have_url(browsing.url("/"))

    # "View post" goes to the post.
    await page.goto("/explore?sort=latest")
    await photos.nth(0).click()
    await viewer.get_by_role("link", name="View post").click()
    await expect(page).to_have_url(browsing.url(f"/p/{post_id}"))

    # Without JavaScript a card's photo is a link to its post.
    plain = await browsing.page(viewport=PHONE, java_script_enabled=False)
    await log_in(plain, author.account)
    await plain.goto("/explore?sort=latest")
    await plain.locator(f"#post-{post_id} .photo").first.click()
    await expect(plain).to_have_url(browsing.url(f"/p/{post_id}"))
