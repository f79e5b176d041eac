"""Post views: counted in memory and flushed in one statement (docs/trending.md). A post page
seen counts, and cards a page reports as seen; the author's own views, repeats within the
window, bots and posts the viewer may not see do not; the author alone is told the count;
and a graceful restart loses none."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import aiohttp
import pytest
from playwright.async_api import expect
from sqlalchemy import select

from service.embedded_pg import free_port
from service.keys import view_counter_key
from service.models import Post
from tests.api import Api
from tests.browser import Browsing
from tests.browser import log_in as browser_log_in
from tests.support import csrf_for
from tests.test_browser import browsing, member  # noqa: F401  (fixtures)
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, service_env, wait_until_healthy
from tests.test_media_processes import http_session, log_in

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/130.0"
OTHER_BROWSER = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def views_of(db, post_id: int) -> int:
    async with db() as session:
        return await session.scalar(select(Post.view_count).where(Post.id == post_id))


async def flush(client) -> None:
    await client.app[view_counter_key].flush(client.app)


async def look(client, post_id: int, user_agent: str = BROWSER) -> None:
    response = await client.get(f"/p/{post_id}", headers={"User-Agent": user_agent})
    assert response.status == 200


async def report(client, *post_ids: object, user_agent: str = BROWSER, expect: int = 204):
    token = await csrf_for(client)
    response = await client.post(
        "/views",
        data=[("post", str(post_id)) for post_id in post_ids],
        headers={"X-CSRF-Token": token, "User-Agent": user_agent},
    )
    assert response.status == expect, await response.text()
    return response


async def test_a_post_page_counts_once_per_viewer_and_never_its_author(
    client, make_client, factory, login, db
):
    author, reader = await factory.user(), await factory.user()
    post_id = await factory.post(author)
    await login(client, author)
    await look(client, post_id)  # the author's own view
    other = await make_client(client)
    await login(other, reader)
    await look(other, post_id)
    await look(other, post_id)  # a repeat within the hour
    stranger = await make_client(client)  # signed out
    await look(stranger, post_id)
    await look(stranger, post_id)
    await look(stranger, post_id, OTHER_BROWSER)  # another browser is another viewer
    await look(stranger, post_id, CRAWLER)
    await flush(client)
    assert await views_of(db, post_id) == 3


async def test_reported_cards_count_only_what_the_viewer_may_see(
    client, make_client, factory, login, db
):
    author, reader = await factory.user(), await factory.user()
    public = await factory.post(author, audience="public")
    followers_only = await factory.post(author, audience="followers")
    await login(client, reader)
    await report(client, public, followers_only)
    await report(client, public)  # seen again: a repeat
    await report(client, public, followers_only, user_agent=CRAWLER)
    await flush(client)
    assert await views_of(db, public) == 1
    assert await views_of(db, followers_only) == 0
    await factory.follow(reader, author)
    await report(client, followers_only)
    await flush(client)
    assert await views_of(db, followers_only) == 1


async def test_a_report_of_seen_cards_is_bounded_and_checked(client, factory, login):
    await login(client, await factory.user())
    await report(client, expect=400)
    await report(client, *range(1, 52), expect=400)
    await report(client, "seven", expect=400)
    await report(client, 2**63, expect=400)
    await report(client, *range(1, 51))  # posts that do not exist count nothing
    refused = await client.post("/views", data={"post": "1"})  # no CSRF token
    assert refused.status == 403


async def test_the_author_alone_is_told_the_views(client, make_client, factory, login):
    author, reader = await factory.user(), await factory.user()
    post_id = await factory.post(author)
    other = await make_client(client)
    await login(other, reader)
    await look(other, post_id)
    await flush(client)
    await login(client, author)
    page = await (await client.get(f"/p/{post_id}")).text()
    assert "Seen 1 time by others" in page
    assert (await Api(client).get(f"/api/snapline/v1/posts/{post_id}"))["views"] == 1
    page = await (await other.get(f"/p/{post_id}")).text()
    assert "Seen 1 time" not in page
    assert (await Api(other).get(f"/api/snapline/v1/posts/{post_id}"))["views"] is None


@pytest.mark.deploy
async def test_counted_views_survive_a_graceful_restart(database_url, factory, db, tmp_path):
    author = await factory.user()
    post_id = await factory.post(author)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(
        database_url,
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_APP_PUBLIC_URL=base,
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(tmp_path / "mail"),
        SNAPLINE_STORAGE_LOCAL_PATH=str(tmp_path / "media"),
    )

    async def start() -> subprocess.Popen:
        with (tmp_path / "serve.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "service", "serve", "--no-migrate"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        await wait_until_healthy(base, process)
        return process

    first = await start()
    try:
        for user_agent in (BROWSER, OTHER_BROWSER):
            async with (
                aiohttp.ClientSession(headers={"User-Agent": user_agent}) as http,
                http.get(f"{base}/p/{post_id}") as page,
            ):
                assert page.status == 200
        # Long before the periodic flush: only the graceful stop writes them.
        assert await views_of(db, post_id) == 0
        first.send_signal(signal.SIGTERM)
        assert first.wait(STOP_TIMEOUT_SECONDS) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(STOP_TIMEOUT_SECONDS)
    assert await views_of(db, post_id) == 2
    second = await start()
    try:
        async with http_session() as http:
            await log_in(http, base, author.username, author.password)
            async with http.get(f"{base}/p/{post_id}") as page:
                assert "Seen 2 times by others" in await page.text()
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(STOP_TIMEOUT_SECONDS) == 0


async def test_a_browser_reports_the_cards_it_showed_for_a_moment(
    browsing: Browsing,  # noqa: F811
    member,  # noqa: F811
    client,
    factory,
    db,
):
    author = await factory.user()
    post_id = await factory.post(author, "a card to be seen")
    reader = await member()
    page = await browsing.page()
    await browser_log_in(page, reader.account)
    await page.goto("/explore?sort=latest")
    await expect(page.locator(f"#post-{post_id}")).to_be_visible()
    await page.wait_for_timeout(1500)  # seen for a moment
    await page.goto("/about")  # leaving the page sends what was seen, before it is due
    deadline = time.monotonic() + 5
    while await views_of(db, post_id) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        await flush(client)
    assert await views_of(db, post_id) == 1
