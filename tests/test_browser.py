"""The pages' JavaScript in a real browser: user text stays inert, "load more" appends the
right posts, pages still work without JavaScript, times read well, and screenshots of the
main pages for people to look at (tests/artifacts/)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.browser import (
    CHROMIUM,
    WAIT_MS,
    Browsing,
    Member,
    card_items,
    chromium,
    log_in,
    outer_html,
    scroll_to_bottom,
    shown_post_ids,
)
from tests.test_uploads import photo_post

# No silent skip: without the browser these tests fail and say what to install
# (.ci/run installs it on a fresh machine).
assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"

PAGE_SIZE = 20
XSS_NAME = '<img src=x onerror="window.__xss=1">'
XSS_BODIES = [
    "<script>window.__xss=2</script>",
    '<img src=x onerror="window.__xss=3">',
    '"><svg onload="window.__xss=4"></svg>',
    '</p><iframe srcdoc="<script>parent.__xss=5</script>"></iframe>',
]
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
async def browsing(client) -> AsyncIterator[Browsing]:
    """A Chromium per test: Playwright's connection belongs to the event loop that started
    it, and every test (with its app server) runs in its own loop. Launching takes about
    a second. Fails the test if any page threw an uncaught error."""
    async with chromium() as browser:
        browsing = Browsing(browser, str(client.make_url("/")))
        try:
            yield browsing
        finally:
            await browsing.close()
    assert not browsing.page_errors, browsing.page_errors


@pytest.fixture
def member(client, make_client, factory, login):
    """A new confirmed account, logged in with its own HTTP client."""

    async def make() -> Member:
        account = await factory.user()
        http = await make_client(client)
        await login(http, account)
        return Member(account, http)

    return make


async def post_bodies(page: Page) -> dict[int, str]:
    """Each shown post's id and the exact text of its body."""
    pairs = await page.locator("article.post").evaluate_all(
        """articles => articles.map(article => [
            article.dataset.postId,
            article.querySelector('.post-body')?.textContent ?? null,
        ])"""
    )
    return {int(post_id): body for post_id, body in pairs}


async def assert_inert(page: Page, expected_bodies: dict[int, str]) -> None:
    """Every payload reads as the literal text it was typed as, and none of it became
    markup or ran."""
    assert await post_bodies(page) == expected_bodies
    shown = await page.locator("main").inner_text()
    assert "<script>" in shown
    for body in set(expected_bodies.values()):
        assert body in shown
    names = await page.locator("article.post .post-name").all_inner_texts()
    assert names and set(names) == {XSS_NAME}
    assert await page.evaluate("typeof window.__xss") == "undefined"
    found = await page.evaluate(
        """() => ({
            scripts: [...document.scripts].map(script => script.src),
            markup: document.querySelectorAll(
                'main script, img[src="x"], main svg:not(.icon):not(.photo-space), iframe,'
                    + ' [onerror], [onload]').length,
        })"""
    )
    # Only our own script files: nothing a user wrote became a script.
    assert found["scripts"] and all(
        urlsplit(src).path.startswith("/static/") for src in found["scripts"]
    )
    assert found["markup"] == 0


async def test_user_text_stays_inert_on_every_page_and_after_load_more(
    browsing: Browsing, member, factory
) -> None:
    author = await member()
    await author.set_profile(display_name=XSS_NAME)
    # The oldest four (reached only by "load more") and the newest two are payloads.
    bodies = [*XSS_BODIES, *(f"Ordinary post {n}" for n in range(1, 20)), *XSS_BODIES[:2]]
    created = await author.posts(bodies)
    expected = {post["id"]: post["body"] for post in reversed(created)}
    first_page = dict(list(expected.items())[:PAGE_SIZE])
    reader = await factory.user()

    # The page's CSP would stop inline handlers anyway; bypass it so that the escaping
    # itself is what is tested.
    page = await browsing.page(bypass_csp=True)
    await log_in(page, reader)

    await page.goto(f"/@{author.username}")
    assert XSS_NAME in await page.title()
    await expect(page.get_by_role("heading", level=1)).to_have_text(XSS_NAME)
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    await assert_inert(page, first_page)
    await scroll_to_bottom(page)
    await expect(page.locator("a.load-more")).to_have_count(0)
    await assert_inert(page, expected)

    await page.goto("/")
    await assert_inert(page, first_page)
    await scroll_to_bottom(page)
    await expect(page.locator("article.post")).to_have_count(len(expected))
    await expect(page.locator("a.load-more")).to_have_count(0)
    await assert_inert(page, expected)

    payload_post = created[0]
    await page.goto(payload_post["url"])
    await assert_inert(page, {payload_post["id"]: payload_post["body"]})


