"""Plumbing for tests/test_journey.py: the nginx deployment of tests/nginx.py with mail sent
by SMTP (to the suite's aiosmtpd server) instead of written to files, photos drawn with
Pillow, and browser helpers for screenshots and for watching what a page ever showed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser import CHROMIUM, CHROMIUM_ARGS, LAUNCH_TIMEOUT_MS, WAIT_MS
from tests.conftest import TEST_LIMITS
from tests.nginx import Stack, nginx_stack

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


def smtp_nginx_stack(database_url: str, smtp_port: int):
    """nginx_stack with mail delivered by SMTP to the suite's server on ``smtp_port``."""
    return nginx_stack(
        database_url,
        SNAPLINE_MAIL_BACKEND="smtp",
        SNAPLINE_MAIL_SMTP_HOST="127.0.0.1",
        SNAPLINE_MAIL_SMTP_PORT=str(smtp_port),
        SNAPLINE_MAIL_SMTP_TLS="none",
        SNAPLINE_MAIL_SMTP_TIMEOUT_SECONDS="3",
        SNAPLINE_MAIL_RETRY_BASE_SECONDS="0.2",
        # Bob writes his older posts all at once, faster than a new account may.
        **{f"SNAPLINE_LIMITS_{name.upper()}": str(value) for name, value in TEST_LIMITS.items()},
    )


@contextlib.asynccontextmanager
async def chromium_with_back_forward_cache() -> AsyncIterator[Browser]:
    """tests/browser.py's headless Chromium, but with the back/forward cache on, as in
    people's browsers: Playwright turns it off by default, which would hide a page that
    the back button restores from memory after logout."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            ignore_default_args=["--disable-back-forward-cache"],
            headless=True,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            await browser.close()


def logged_errors(stack: Stack) -> list[dict[str, Any]]:
    """Error lines either app process logged (the in-process guard cannot see them)."""
    return [
        entry
        for app in stack.apps
        for entry in app.log()
        if entry.get("level") in {"error", "critical"}
    ]


def write_photo(path: Path, size: tuple[int, int], sky: str, ground: str, sun: str) -> Path:
    """A small JPEG that looks like a landscape: sky, a hill and a sun."""
    width, height = size
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (-width // 2, height * 3 // 5, width * 3 // 2, height * 2), fill=ground, outline=ground
    )
    radius = min(width, height) // 8
    centre = (width * 3 // 4, height // 4)
    draw.ellipse(
        (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius), fill=sun
    )
    image.save(path, "JPEG", quality=85)
    return path


async def csrf_token(page: Page) -> str:
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token, "page has no csrf-token meta tag"
    return token


# Records, from the moment it is installed, anything on the page that says a post is still
# being processed: a pending post's class, the marker badge, or the word itself.
WATCH_PROCESSING = """() => {
    window.__processingSeen = [];
    const check = () => {
        for (const node of document.querySelectorAll('.post-pending, .badge-processing')) {
            window.__processingSeen.push(node.closest('article')?.id || node.className);
        }
        if (/processing/i.test(document.querySelector('main').textContent)) {
            window.__processingSeen.push('the word "processing"');
        }
    };
    check();
    new MutationObserver(check).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
}"""


async def watch_for_processing(page: Page) -> None:
    await page.evaluate(WATCH_PROCESSING)


async def processing_seen(page: Page) -> list[str]:
    return await page.evaluate("window.__processingSeen")


async def mark_document(page: Page) -> None:
    """A marker that survives only as long as the page is not reloaded or left."""
    await page.evaluate("window.__sameDocument = true")


async def same_document(page: Page) -> bool:
    return await page.evaluate("window.__sameDocument === true")


async def wait_for_images(page: Page, selector: str, count: int) -> list[str]:
    """Waits (bounded) until ``count`` images match ``selector`` and all have loaded;
    answers the name of the file each shows (the width the browser chose from srcset)."""
    images = page.locator(selector)
    await expect(images).to_have_count(count)
    await page.wait_for_function(
        """selector => [...document.querySelectorAll(selector)]
            .every(image => image.complete && image.naturalWidth > 0)""",
        arg=selector,
        timeout=WAIT_MS,
    )
    return await images.evaluate_all(
        "images => images.map(image => new URL(image.currentSrc).pathname.split('/').pop())"
    )


async def screenshots(
    page: Page, artifacts_dir: Path, name: str, path: str, images: tuple[str, int] | None = None
) -> dict[str, int]:
    """Full-page screenshots of ``path`` at each viewport, as journey-NAME-DEVICE.png;
    answers the page widths that overflowed their viewport (sideways scrolling)."""
    overflowing: dict[str, int] = {}
    for device, (width, height) in VIEWPORTS.items():
        await page.set_viewport_size({"width": width, "height": height})
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await expect(page.locator("main")).to_be_visible()
        if images is not None:
            await wait_for_images(page, *images)
        file = artifacts_dir / f"journey-{name}-{device}.png"
        await page.screenshot(path=str(file), full_page=True)
        assert file.stat().st_size > 0
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            overflowing[f"{name} at {width}px"] = scroll_width
    width, height = VIEWPORTS["desktop"]
    await page.set_viewport_size({"width": width, "height": height})
    return overflowing
