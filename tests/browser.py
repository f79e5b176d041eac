"""Browser plumbing for tests/test_browser.py: Debian's Chromium driven by Playwright,
headless and offline, plus people who arrange state through the app's own HTTP API."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.support import Account, csrf_for, submit, untimed

# Debian's package, never a browser downloaded by Playwright.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every wait is bounded: a page that never shows what we wait for fails in seconds.
WAIT_MS = 5_000
LAUNCH_TIMEOUT_MS = 30_000


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium on the running event loop, closed (with its driver) on exit."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=LAUNCH_TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            await browser.close()


class Browsing:
    """Fresh browser contexts (cookie jars) on the test server; records uncaught page
    errors, and closes every context it opened."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.page_errors: list[str] = []
        self._contexts: list[BrowserContext] = []

    async def page(self, **context_options: Any) -> Page:
        context = await self.browser.new_context(base_url=self.base_url, **context_options)
        self._contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        return page

    def url(self, path: str) -> str:
        return self.base_url + path

    async def close(self) -> None:
        while self._contexts:
            await self._contexts.pop().close()


async def log_in(page: Page, account: Account) -> None:
    """Through the real login form, as a person would."""
    await page.goto("/login")
    await page.get_by_label("Username or email").fill(account.username)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_attached(timeout=WAIT_MS)


async def shown_post_ids(page: Page) -> list[int]:
    """The ids of the posts on the page, top to bottom."""
    ids = await page.locator("article.post").evaluate_all(
        "articles => articles.map(article => article.dataset.postId)"
    )
    return [int(post_id) for post_id in ids]


async def outer_html(page: Page, selector: str) -> list[str]:
    """The markup of what ``selector`` finds, as the page holds it now, without the text of
    its times (see untimed)."""
    found = await page.locator(selector).evaluate_all("nodes => nodes.map(node => node.outerHTML)")
    return [untimed(html) for html in found]


def card_items(post_ids: list[int]) -> str:
    """The list items (<li>) of these posts' cards."""
    return ", ".join(f"li:has(> #post-{post_id})" for post_id in post_ids)


async def scroll_to_bottom(page: Page) -> None:
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")


@dataclasses.dataclass
class Member:
    """A confirmed, logged-in account with its own HTTP client, to arrange state through
    the same API and forms the app offers."""

    account: Account
    http: TestClient
    _token: str | None = None

    @property
    def username(self) -> str:
        return self.account.username

    async def token(self) -> str:
        if self._token is None:
            self._token = await csrf_for(self.http, "/")
        return self._token

    async def post(self, body: str) -> dict[str, Any]:
        response = await self.http.post(
            "/api/snapline/v1/posts",
            json={"body": body},
            headers={"X-CSRF-Token": await self.token()},
        )
        assert response.status == 201, await response.text()
        return await response.json()

    async def posts(self, bodies: list[str]) -> list[dict[str, Any]]:
        """Posts each body in turn, so the last one is the newest."""
        return [await self.post(body) for body in bodies]

    async def follow(self, other: Member | Account) -> None:
        response = await self.http.post(
            f"/api/snapline/v1/users/{other.username}/follow",
            headers={"X-CSRF-Token": await self.token()},
        )
        assert response.status == 200, await response.text()

    async def set_profile(self, display_name: str = "", location: str = "", bio: str = "") -> None:
        response = await submit(
            self.http,
            "/settings/profile",
            {"display_name": display_name, "location": location, "bio": bio},
            page="/settings/profile",
        )
        assert response.status == 303, await response.text()

    async def feed_ids(self, api_path: str) -> list[int]:
        """Every post id of a JSON feed, in the API's order, following its cursors."""
        ids: list[int] = []
        params: dict[str, str] = {}
        while True:
            response = await self.http.get(api_path, params=params)
            assert response.status == 200, await response.text()
            page = await response.json()
            ids += [item["id"] for item in page["items"]]
            if not page["next_cursor"]:
                return ids
            params = {"cursor": page["next_cursor"]}