async def element_shapes(page: Page, post_id: int) -> list[list[str | None]]:
    """A post's markup as a person meets it: each element's tag, class, link, tooltip,
    direction and own text, top to bottom."""
    return await page.locator(f"#post-{post_id}").evaluate(
        """article => [article, ...article.querySelectorAll('*')].map(element => [
            element.tagName,
            element.getAttribute('class'),
            element.getAttribute('href'),
            element.getAttribute('title'),
            element.getAttribute('dir'),
            [...element.childNodes].filter(node => node.nodeType === Node.TEXT_NODE)
                .map(node => node.textContent).join('').replace(/\\s+/g, ' ').trim(),
        ])"""
    )


async def test_load_more_appends_older_posts_in_order_without_navigating(
    browsing: Browsing, member
) -> None:
    author, reader = await member(), await member()
    await author.posts([f"Post number {n}" for n in range(1, 46)])
    await reader.follow(author)
    api_order = await reader.feed_ids("/api/snapline/v1/timeline")
    assert len(api_order) == 45

    page = await browsing.page(viewport={"width": 1280, "height": 800})
    await log_in(page, reader.account)
    await page.goto("/")
    home_url = page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await page.evaluate("window.__sameDocument = true")
    assert await shown_post_ids(page) == api_order[:20]

    await scroll_to_bottom(page)
    await expect(page.locator("article.post")).to_have_count(40)
    assert await shown_post_ids(page) == api_order[:40]
    await expect(page.locator("a.load-more")).to_have_text("Older posts")

    await scroll_to_bottom(page)
    await expect(page.locator("article.post")).to_have_count(45)
    await expect(page.locator("a.load-more")).to_have_count(0)
    await expect(page.locator("p.more")).to_have_count(0)
    shown = await shown_post_ids(page)
    assert shown == api_order
    assert len(set(shown)) == len(shown)
    assert page.url == home_url
    assert navigations == []
    assert await page.evaluate("window.__sameDocument") is True
    # The last post appended by the script, its body as written.
    last = page.locator(f"#post-{api_order[-1]}")
    await expect(last.locator(".post-body")).to_have_text("Post number 1")
    await expect(last.locator(".post-name")).to_have_text(author.username)


