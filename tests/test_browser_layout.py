"""The layout on a phone and a desktop, light and dark: a tab bar at the foot of a phone's
screen and links in the top bar of a desktop's, nothing wider than the screen, the live
banner in sight below the top bar after scrolling, and the dark colours when asked for."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser import WAIT_MS, Browsing, log_in
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)

PHONE = {"width": 390, "height": 844}
SMALLEST_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
LIVE_WAIT_MS = 5000
# How long a turn of the wheel may take to land: 50 looks, 0.1 s apart.
SCROLL_POLLS = 50
SCROLL_POLL_SECONDS = 0.1
SECTIONS = ["Home", "Explore", "New post", "Notifications", "Profile"]


async def test_a_phone_has_a_tab_bar_and_a_desktop_its_links_on_top(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    reader = await member()
    for viewport, at_the_foot in ((PHONE, True), (SMALLEST_PHONE, True), (DESKTOP, False)):
        page = await browsing.page(viewport=viewport)
        await log_in(page, reader.account)
        await page.goto(browsing.url("/explore"))
        links = page.get_by_role("navigation", name="Main").locator(".nav-links a")
        await expect(links.locator(".tab-label")).to_have_text(SECTIONS)
        # The page one is on is marked for screen readers and by colour.
        current = page.locator('.nav-links a[aria-current="page"] .tab-label')
        await expect(current).to_have_text("Explore")
        box = await page.locator(".nav-links").bounding_box()
        assert box is not None
        if at_the_foot:
            assert box["y"] + box["height"] == pytest.approx(viewport["height"], abs=1)
            assert box["width"] == pytest.approx(viewport["width"], abs=1)
        else:
            assert box["y"] < 60
        # Nothing scrolls sideways, at 320 px either.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]
        # Every tab is big enough to tap (WCAG 2.5.8: 24 x 24 px at least).
        for tab in await links.all():
            tab_box = await tab.bounding_box()
            assert tab_box is not None and tab_box["width"] >= 24 and tab_box["height"] >= 24
        await page.goto(browsing.url(f"/@{reader.account.username}"))
        await expect(current).to_have_text("Profile")


async def test_the_new_posts_banner_stays_in_sight_on_a_scrolled_phone(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    reader, author = await member(), await member()
    await reader.follow(author)
    await author.posts([f"post {n} " + "words " * 40 for n in range(12)])
    page = await browsing.page(viewport=PHONE)
    await log_in(page, reader.account)
    await expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=WAIT_MS)
    await page.mouse.wheel(0, 2500)
    # Polled from here: Playwright's wait_for_function polls in the page with eval(), which
    # the pages' Content-Security-Policy refuses.
    for _ in range(SCROLL_POLLS):
        if await page.evaluate("window.scrollY") > 1000:
            break
        await asyncio.sleep(SCROLL_POLL_SECONDS)
    else:
        raise AssertionError("the page did not scroll")

    await author.post("something new")
    banner = page.get_by_role("button", name="1 new post")
    await expect(banner).to_be_visible(timeout=LIVE_WAIT_MS)
    header = await page.locator(".site-header").bounding_box()
    shown = await banner.bounding_box()
    assert header is not None and shown is not None
    assert shown["y"] >= header["y"] + header["height"]  # below the top bar, not under it
    assert shown["y"] + shown["height"] <= PHONE["height"]
    # The button is what is on top at its centre: nothing covers it.
    on_top = await page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('.new-posts-button') !== null",
        [shown["x"] + shown["width"] / 2, shown["y"] + shown["height"] / 2],
    )
    assert on_top


async def test_dark_mode_follows_the_device(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
) -> None:
    reader = await member()
    colours = {}
    for scheme in ("light", "dark"):
        page = await browsing.page(viewport=DESKTOP, color_scheme=scheme)
        await log_in(page, reader.account)
        colours[scheme] = await page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.body).color]"
        )
    assert colours["light"] == ["rgb(246, 247, 249)", "rgb(31, 35, 40)"]
    assert colours["dark"] == ["rgb(15, 17, 21)", "rgb(230, 232, 235)"]


async def test_search_is_a_box_in_a_wide_top_bar_and_a_link_elsewhere(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    factory,
) -> None:
    wanted = await factory.user()
    admin = await factory.user(role="admin")
    wide = {"width": 1440, "height": 900}
    for account in (wanted, admin):  # an admin's top bar has the most links
        page = await browsing.page(viewport=wide)
        await log_in(page, account)
        await page.goto(browsing.url("/explore"))
        box = page.get_by_role("search").get_by_label("Search")
        await expect(box).to_be_visible()
        await expect(page.locator(".site-search-link")).to_be_hidden()
        # The whole top bar on one line, nothing wider than the screen.
        header = await page.locator(".site-header").bounding_box()
        assert header is not None and header["height"] < 70
        assert await page.evaluate("document.documentElement.scrollWidth") <= wide["width"]
    await box.fill(wanted.username)
    await box.press("Enter")
    await expect(page).to_have_url(browsing.url(f"/search?q={wanted.username}"))
    await expect(page.locator(".people .post-handle")).to_contain_text([f"@{wanted.username}"])
    # Narrower, a link to the search page, which has the box.
    for viewport in (DESKTOP, PHONE):
        page = await browsing.page(viewport=viewport)
        await log_in(page, admin)
        await page.goto(browsing.url("/explore"))
        await expect(page.get_by_role("search")).to_be_hidden()
        await page.get_by_role("link", name="Search").click()
        await expect(page).to_have_url(browsing.url("/search"))
        await expect(page.get_by_role("searchbox", name="Search for people")).to_be_visible()
        header = await page.locator(".site-header").bounding_box()
        assert header is not None and header["height"] < 70
