"""Photos as the photo apps show them, in a real browser: a profile's grid of three columns
on a desktop and a phone with "load more", a carousel moved by its buttons, the arrow keys
and a swipe with the position announced, the post page's full-screen viewer, and what each
of them is without JavaScript."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from service.domain import posts
from tests.browser import Browsing, log_in, outer_html
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_uploads import encoded, picture, wait_for_status

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A strip rests once its scroll position stays put this long (a smooth scroll takes ~0.3 s).
REST_POLL_SECONDS = 0.15
REST_POLLS = 30


async def shaped_post(
    db, author_id: int, directory: Path, shapes: list[tuple[int, int]], body: str = ""
) -> int:
    """A published post of photos of these sizes (width, height), alt text "Photo N"."""
    photos = []
    for number, (width, height) in enumerate(shapes, start=1):
        original = directory / f"photo-{time.monotonic_ns()}.jpg"
        original.write_bytes(encoded(picture(width, height), "JPEG"))
        photos.append(posts.NewPhoto(original, f"Photo {number}"))
    async with db.begin() as session:
        post_id = await posts.create_photo_post(session, author_id, body, photos)
    await wait_for_status(db, post_id)
    return post_id


async def boxes(page: Page, selector: str) -> list[dict[str, float]]:
    return await page.locator(selector).evaluate_all(
        "nodes => nodes.map(node => { const box = node.getBoundingClientRect();"
        " return {x: box.x, y: box.y, width: box.width, height: box.height}; })"
    )


async def test_the_profile_grid_is_three_square_columns_on_a_desktop_and_a_phone(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    author, reader = await member(), await member()
    made = [
        await shaped_post(db, author.account.id, tmp_path, shapes)
        for shapes in ([(1200, 900)], [(900, 1200), (1200, 900)], [(1000, 1000)], [(1500, 500)])
    ]
    await author.post("Words that are no tile")
    for viewport in (DESKTOP, PHONE):
        # A reader who has not seen these photos yet (a browser reuses a wider copy it holds).
        page = await browsing.page(viewport=viewport)
        await log_in(page, reader.account)
        await page.goto(f"/@{author.username}")
        await expect(page.get_by_role("link", name="Photos", exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        tiles = page.locator(".photo-grid .tile")
        await expect(tiles).to_have_count(4)
        await expect(page.get_by_text("Words that are no tile")).to_have_count(0)
        first, second, third, fourth = await boxes(page, ".photo-grid .tile")
        # Three a row, side by side, the same width, square; the fourth starts the next row.
        assert first["y"] == pytest.approx(second["y"], abs=1) == pytest.approx(third["y"], abs=1)
        assert first["x"] < second["x"] < third["x"]
        for tile in (first, second, third, fourth):
            assert tile["width"] == pytest.approx(first["width"], abs=1)
            assert tile["height"] == pytest.approx(tile["width"], abs=1)
        assert fourth["y"] > first["y"] + first["height"]
        assert fourth["x"] == pytest.approx(first["x"], abs=1)
        grid = (await boxes(page, ".photo-grid"))[0]
        assert 3 * first["width"] == pytest.approx(grid["width"] - 8, abs=2)
        # The post of two photos carries the mark, the others none.
        marked = page.locator(".tile:has(.tile-more)")
        await expect(marked).to_have_count(1)
        await expect(marked).to_have_attribute("href", f"/p/{made[1]}")
        await expect(marked.locator(".tile-more .icon")).to_be_visible()
        # Each tile's photo arrives in a width about its square's, never the largest.
        for number in range(4):
            await expect(tiles.nth(number).locator("img")).to_have_js_property("complete", True)
        sources = await tiles.locator("img").evaluate_all("i => i.map(x => x.currentSrc)")
        widths = [source.rsplit("/", 1)[1] for source in sources]
        # The 3:1 panorama covers its square three times as wide.
        wanted = {
            DESKTOP["width"]: ["w1080.webp", *["w320.webp"] * 3],
            PHONE["width"]: ["w640.webp", *["w320.webp"] * 3],
        }
        assert widths == wanted[viewport["width"]]
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        shot = artifacts_dir / f"photos-grid-{viewport['width']}x{viewport['height']}.png"
        await page.screenshot(path=shot, full_page=True)
        # A tile opens its post (newest first: the second tile is the second newest).
        await tiles.nth(1).click()
        await expect(page).to_have_url(browsing.url(f"/p/{made[2]}"))


async def test_more_photos_loads_the_servers_tiles_and_works_without_javascript(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
) -> None:
    author = await member()
    made = [await shaped_post(db, author.account.id, tmp_path, [(400, 300)]) for _ in range(5)]
    newest_first = made[::-1]
    first_page = f"/@{author.username}?tab=photos&limit=2"

    page = await browsing.page(viewport=PHONE)
    # As in a browser without IntersectionObserver: only a click on the link loads more.
    await page.add_init_script("delete window.IntersectionObserver")
    await log_in(page, author.account)
    await page.goto(first_page)
    more = page.get_by_role("link", name="More photos")
    next_page = await more.get_attribute("href")
    assert next_page is not None and next_page.startswith("?tab=photos&cursor=")
    await more.focus()
    await page.keyboard.press("Enter")
    tiles = page.locator(".photo-grid .tile")
    await expect(tiles).to_have_count(5)
    await expect(more).to_have_count(0)
    ids = await tiles.evaluate_all("links => links.map(link => Number(link.id.slice(5)))")
    assert ids == newest_first
    assert await page.evaluate("location.search") == "?tab=photos&limit=2"
    # The keyboard goes on from the first tile the link brought.
    await expect(tiles.nth(2)).to_be_focused()
    loaded = (await outer_html(page, ".photo-grid > li"))[2:]
    await page.goto(f"/@{author.username}{next_page}")
    assert await outer_html(page, ".photo-grid > li") == loaded

    plain = await browsing.page(java_script_enabled=False)
    await log_in(plain, author.account)
    await plain.goto(first_page)
    await expect(plain.locator(".photo-grid .tile")).to_have_count(2)
    await plain.get_by_role("link", name="More photos").click()
    await expect(plain).to_have_url(browsing.url(f"/@{author.username}{next_page}"))
    shown = await plain.locator(".photo-grid .tile").evaluate_all("t => t.map(x => x.id)")
    assert shown == [f"tile-{post_id}" for post_id in newest_first[2:]]
    # The tabs are links too.
    await plain.get_by_role("link", name="Posts", exact=True).click()
    await expect(plain.locator(".feed article.post")).to_have_count(5)


async def carousel_state(carousel) -> tuple[str, list[str], str, str]:
    """What the carousel says: its announcement, its dots, and whether each button can act."""
    return (
        await carousel.locator(".carousel-status").text_content() or "",
        await carousel.locator(".carousel-dot").evaluate_all(
            "dots => dots.map(dot => dot.dataset.current)"
        ),
        await carousel.locator(".carousel-prev").get_attribute("aria-disabled") or "",
        await carousel.locator(".carousel-next").get_attribute("aria-disabled") or "",
    )


async def shown_slide(carousel) -> int:
    """Which photo the strip shows, once it rests where it scrolled to (polled from here: a
    page without JavaScript runs no timers)."""
    track = carousel.locator(".carousel-track")
    last = None
    for _ in range(REST_POLLS):
        await asyncio.sleep(REST_POLL_SECONDS)
        position = await track.evaluate("track => track.scrollLeft")
        if position == last:
            break
        last = position
    return await track.evaluate("track => Math.round(track.scrollLeft / track.clientWidth)")


async def test_a_carousel_moves_by_buttons_keys_and_swipes_and_says_where_it_is(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    author, reader = await member(), await member()
    post_id = await shaped_post(
        db, author.account.id, tmp_path, [(1200, 900), (900, 1200), (1000, 1000)], "Three"
    )
    await reader.follow(author)
    page = await browsing.page(viewport=PHONE)
    await log_in(page, reader.account)
    for path in ("/", f"/p/{post_id}"):
        await page.goto(path)
        carousel = page.locator(f"#post-{post_id} .carousel")
        previous = carousel.get_by_role("button", name="Previous photo")
        following = carousel.get_by_role("button", name="Next photo")
        await expect(following).to_be_visible()
        shot = f"photos-carousel-{'home' if path == '/' else 'post'}-390x844.png"
        await page.screenshot(path=artifacts_dir / shot)
        assert await carousel_state(carousel) == ("", ["true", "false", "false"], "true", "false")
        # One photo at a time: the second is beside the first, out of the card.
        slides = await boxes(page, f"#post-{post_id} .carousel-slide")
        assert slides[1]["x"] == pytest.approx(slides[0]["x"] + slides[0]["width"], abs=1)

        await following.click()
        assert await shown_slide(carousel) == 1
        assert await carousel_state(carousel) == (
            "Photo 2 of 3",
            ["false", "true", "false"],
            "false",
            "false",
        )
        # The arrow keys, from the button the keyboard is on.
        await expect(following).to_be_focused()
        await page.keyboard.press("ArrowRight")
        assert await shown_slide(carousel) == 2
        assert await carousel_state(carousel) == (
            "Photo 3 of 3",
            ["false", "false", "true"],
            "false",
            "true",
        )
        await page.keyboard.press("ArrowRight")  # the last photo: nowhere further
        assert await shown_slide(carousel) == 2
        await previous.click()
        assert await shown_slide(carousel) == 1
        assert (await carousel_state(carousel))[0] == "Photo 2 of 3"
        # From a photo's link, the keyboard follows the photo it moves to.
        links = carousel.locator(".carousel-slide a")
        await links.nth(1).focus()
        await page.keyboard.press("ArrowLeft")
        assert await shown_slide(carousel) == 0
        await expect(links.nth(0)).to_be_focused()
        assert await carousel_state(carousel) == (
            "Photo 1 of 3",
            ["true", "false", "false"],
            "true",
            "false",
        )
        # A swipe: the strip scrolled by hand, its snap settles on the next photo (never
        # past it, however far the fling), and it is told.
        track = carousel.locator(".carousel-track")
        await track.evaluate("track => track.scrollBy({left: track.clientWidth * 1.8})")
        assert await shown_slide(carousel) == 1
        await expect(carousel.locator(".carousel-status")).to_have_text("Photo 2 of 3")
        await track.evaluate("track => track.scrollBy({left: track.clientWidth * 0.6})")
        assert await shown_slide(carousel) == 2
        await expect(carousel.locator(".carousel-status")).to_have_text("Photo 3 of 3")


async def test_without_javascript_photos_scroll_sideways_and_open_their_sharpest_copy(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
) -> None:
    author = await member()
    post_id = await shaped_post(db, author.account.id, tmp_path, [(2400, 1800), (1800, 2400)])
    page = await browsing.page(viewport=PHONE, java_script_enabled=False)
    await log_in(page, author.account)
    for path in (f"/@{author.username}?tab=posts", f"/p/{post_id}"):
        await page.goto(path)
        carousel = page.locator(f"#post-{post_id} .carousel")
        await expect(carousel.get_by_role("button", name="Next photo")).to_be_hidden()
        await expect(carousel.locator(".carousel-dots")).to_be_hidden()
        track = carousel.locator(".carousel-track")
        scroll = await track.evaluate(
            "t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).scrollSnapType]"
        )
        assert scroll[0] == pytest.approx(2 * scroll[1], abs=2) and scroll[2] == "x mandatory"
        await track.evaluate("track => track.scrollBy({left: track.clientWidth * 0.7})")
        assert await shown_slide(carousel) == 1
    # On the post page a photo is a link to its widest width.
    link = page.locator(".photo-open").nth(1)
    href = await link.get_attribute("href")
    assert href is not None and href.endswith("/w1600.webp")
    await link.click()
    await expect(page).to_have_url(browsing.url(href))
    response = await page.request.get(browsing.url(href))
    assert response.status == 200 and response.headers["content-type"] == "image/webp"


async def test_the_viewer_opens_a_photo_large_moves_between_them_and_gives_focus_back(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    db,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    author = await member()
    post_id = await shaped_post(db, author.account.id, tmp_path, [(2400, 1800), (1800, 2400)])
    page = await browsing.page(viewport=DESKTOP)
    await log_in(page, author.account)
    await page.goto(f"/p/{post_id}")
    viewer = page.locator("dialog.viewer")
    await expect(viewer).to_be_hidden()
    links = page.locator(".photo-open")

    # By the keyboard: the first photo, large, in the width that fits an 800 px high screen
    # (4:3 at 650 px high is 867 px wide: the 1080 px width).
    await links.nth(0).focus()
    await page.keyboard.press("Enter")
    await expect(viewer).to_be_visible()
    image = viewer.locator(".viewer-image")
    await expect(image).to_have_attribute("alt", "Photo 1")
    await expect(viewer.locator(".viewer-alt")).to_have_text("Photo 1")
    await expect(viewer.locator(".viewer-position")).to_have_text("Photo 1 of 2")
    await expect(image).to_have_js_property("complete", True)
    assert (await image.evaluate("i => i.currentSrc")).endswith("/w1080.webp")
    shown = (await boxes(page, "dialog.viewer .viewer-image"))[0]
    assert shown["height"] <= DESKTOP["height"] and shown["width"] <= DESKTOP["width"]
    assert shown["height"] > 0.7 * DESKTOP["height"]
    await expect(viewer.get_by_role("button", name="Close")).to_be_focused()
    await page.screenshot(path=artifacts_dir / "photos-viewer-1280x800.png")
    # Arrows go to the next photo, and say so.
    await page.keyboard.press("ArrowRight")
    await expect(viewer.locator(".viewer-alt")).to_have_text("Photo 2")
    await expect(viewer.locator(".viewer-status")).to_have_text("Photo 2 of 2")
    await expect(image).to_have_js_property("complete", True)
    assert (await image.evaluate("i => i.currentSrc")).endswith(("/w640.webp", "/w1080.webp"))
    await expect(viewer.get_by_role("button", name="Next photo")).to_be_disabled()
    # Escape closes it, and the keyboard is back on the photo last shown, its carousel there.
    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    await expect(links.nth(1)).to_be_focused()
    carousel = page.locator(f"#post-{post_id} .carousel")
    assert await shown_slide(carousel) == 1
    await expect(carousel.locator(".carousel-status")).to_have_text("Photo 2 of 2")
    # A window resized keeps the strip on its photo.
    await page.set_viewport_size({"width": 600, "height": 600})
    assert await shown_slide(carousel) == 1
    await page.set_viewport_size(DESKTOP)
    assert await shown_slide(carousel) == 1
    await page.screenshot(path=artifacts_dir / "photos-post-1280x800.png")

    # By a click, and closed by its button, on a phone that has not fetched the photo yet
    # (a browser reuses a wider copy it holds).
    page = await browsing.page(viewport=PHONE)
    await log_in(page, author.account)
    await page.goto(f"/p/{post_id}")
    viewer, links = page.locator("dialog.viewer"), page.locator(".photo-open")
    image = viewer.locator(".viewer-image")
    await links.nth(0).click()
    await expect(viewer).to_be_visible()
    await expect(image).to_have_js_property("complete", True)
    # 358 px wide at 1x: the 640 px width.
    assert (await image.evaluate("i => i.currentSrc")).endswith("/w640.webp")
    await expect(viewer.get_by_role("button", name="Previous photo")).to_be_disabled()
    # Its own buttons move too, and the keyboard stays on one that can act.
    await viewer.get_by_role("button", name="Next photo").focus()
    await page.keyboard.press("Enter")
    await expect(viewer.locator(".viewer-position")).to_have_text("Photo 2 of 2")
    await expect(viewer.get_by_role("button", name="Previous photo")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(viewer.locator(".viewer-position")).to_have_text("Photo 1 of 2")
    await viewer.get_by_role("button", name="Close").click()
    await expect(viewer).to_be_hidden()
    await expect(links.nth(0)).to_be_focused()
    assert page.url == browsing.url(f"/p/{post_id}")