async def test_posts_added_by_load_more_are_the_cards_the_server_renders(
    browsing: Browsing, member, db, tmp_path: Path
) -> None:
    author, reader = await member(), await member()
    await author.set_profile(display_name="Ada Lovelace")
    # The oldest page: a post of two photos, one of a photo and text, and a text post.
    album = await photo_post(db, author.account.id, tmp_path, "", ["Sand", "Sea <&> sky"])
    captioned = await photo_post(db, author.account.id, tmp_path, "Look \u202e here", ["Dog"])
    await author.posts([f"Post number {n}" for n in range(1, 22)])
    await reader.follow(author)
    await reader.http.post(
        f"/api/snapline/v1/posts/{captioned}/like", headers={"X-CSRF-Token": await reader.token()}
    )
    order = await reader.feed_ids("/api/snapline/v1/timeline")
    assert order[-2:] == [captioned, album]
    loaded_ids = order[PAGE_SIZE:]

    # The author's profile opens on the grid of photos; its cards are the "Posts" tab.
    for who, path in ((reader, "/"), (author, f"/@{author.username}?tab=posts")):
        scripted = await browsing.page()
        await log_in(scripted, who.account)
        await scripted.goto(path)
        next_page = await scripted.locator("a.load-more").get_attribute("href")
        await scroll_to_bottom(scripted)
        await expect(scripted.locator("article.post")).to_have_count(len(order))
        loaded = await outer_html(scripted, card_items(loaded_ids))
        # The photos of the inserted cards load, each in its 300 px width (all that an
        # upright 300x400 photo has).
        thumbnails = scripted.locator(f"#post-{album} .photos-2 img")
        await expect(thumbnails).to_have_count(2)
        for n in range(2):
            await expect(thumbnails.nth(n)).to_have_js_property("complete", True)
            source = await thumbnails.nth(n).evaluate("image => image.currentSrc")
            assert source.endswith("/w300.webp"), source
        # The same page served whole, in the same session (so with the same CSRF token in
        # its forms): the same markup, byte for byte but for the relative times.
        await scripted.goto(path.partition("?")[0] + next_page)
        assert await outer_html(scripted, card_items(loaded_ids)) == loaded
        assert len(loaded) == 3 and "Sea &lt;&amp;&gt; sky" in loaded[2]
        assert ("/delete" in loaded[0]) is (who is author)

    # Shapes as a person meets them, against the page without any script at all.
    scripted = await browsing.page()
    await log_in(scripted, reader.account)
    await scripted.goto("/")
    next_page = await scripted.locator("a.load-more").get_attribute("href")
    # Scrolled to, not clicked: the link loads as it nears the viewport, and is gone
    # once the last page is in, so a click could land on nothing.
    await scroll_to_bottom(scripted)
    await expect(scripted.locator("article.post")).to_have_count(len(order))
    plain = await browsing.page(java_script_enabled=False)
    await log_in(plain, reader.account)
    await plain.goto(f"/{next_page}")
    for post_id in loaded_ids:
        assert await element_shapes(scripted, post_id) == await element_shapes(plain, post_id)
    # Each user's text isolated from what follows it, by the script as by the server.
    for selector in (".post-name", ".post-body"):
        await expect(scripted.locator(f"#post-{captioned} {selector}")).to_have_attribute(
            "dir", "auto"
        )


