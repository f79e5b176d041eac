"""The whole journey of two people in a real browser, through nginx in front of two `serve`
processes, with mail delivered by SMTP: both sign up and confirm from the email they
received; one follows the other, who posts two photos with alt text from the composer; the
follower's open home timeline announces the post live (never while it is processing), and
they like it in place, comment without a reload and load older posts; the author's badge
counts it all live; and after logging out the back button shows nothing private.

Screenshots of the main pages at desktop and phone widths go to tests/artifacts/."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.browser import CHROMIUM, Browsing, chromium, scroll_to_bottom, shown_post_ids
from tests.conftest import TEST_PASSWORD
from tests.journey import (
    VIEWPORTS,
    chromium_with_back_forward_cache,
    csrf_token,
    logged_errors,
    mark_document,
    processing_seen,
    same_document,
    screenshots,
    smtp_nginx_stack,
    wait_for_images,
    watch_for_processing,
    write_photo,
)
from tests.nginx import NGINX, Stack
from tests.support import LINK, SmtpServer

assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
assert NGINX.exists(), f"no nginx at {NGINX}: apt-get install nginx"

PAGE_SIZE = 20
# More than a page, so that "load more" has something to bring.
OLDER_POSTS = PAGE_SIZE + 4
# Live events arrive within a second; a few seconds leave room on a loaded machine.
LIVE_WAIT_MS = 5_000
# Rendering two photos, on a busy two-core machine.
PROCESSING_WAIT_MS = 20_000
NAVIGATION_ENTRY = """() => {
    const entry = performance.getEntriesByType('navigation')[0];
    return {type: entry.type, transferSize: entry.transferSize};
}"""
ALTS = ("A green hill under a blue sky at noon", "The same hill at sunset, the sun low")


@pytest.fixture
def stack(database_url: str, smtp_server: SmtpServer) -> Iterator[Stack]:
    with smtp_nginx_stack(database_url, smtp_server.port) as stack:
        yield stack
        errors = logged_errors(stack)
        assert not errors, "\n".join(json.dumps(entry) for entry in errors)


@pytest.fixture
async def browsing(stack: Stack, db) -> AsyncIterator[Browsing]:
    """Chromium on nginx's address; fails the test on an uncaught page error or a request
    that left the machine."""
    # Rate-limit windows are shared by the whole test session.
    async with db.begin() as session:
        await session.execute(text("DELETE FROM rate_limit_counters"))
    async with chromium() as browser:
        browsing = Browsing(browser, stack.nginx.base)
        try:
            yield browsing
        finally:
            await browsing.close()
    assert not browsing.page_errors, browsing.page_errors


async def new_page(browsing: Browsing, outside: list[str]) -> Page:
    width, height = VIEWPORTS["desktop"]
    page = await browsing.page(viewport={"width": width, "height": height})

    def note(request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http:", "https:")) and host != "127.0.0.1":
            outside.append(request.url)

    page.context.on("request", note)
    return page


async def log_out_and_go_back(page: Page, username: str, post_id: int) -> None:
    """From the home timeline: log out, press the back button, and find nothing of the
    signed-in page: a new document (not the old one kept in memory), the signed-out front
    page (what trends)."""
    await page.goto("/")
    await expect(page.locator(f"#post-{post_id} .like-button")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav).to_contain_text(username)
    await mark_document(page)
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_text("You have logged out.")).to_be_visible()
    await expect(nav.get_by_role("link", name="Log in")).to_be_visible()

    await page.go_back(wait_until="commit")
    await page.wait_for_load_state("load")
    await expect(page).to_have_url(re.compile(r"/$"))
    assert not await same_document(page), f"the back button brought back {username}'s page"
    await expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    await expect(page.get_by_role("heading", name="Share photos with")).to_be_visible()
    await expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    await expect(page.locator("body")).not_to_have_attribute("data-viewer", re.compile("."))
    await expect(nav).not_to_contain_text(username)
    await expect(page.locator(".compose-form")).to_have_count(0)
    await expect(page.locator(".count-badge")).to_have_count(0)
    await expect(page.locator(".like-button")).to_have_count(0)


async def sign_up_and_confirm(
    page: Page, smtp_server: SmtpServer, stack: Stack, username: str
) -> None:
    """Through the sign-up form, then the link of the email the SMTP server received."""
    address = f"{username}@example.com"
    await page.goto("/signup")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_text("Check your email to confirm")).to_be_visible()
    # Signing up does not sign in (a taken address must get the very same answer).
    await expect(page.locator("body")).not_to_have_attribute("data-viewer", re.compile("."))

    (message,) = await smtp_server.inbox.wait_for(address)
    match = LINK.search(message.get_body(preferencelist=("plain",)).get_content())
    assert match, message.as_string()
    link = match.group(0)
    assert link.startswith(f"{stack.public_url}/confirm/"), link
    await page.goto(link)
    await expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    await page.get_by_label("Username or email").fill(address)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("body")).to_have_attribute("data-viewer", username)
    await expect(page.get_by_text("Confirm your email address to post")).to_have_count(0)


async def test_two_people_sign_up_follow_post_photos_interact_and_log_out(
    stack: Stack,
    browsing: Browsing,
    smtp_server: SmtpServer,
    tmp_path: Path,
    artifacts_dir: Path,
    readme_images_dir: Path,
) -> None:
    ann, bob = f"ann_{secrets.token_hex(4)}", f"bob_{secrets.token_hex(4)}"
    outside: list[str] = []
    overflowing: dict[str, int] = {}
    ann_page = await new_page(browsing, outside)
    bob_page = await new_page(browsing, outside)

    # --- Sign-up page (signed out), then both sign up and confirm from their email.
    overflowing |= await screenshots(ann_page, artifacts_dir, "signup", "/signup")
    await sign_up_and_confirm(ann_page, smtp_server, stack, ann)
    await sign_up_and_confirm(bob_page, smtp_server, stack, bob)

    # --- Bob's older posts, through the JSON API with his session and CSRF token.
    token = await csrf_token(bob_page)
    older: list[int] = []
    for number in range(1, OLDER_POSTS + 1):
        response = await bob_page.context.request.post(
            "/api/snapline/v1/posts",
            data={"body": f"Older post number {number} from the hills"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status == 201, await response.text()
        older.append((await response.json())["id"])

    # --- Ann follows Bob from his profile.
    await ann_page.goto(f"/@{bob}")
    await ann_page.get_by_role("button", name="Follow", exact=True).click()
    await expect(ann_page.get_by_role("button", name="Unfollow")).to_be_visible()
    await expect(ann_page).to_have_url(re.compile(rf"/@{bob}$"))
    await expect(ann_page.get_by_text("1 follower", exact=True)).to_be_visible()

    # --- Ann's home timeline is open and live: Bob's newest page of posts.
    await ann_page.goto("/")
    assert await shown_post_ids(ann_page) == older[::-1][:PAGE_SIZE]
    await expect(ann_page.locator("body")).to_have_attribute("data-live", "open")
    banner = ann_page.locator(".new-posts")
    await expect(banner).to_be_hidden()
    await watch_for_processing(ann_page)
    assert await processing_seen(ann_page) == []
    await mark_document(ann_page)

    # --- Bob posts two photos with alt text from the composer on his home page.
    await bob_page.goto("/")
    await expect(bob_page.locator("body")).to_have_attribute("data-live", "open")
    await expect(bob_page.locator(".count-badge")).to_have_attribute("data-unread", "1")
    photos = [
        write_photo(tmp_path / "noon.jpg", (640, 480), "#6fa8dc", "#38761d", "#ffd966"),
        write_photo(tmp_path / "sunset.jpg", (480, 640), "#e69138", "#274e13", "#cc0000"),
    ]
    # Both at once, with the one file input: a preview of each, in order, to describe.
    await bob_page.get_by_label("Add photos").set_input_files([str(photo) for photo in photos])
    cards = bob_page.locator(".photo-card")
    await expect(cards).to_have_count(len(photos))
    for number, (photo, alt) in enumerate(zip(photos, ALTS, strict=True), start=1):
        await expect(cards.nth(number - 1)).to_contain_text(photo.name)
        await expect(cards.nth(number - 1).locator("img.photo-preview")).to_be_visible()
        await bob_page.get_by_label(f"Description of photo {number} (alt text)").fill(alt)
    await bob_page.get_by_label("What's new").fill("Two views of the same hill")
    await bob_page.get_by_role("button", name="Post", exact=True).click()
    await bob_page.wait_for_url(re.compile(r"/p/\d+$"))
    post_id = int(bob_page.url.rsplit("/", 1)[1])
    post_path = f"/p/{post_id}"
    # Back on his home page, where his notification badge is live.
    await bob_page.goto("/")

    # --- Ann is told once the photos are ready, and never sees the post processing.
    await expect(banner).to_be_visible(timeout=PROCESSING_WAIT_MS)
    await expect(banner).to_have_text("1 new post")
    await expect(ann_page.locator(f"#post-{post_id}")).to_have_count(0)
    await banner.get_by_role("button").click()
    post = ann_page.locator(f"#post-{post_id}")
    await expect(post).to_be_visible()
    await expect(banner).to_be_hidden()
    assert (await shown_post_ids(ann_page))[:2] == [post_id, older[-1]]
    await expect(post.locator(".post-body")).to_have_text("Two views of the same hill")
    thumbs = post.locator(".photos-2 img")
    await expect(thumbs).to_have_count(2)
    for number, alt in enumerate(ALTS):
        await expect(thumbs.nth(number)).to_have_attribute("alt", alt)
    # The photos load through nginx, each in the width the carousel's 654 px needs at 1x:
    # each its own widest (640 px and 480 px), as the 320 px ones are short of it.
    shown = await wait_for_images(ann_page, f"#post-{post_id} .photos img", 2)
    assert shown == ["w640.webp", "w480.webp"]
    assert await processing_seen(ann_page) == []

    # --- Ann likes it in place.
    like = post.locator(".like-button")
    await expect(like).to_have_attribute("aria-pressed", "false")
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(like.locator(".like-count")).to_have_text("1")
    await expect(bob_page.locator(".count-badge")).to_have_attribute(
        "data-unread", "2", timeout=LIVE_WAIT_MS
    )

    # --- Ann scrolls: "load more" appends Bob's older posts, none twice.
    await scroll_to_bottom(ann_page)
    await expect(ann_page.locator("article.post")).to_have_count(OLDER_POSTS + 1)
    await expect(ann_page.locator("a.load-more")).to_have_count(0)
    assert await shown_post_ids(ann_page) == [post_id, *older[::-1]]
    await expect(
        ann_page.get_by_text("Older post number 1 from the hills", exact=True)
    ).to_be_visible()
    assert await same_document(ann_page), "the home page reloaded"
    assert ann_page.url == stack.nginx.base + "/"

    # --- Ann comments on the post page; the comment appears without a reload.
    await post.locator("a.post-time").click()
    await ann_page.wait_for_url(re.compile(rf"{post_path}$"))
    full = ann_page.locator("img.photo-full")
    for number, alt in enumerate(ALTS):
        await expect(full.nth(number)).to_have_attribute("alt", alt)
    assert await wait_for_images(ann_page, "img.photo-full", 2) == ["w640.webp", "w480.webp"]
    # Where Bob's photos are stored: "/media/photos/<prefix>/" of each.
    photo_folders = {
        src.rsplit("/", 1)[0] + "/" for src in await full.evaluate_all("i => i.map(x => x.src)")
    }
    await mark_document(ann_page)
    await ann_page.get_by_label("Add a comment").fill("What a view! Which hill is it?")
    await ann_page.get_by_role("button", name="Comment", exact=True).click()
    comment = ann_page.locator(".comment-list .comment")
    await expect(comment).to_have_count(1)
    await expect(comment.locator(".comment-body")).to_have_text("What a view! Which hill is it?")
    await expect(ann_page.get_by_label("Add a comment")).to_have_value("")
    assert await same_document(ann_page), "the post page reloaded"

    # --- Bob's badge counted the follow, the like and the comment live; his
    # notifications list them.
    badge = bob_page.locator(".count-badge")
    await expect(badge).to_have_attribute("data-unread", "3", timeout=LIVE_WAIT_MS)
    await expect(badge).to_be_visible()
    await bob_page.get_by_role("link", name="Notifications").click()
    items = bob_page.locator(".notification")
    await expect(items).to_have_count(3)
    await expect(items.nth(0)).to_contain_text("commented on")
    await expect(items.nth(1)).to_contain_text("liked")
    await expect(items.nth(2)).to_contain_text("followed you")
    for number in range(3):
        await expect(items.nth(number)).to_contain_text(ann)

    # --- Screenshots: the home timeline, a profile and the post page, at both widths.
    photo_thumbs = (f"#post-{post_id} .photos img", 2)
    # A profile opens on its grid: the post's tile, its first photo.
    photo_tile = (f"#tile-{post_id} img", 1)
    overflowing |= await screenshots(ann_page, artifacts_dir, "home", "/", photo_thumbs)
    overflowing |= await screenshots(ann_page, artifacts_dir, "profile", f"/@{bob}", photo_tile)
    overflowing |= await screenshots(
        ann_page, artifacts_dir, "post", post_path, ("img.photo-full", 2)
    )
    # Nothing may push a page sideways: on a phone that means scrolling left and right.
    assert not overflowing, overflowing
    # The README's pictures, on a phone as most people will see it: what a visitor sees
    # first of the timeline, a profile and a post, and the timeline in the dark.
    width, height = VIEWPORTS["phone"]
    await ann_page.set_viewport_size({"width": width, "height": height})
    for name, path, images, scheme in (
        ("home", "/", photo_thumbs, "light"),
        ("profile", f"/@{bob}", photo_tile, "light"),
        ("post", post_path, ("img.photo-full", 2), "light"),
        ("home-dark", "/", photo_thumbs, "dark"),
    ):
        await ann_page.emulate_media(color_scheme=scheme)
        await ann_page.goto(path)
        await wait_for_images(ann_page, *images)
        await ann_page.screenshot(path=str(readme_images_dir / f"{name}.png"))
    await ann_page.emulate_media(color_scheme="light")
    width, height = VIEWPORTS["desktop"]
    await ann_page.set_viewport_size({"width": width, "height": height})

    # --- Ann logs out from her home timeline; going back shows nothing private. Pages
    # are sent with Cache-Control: no-store, so the browser asks the server again.
    await log_out_and_go_back(ann_page, ann, post_id)
    navigation = await ann_page.evaluate(NAVIGATION_ENTRY)
    assert navigation["type"] == "back_forward" and navigation["transferSize"] > 0, navigation

    # --- The same in a browser with the back/forward cache on, as people's browsers have
    # it (Playwright turns it off): the page Ann left is not brought back from memory.
    async with chromium_with_back_forward_cache() as browser:
        cached = Browsing(browser, stack.nginx.base)
        try:
            page = await new_page(cached, outside)
            await page.goto("/login")
            await page.get_by_label("Username or email").fill(ann)
            await page.get_by_label("Password").fill(TEST_PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await expect(page.locator("body")).to_have_attribute("data-live", "open")
            await log_out_and_go_back(page, ann, post_id)
        finally:
            await cached.close()
    assert not cached.page_errors, cached.page_errors

    # Every request for Bob's photos through nginx was answered. (Pages such as explore may
    # also show posts that earlier tests left in the shared database, stored elsewhere.)
    media = [
        entry
        for entry in stack.nginx.access_log()
        if any(
            entry["uri"].startswith(folder.removeprefix(stack.nginx.base))
            for folder in photo_folders
        )
    ]
    assert len(photo_folders) == 2 and media, (photo_folders, stack.nginx.access_log()[-5:])
    # 499 is nginx's note that the browser itself stopped waiting (a lazy photo it no longer
    # needed as a page went away): not an answer that failed.
    unanswered = [
        f"{entry['uri']} {entry['status']}" for entry in media if entry["status"] not in {200, 499}
    ]
    assert not unanswered, "\n".join(unanswered)
    assert not outside, outside
