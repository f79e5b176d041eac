"""The composer in a real browser: choosing photos shows a preview of each, the post is
sent as a streamed multipart form, and its photos show in a carousel once processed (on
the page, and in the card a follower's open timeline inserts live), with no script or style
blocked by the Content-Security-Policy."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.async_api import Page, Request, expect

from service.domain import posts
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

    # Both photos at once, with the one file input; a preview of each, in the order chosen.
    await page.get_by_label("Add photos").set_input_files([str(first), str(second)])
    cards = page.locator(".photo-card")
    await expect(cards).to_have_count(2)
    for card in (cards.nth(0), cards.nth(1)):
        await expect(card.locator("img.photo-preview")).to_be_visible(timeout=WAIT_MS)
        await expect(card.locator("img.photo-preview")).to_have_js_property("complete", True)
    await expect(cards.nth(0)).to_contain_text("beach.jpg")
    await expect(cards.nth(1)).to_contain_text("dog.png")
    await page.get_by_label("Description of photo 1 (alt text)").fill("Waves on the sand")
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
    # A carousel shows each photo the card's whole width, 654 px on a desktop at 1x: the
    # upright 900x1200 photo (its 4:5 box) needs its 900 px width, as 640 px is short of it.
    await expect(live.nth(0)).to_have_js_property("complete", True)
    assert (await live.nth(0).evaluate("image => image.currentSrc")).endswith("/w900.webp")
    await reader.locator(f"#post-{post_id}").evaluate("card => card.removeAttribute('tabindex')")
    inserted = await outer_html(reader, f".feed > li:has(> #post-{post_id})")
    await reader.reload()
    assert await outer_html(reader, f".feed > li:has(> #post-{post_id})") == inserted
    # At the top, inserted or reloaded, its first photo is fetched at once and first.
    assert ' fetchpriority="high"' in inserted[0]
    # The author's post page turned into the published post by itself, full size.
    await expect(page.get_by_text("Processing photos")).to_have_count(0)
    # A phone that has not fetched the photos yet (a browser reuses a wider one it holds).
    phone = await browsing.page(viewport={"width": 390, "height": 844})
    await log_in(phone, account)
    grid = phone.locator(f"#post-{post_id} .photos-2 img")
    await expect(grid).to_have_count(2)
    await expect(grid.nth(0)).to_have_attribute("alt", "Waves on the sand")
    # On a 390 px phone at 1x a photo is 344 px wide; the square one covers the first
    # photo's 4:5 box at 430 px: its own 600 px width, the next photo loaded before it is
    # swiped to.
    await expect(grid.nth(1)).to_have_js_property("complete", True)
    assert (await grid.nth(1).evaluate("image => image.currentSrc")).endswith("/w600.webp")
    await phone.screenshot(path=artifacts_dir / "media-timeline-phone.png", full_page=True)
    await page.goto(f"/p/{post_id}")
    full = page.locator("img.photo-full")
    await expect(full.nth(1)).to_have_attribute("alt", "A dog")
    # The whole photo, 344 px wide on the phone: its 640 px width.
    await expect(full.nth(0)).to_have_js_property("complete", True)
    assert (await full.nth(0).evaluate("image => image.currentSrc")).endswith("/w640.webp")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=artifacts_dir / "media-post-desktop.png", full_page=True)
    assert not blocked, blocked


def photo_like(width: int, height: int, seed: int) -> bytes:
    """A JPEG with a photo's texture (broad patches of colour under fine grain), so that
    what an encoder makes of it weighs about what it makes of a real photo."""
    rng = random.Random(seed)
    coarse = Image.frombytes("RGB", (16, 12), rng.randbytes(16 * 12 * 3))
    coarse = coarse.resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    return encoded(Image.blend(coarse, grain, 0.15), "JPEG", quality=90)


# The home page's photos: landscape, portrait, a panorama past 1.91:1, a square, and a
# post of two; 20 posts in all.
HOME_SHAPES = [
    [(2400, 1800)],
    [(1800, 2400)],
    [(3000, 1000)],
    [(2000, 2000)],
    [(2400, 1800), (1800, 2400)],
]
HOME_POSTS = 20
# Photos of up to 1600 px on a machine shared with other work: a screenful may take a while.
LOAD_MS = 30_000


async def home_of_photo_posts(db, author_id: int, directory: Path) -> list[int]:
    post_ids = []
    for number in range(HOME_POSTS):
        shapes = HOME_SHAPES[number % len(HOME_SHAPES)]
        photos = []
        for index, (width, height) in enumerate(shapes):
            original = directory / f"home-{number}-{index}.jpg"
            original.write_bytes(photo_like(width, height, seed=number * 10 + index))
            photos.append(posts.NewPhoto(original, f"Photo {number}.{index}"))
        async with db.begin() as session:
            post_ids.append(
                await posts.create_photo_post(session, author_id, f"Post {number}", photos)
            )
    for post_id in post_ids:
        await wait_for_status(db, post_id)
    return post_ids


@dataclasses.dataclass
class Fetched:
    url: str
    bytes: int
    width: int


async def load_whole_page(page: Page, path: str) -> list[Fetched]:
    """Opens ``path`` and scrolls to its end a screen at a time, so every lazy image loads;
    returns every photo the browser fetched, with its bytes on the wire."""
    finished: list[Request] = []

    def record(request: Request) -> None:
        finished.append(request)

    # Start from a blank page, so no photo still arriving for the page before is counted.
    await page.goto("about:blank")
    page.on("requestfinished", record)
    await page.goto(path)
    height = await page.evaluate("window.innerHeight")
    while True:
        at_end = await page.evaluate(
            f"""() => {{ window.scrollBy(0, {height});
                return window.scrollY + window.innerHeight
                       >= document.documentElement.scrollHeight - 1; }}"""
        )
        await page.wait_for_function(
            "() => [...document.querySelectorAll('.photos img')].every(image => "
            "image.loading === 'lazy' && image.getBoundingClientRect().top > "
            "2 * window.innerHeight || image.complete)",
            timeout=LOAD_MS,
        )
        if at_end:
            break
    await page.wait_for_load_state("networkidle", timeout=LOAD_MS)
    page.remove_listener("requestfinished", record)
    fetched = []
    for request in finished:
        if "/media/photos/" not in request.url:
            continue
        sizes = await request.sizes()
        response = await request.response()
        assert response is not None and response.status == 200, request.url
        # Which width it is, from its name (tests/test_uploads.py checks that each stored
        # width is as wide as its name says); the display size has none.
        named = re.search(r"/w(\d+)\.webp$", urlsplit(request.url).path)
        fetched.append(
            Fetched(
                request.url,
                sizes["responseBodySize"] + sizes["responseHeadersSize"],
                int(named.group(1)) if named else 0,
            )
        )
    return fetched


async def test_home_photos_are_fetched_no_wider_than_the_layout_needs(
    browsing: Browsing, factory, db, tmp_path: Path, artifacts_dir: Path
):
    account = await factory.user()
    await home_of_photo_posts(db, account.id, tmp_path)
    photos = sum(len(HOME_SHAPES[number % len(HOME_SHAPES)]) for number in range(HOME_POSTS))
    for name, viewport, scale in (
        ("phone", {"width": 390, "height": 844}, 3),
        ("desktop", {"width": 1280, "height": 800}, 1),
    ):
        page = await browsing.page(viewport=viewport, device_scale_factor=scale)
        await log_in(page, account)
        fetched = await load_whole_page(page, "/")
        total = sum(item.bytes for item in fetched)
        print(
            f"\n{name} ({viewport['width']} px at {scale}x): {len(fetched)} photos, "
            f"{total} bytes: " + ", ".join(str(item.width) for item in fetched)
        )
        await page.screenshot(path=artifacts_dir / f"media-home-{name}.png")
        shown = await page.locator(".photos .photo img").evaluate_all(SHOWN_PHOTOS)
        assert len(shown) == photos
        # Each photo fetched once, in the width the browser chose for it, and nothing else
        # (not the JPEG fallback as well).
        assert sorted(item.url for item in fetched) == sorted(photo["src"] for photo in shown)
        widths = {item.url: item.width for item in fetched}
        for photo in shown:
            assert photo["type"] == "image/webp", photo
            # Cropped to cover its box, a photo is drawn at least as wide as the box.
            drawn = max(photo["box"][0], photo["box"][1] * photo["ratio"])
            wanted = drawn * scale
            enough = min(
                [width for width in photo["widths"] if width >= wanted] or [max(photo["widths"])]
            )
            assert widths[photo["src"]] <= enough, (name, wanted, photo)
        # The boxes were there before the photos: nothing moved as they arrived.
        assert await page.evaluate(LAYOUT_SHIFT) < 0.01


# Per photo on the page: what the browser fetched for it, the width descriptors it had to
# choose from, the box it is drawn in (CSS px) and its own shape.
SHOWN_PHOTOS = """images => images.map(image => {
    const box = image.getBoundingClientRect();
    const source = image.closest("picture").querySelector("source");
    return {
        src: image.currentSrc,
        ratio: image.naturalWidth / image.naturalHeight,
        box: [box.width, box.height],
        widths: source.srcset.split(", ").map(candidate => parseInt(candidate.split(" ")[1])),
        type: source.type,
    };
})"""
# The page's cumulative layout shift so far (0 when nothing ever moved).
LAYOUT_SHIFT = """() => new Promise(resolve => {
    let shifted = 0;
    new PerformanceObserver(list => {
        for (const entry of list.getEntries()) shifted += entry.value;
    }).observe({type: "layout-shift", buffered: true});
    setTimeout(() => resolve(shifted), 300);
})"""