async def test_a_tag_page_loads_more_of_the_servers_cards_and_its_links_lead_on(
    browsing: Browsing, member, factory
) -> None:
    """A tag's page loads older posts like the feed, and the cards it inserts link their
    tags and mentions as the page served whole does; following a tag or a mention leads
    to its page."""
    author, reader = await member(), await member()
    tag = factory.unique("Walk")
    bodies = [
        f"<b>walk</b> {n} #{tag} with @{reader.username} and @nobody_at_all \u202e#夜"
        for n in range(1, 26)
    ]
    created = await author.posts(bodies)
    loaded_ids = [post["id"] for post in created][: 25 - PAGE_SIZE][::-1]
    page = await browsing.page()
    await log_in(page, reader.account)
    await page.goto(f"/tags/{tag.lower()}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"#{tag}")
    next_page = await page.locator("a.load-more").get_attribute("href")
    await scroll_to_bottom(page)
    await expect(page.locator("article.post")).to_have_count(25)
    loaded = await outer_html(page, card_items(loaded_ids))
    assert f'<a class="mention" href="/@{reader.username}">@{reader.username}</a>' in loaded[0]
    assert "&lt;b&gt;walk&lt;/b&gt;" in loaded[0] and "@nobody_at_all" in loaded[0]
    await page.goto(f"/tags/{tag.lower()}{next_page}")
    assert await outer_html(page, card_items(loaded_ids)) == loaded
    await page.locator(f"#post-{loaded_ids[0]} a.hashtag", has_text="#夜").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("#夜")
    await page.locator(f"#post-{created[-1]['id']} a.mention").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(reader.username)


async def test_people_and_comments_added_by_load_more_are_the_servers_markup(
    browsing: Browsing, member, factory
) -> None:
    author, reader = await member(), await member()
    await reader.follow(author)
    for _ in range(PAGE_SIZE + 1):
        await factory.follow(await factory.user(), author.account)
    post = await author.post("Comment on this")
    for n in range(PAGE_SIZE + 2):
        commenter = reader.account if n % 3 == 0 else author.account
        await factory.comment(commenter, post["id"], f"Comment {n} <i>as typed</i>")

    page = await browsing.page()
    # As in a browser without IntersectionObserver: only a click on the link loads more.
    await page.add_init_script("delete window.IntersectionObserver")
    await log_in(page, reader.account)
    lists = {
        f"/@{author.username}/followers": ("li.person", "More", PAGE_SIZE + 2),
        post["url"]: (".comment-list li.comment", "More comments", PAGE_SIZE + 2),
    }
    for path, (items, more, count) in lists.items():
        await page.goto(path)
        next_page = await page.locator("a.load-more").get_attribute("href")
        assert next_page is not None
        await page.get_by_role("link", name=more).click()
        await expect(page.locator(items)).to_have_count(count)
        await expect(page.locator("a.load-more")).to_have_count(0)
        # The link went with the last page: the keyboard goes on from the first item it
        # brought (made focusable for that, the one thing the script adds to the markup).
        first_loaded = page.locator(items).nth(PAGE_SIZE)
        await expect(first_loaded).to_be_focused()
        await first_loaded.evaluate("item => item.removeAttribute('tabindex')")
        loaded = (await outer_html(page, items))[PAGE_SIZE:]
        await page.goto(path.split("#")[0] + next_page)
        assert await outer_html(page, items) == loaded, path
    # The reader's own comments carry their delete button, the others none.
    assert [("comment-delete" in item) for item in loaded] == [False, True]


async def test_older_posts_link_works_without_javascript(browsing: Browsing, member) -> None:
    author, reader = await member(), await member()
    await author.posts([f"Post number {n}" for n in range(1, 46)])
    await reader.follow(author)
    api_order = await reader.feed_ids("/api/snapline/v1/timeline")

    page = await browsing.page(java_script_enabled=False)
    await log_in(page, reader.account)
    await page.goto("/")
    assert await shown_post_ids(page) == api_order[:20]

    await page.get_by_role("link", name="Older posts").click()
    await expect(page).to_have_url(re.compile(r"/\?cursor="))
    assert await shown_post_ids(page) == api_order[20:40]
    second_page_url = page.url

    await page.get_by_role("link", name="Older posts").click()
    await expect(page).not_to_have_url(second_page_url)
    assert await shown_post_ids(page) == api_order[40:]
    await expect(page.get_by_text("Post number 1", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="Older posts")).to_have_count(0)


async def test_screenshots_of_the_main_pages(
    browsing: Browsing, member, artifacts_dir: Path
) -> None:
    author, reader = await member(), await member()
    await author.set_profile(
        display_name="Ada Lovelace",
        location="London",
        bio="Mathematician. Writes about engines, numbers and the occasional cat photo.",
    )
    posts = await author.posts(
        [
            "First light over the harbour this morning. 🌅",
            "A longer post to see how text wraps: " + "the quick brown fox jumps over " * 8,
            "Line one\nLine two\n\nA paragraph after an empty line.",
            "https://example.com/a/very/long/link/that/does/not/break/anywhere/by/itself/"
            "and/keeps/going/for/a/while",
        ]
    )
    await reader.set_profile(display_name="Grace Hopper")
    await reader.post("Hello from the reader's own timeline.")
    await reader.follow(author)

    shots = {
        "home": "/",
        "profile": f"/@{author.username}",
        "post": posts[1]["url"],
        "signup": "/signup",
    }
    overflowing: dict[str, int] = {}
    for device, (width, height) in VIEWPORTS.items():
        viewport = {"width": width, "height": height}
        signed_in = await browsing.page(viewport=viewport)
        await log_in(signed_in, reader.account)
        signed_out = await browsing.page(viewport=viewport)
        for name, path in shots.items():
            page = signed_out if name == "signup" else signed_in
            response = await page.goto(path)
            assert response is not None and response.status == 200
            await expect(page.locator("main")).to_be_visible()
            file = artifacts_dir / f"browser-{name}-{device}-{width}x{height}.png"
            await page.screenshot(path=str(file), full_page=True)
            assert file.stat().st_size > 0
            scroll_width = await page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                overflowing[f"{name} at {width}px"] = scroll_width
    # Nothing may push the page sideways: on a phone that means scrolling left and right.
    assert not overflowing, overflowing


async def test_post_times_show_relative_text_and_exact_title(
    browsing: Browsing, member, db
) -> None:
    author = await member()
    older, fresh = await author.posts(["Posted a while ago", "Posted just now"])
    async with db.begin() as session:
        await session.execute(
            text(
                "UPDATE posts SET created_at = created_at - interval '5 minutes',"
                " published_at = published_at - interval '5 minutes' WHERE id = :id"
            ),
            {"id": older["id"]},
        )
    response = await author.http.get(f"/api/snapline/v1/posts/{older['id']}")
    older = await response.json()

    def exact(iso: str) -> str:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    page = await browsing.page()
    await page.clock.install(time=datetime.now(UTC))
    await log_in(page, author.account)
    await page.goto(f"/@{author.username}")
    fresh_time = page.locator(f"#post-{fresh['id']} time")
    older_time = page.locator(f"#post-{older['id']} time")
    await expect(fresh_time).to_have_attribute("title", exact(fresh["published_at"]))
    await expect(older_time).to_have_attribute("title", exact(older["published_at"]))
    await expect(fresh_time).to_have_text("just now")
    await expect(older_time).to_have_text("5 min ago")
    datetime_attribute = await fresh_time.get_attribute("datetime")
    assert datetime_attribute is not None
    shown = datetime.fromisoformat(datetime_attribute.replace("Z", "+00:00"))
    assert abs(shown - datetime.fromisoformat(fresh["published_at"])) < timedelta(seconds=1)

    # The page keeps the relative times true while it stays open.
    await page.clock.fast_forward("02:00")
    await expect(fresh_time).to_have_text("2 min ago", timeout=WAIT_MS)
    await expect(older_time).to_have_text("7 min ago", timeout=WAIT_MS)
    await expect(fresh_time).to_have_attribute("title", exact(fresh["published_at"]))

    # Without JavaScript the server's own wording is the same.
    plain = await browsing.page(java_script_enabled=False)
    await log_in(plain, author.account)
    await plain.goto(f"/@{author.username}")
    await expect(plain.locator(f"#post-{fresh['id']} time")).to_have_text("just now")
    await expect(plain.locator(f"#post-{older['id']} time")).to_have_text("5 min ago")
    await expect(plain.locator(f"#post-{older['id']} time")).to_have_attribute(
        "title", exact(older["published_at"])
    )


async def test_blocking_from_the_profile_menu_hides_them_and_unblocking_from_settings(
    browsing, factory
):
    """The profile's "..." menu opens, "Block" blocks: their posts go, the follow ends and
    the menu offers "Unblock"; the settings list unblocks them again."""
    me, them = await factory.user(), await factory.user()
    await factory.follow(me, them)
    await factory.post(them, "words to be blocked")
    page = await browsing.page()
    await log_in(page, me)
    await page.goto(browsing.url(f"/@{them.username}"))
    await expect(page.get_by_text("words to be blocked")).to_be_visible()
    block = page.get_by_role("button", name=f"Block @{them.username}")
    await expect(block).to_be_hidden()  # inside the closed menu
    await page.get_by_label(f"More for @{them.username}").click()
    await block.click()
    await expect(page.get_by_text(f"You blocked @{them.username}.")).to_be_visible()
    await expect(page.get_by_text("words to be blocked")).to_have_count(0)
    await expect(page.get_by_role("button", name="Unfollow")).to_have_count(0)
    await page.goto(browsing.url("/settings/blocks"))
    await page.get_by_role("button", name=f"Unblock @{them.username}").click()
    await expect(page.get_by_text(f"You unblocked @{them.username}.")).to_be_visible()
    await expect(page.get_by_text("You have not blocked anyone.")).to_be_visible()
    await page.goto(browsing.url(f"/@{them.username}"))
    # Unblocking restores no follow.
    await expect(page.get_by_role("button", name="Follow", exact=True)).to_be_visible()
