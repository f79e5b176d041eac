"""The home timeline: own posts plus followed authors', newest first, keyset-paginated."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from sqlalchemy import event

from service.cursor import Position, encode
from service.domain import tag_follows
from service.keys import engine_key, read_pool_key, sessionmaker_key
from tests.api import Api
from tests.test_fragments import card, card_ids
from tests.test_uploads import photo_post, release


async def signed_in(make_client, client, login, account) -> Api:
    browser = await make_client(client)
    await login(browser, account)
    return Api(browser)


async def test_mega_tutorial_followers_scenario(client, make_client, factory, login):
    john, susan, mary, david = [
        await factory.user(username=factory.unique(n)) for n in ("john", "susan", "mary", "david")
    ]
    api = {
        u.username: await signed_in(make_client, client, login, u)
        for u in (john, susan, mary, david)
    }
    # Created at increasing times, in the tutorial's order: p1, p4, p3, p2.
    p1 = await factory.post(john, "post from john")
    p4 = await factory.post(david, "post from david")
    p3 = await factory.post(mary, "post from mary")
    p2 = await factory.post(susan, "post from susan")
    await factory.follow(john, susan)
    await factory.follow(john, david)
    await factory.follow(susan, mary)
    await factory.follow(mary, david)

    async def timeline(user) -> list[int]:
        return [
            post["id"] for post in await api[user.username].all_pages("/api/snapline/v1/timeline")
        ]

    assert await timeline(john) == [p2, p4, p1]
    assert await timeline(susan) == [p2, p3]
    assert await timeline(mary) == [p3, p4]
    assert await timeline(david) == [p4]


async def test_paging_while_new_posts_arrive_returns_each_older_post_once(
    client, make_client, factory, login
):
    reader, author = await factory.user(), await factory.user()
    reader_api = await signed_in(make_client, client, login, reader)
    await factory.follow(reader, author)
    older = [await factory.post(author, f"older {i}") for i in range(120)]

    seen, cursor, newer = [], None, []
    while True:
        page = await reader_api.get(
            "/api/snapline/v1/timeline", limit=20, **({"cursor": cursor} if cursor else {})
        )
        seen.extend(post["id"] for post in page["items"])
        newer.append(await factory.post(author, f"newer {len(newer)}"))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(older))
    assert not set(newer) & set(seen)
    first = await reader_api.get("/api/snapline/v1/timeline", limit=20)
    assert [post["id"] for post in first["items"][: len(newer)]] == list(reversed(newer))


async def test_timeline_needs_a_login_and_valid_paging_parameters(client, factory, login):
    anonymous = await client.get("/api/snapline/v1/timeline")
    assert anonymous.status == 401
    assert (await anonymous.json())["error"]["code"] == "login_required"
    await login(client, await factory.user())
    api = Api(client)
    for params in (
        {"limit": "0"},
        {"limit": "51"},
        {"limit": "ten"},
        {"cursor": "garbage!"},
        {"cursor": "MTIz"},
        # Ids past PostgreSQL's bigint (2**63 and 2**64): refused before any query.
        {"cursor": encode(Position(datetime.now(UTC), 2**63))},
        {"cursor": encode(Position(datetime.now(UTC), 2**64))},
    ):
        body = await api.get("/api/snapline/v1/timeline", expect=400, **params)
        assert body["error"]["code"] in ("invalid_limit", "invalid_cursor")
    assert (await api.get("/api/snapline/v1/timeline", limit="50"))["items"] == []


async def test_statements_per_timeline_page_do_not_grow_with_page_size(
    client, make_client, factory, login
):
    reader = await factory.user()
    reader_api = await signed_in(make_client, client, login, reader)
    for _ in range(3):
        author = await factory.user()
        for i in range(8):
            await factory.post(author, f"post {i}")
        await factory.follow(reader, author)
    # And a followed tag's posts, from someone not followed: still one statement a page.
    tag = factory.unique("counted")
    stranger = await factory.user()
    for i in range(8):
        await factory.post(stranger, f"tagged {i} #{tag}")
    async with reader_api.client.server.app[sessionmaker_key].begin() as session:
        await tag_follows.follow(session, reader.id, tag, tag)

    app = reader_api.client.server.app
    # Pages read through the read pool only; log what runs on each of its connections
    # (all taken at once so that each gets the logger). Only requests use that pool, and
    # this test makes one at a time.
    read: list[str] = []

    def log_read(query) -> None:
        read.append(query.query)

    pool = app[read_pool_key]
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for connection in held:
        connection.add_query_logger(log_read)
    for connection in held:
        await pool.release(connection)
    # Through SQLAlchemy, nothing at all should touch the posts or their authors.
    other: list[str] = []

    def log_other(conn, cursor, statement, *args) -> None:
        if re.search(r"\b(posts|users|likes|photos)\b", statement):
            other.append(statement)

    engine = app[engine_key].sync_engine
    event.listen(engine, "before_cursor_execute", log_other)

    async def statements_of(path: str, **params: object) -> int:
        read.clear()
        answer = await reader_api.client.get(path, params=params)
        assert answer.status == 200
        if path.startswith("/api/"):
            assert len((await answer.json())["items"]) == params["limit"]
        await asyncio.sleep(0)  # the driver calls its loggers soon after each statement
        return len(read)

    try:
        # Once first: the driver looks up the types of a statement's columns the first
        # time a connection prepares it.
        for limit in (2, 20):
            await statements_of("/api/snapline/v1/timeline", limit=limit)
        await statements_of("/")
        counts = {
            limit: await statements_of("/api/snapline/v1/timeline", limit=limit)
            for limit in (2, 20)
        }
        html_statements = await statements_of("/")
    finally:
        event.remove(engine, "before_cursor_execute", log_other)
    # The page alone, for any page size: the session's user is remembered after the first
    # request (reads.session_cache).
    assert counts[2] == counts[20] == 1
    # The home page too: with it come the viewer's posts still processing and the unread
    # badge (reads.posts.HOME_FIRST_PAGE).
    assert html_statements == 1
    assert other == []


async def test_home_page_renders_the_timeline_with_an_older_posts_link(
    client, make_client, factory, login
):
    reader, author = await factory.user(), await factory.user()
    for i in range(25):
        await factory.post(author, f"numbered post {i:02d}")
    await factory.follow(reader, author)
    await login(client, reader)
    html = await (await client.get("/")).text()
    assert "numbered post 24" in html and "numbered post 05" in html
    assert "numbered post 04" not in html
    older_link = html.split('class="button button-secondary load-more" href="')[1].split('"')[0]
    older = await (await client.get("/" + older_link.replace("&amp;", "&"))).text()
    assert "numbered post 04" in older and "numbered post 00" in older
    assert "numbered post 05" not in older
    assert "load-more" not in older


async def test_home_first_page_shows_own_processing_posts_first_and_the_unread_badge(
    client, make_client, factory, login, db, tmp_path
):
    """The first page puts the viewer's unpublished posts above the timeline, with the
    badge's count, all read together; later pages and followers never show them."""
    author, reader = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    await factory.follow(author, reader)
    published = [await factory.post(author, f"published {n}") for n in range(3)]
    processing = await photo_post(db, author.id, tmp_path, "processing", ["A dune"], held=True)
    await factory.like(reader, published[0])
    await login(client, author)
    reader_client = await make_client(client)
    await login(reader_client, reader)

    home = await (await client.get("/", params={"limit": 2})).text()
    assert card_ids(home) == [processing, published[2], published[1]]
    assert "Processing photos" in card(home, processing)
    assert 'data-unread="2"' in home  # the reader's follow and like
    older = re.search(r'href="\?cursor=([^"]+)"', home)
    assert older is not None
    later = await (await client.get("/", params={"cursor": older.group(1), "limit": 2})).text()
    assert card_ids(later) == [published[0]] and 'data-unread="2"' in later

    theirs = await (await reader_client.get("/")).text()
    assert card_ids(theirs) == published[::-1] and 'data-unread="1"' in theirs  # a follow

    # With nothing at all to show, the badge is still read.
    loner = await factory.user()
    await factory.follow(reader, loner)
    await login(reader_client, loner)
    empty = await (await reader_client.get("/")).text()
    assert card_ids(empty) == [] and 'data-unread="1"' in empty
    await release(db, processing)  # leaves no upload waiting for the tests after this one


async def test_a_home_page_of_ascii_posts_is_ascii(client, factory, login):
    """Fixed text is written as character references (docs/rendering.md): a page held as
    one byte per character joins and encodes many times faster."""
    reader = await factory.user()
    await factory.post(reader, "plain words")
    await login(client, reader)
    for path in ("/", "/explore?sort=latest", f"/@{reader.username}"):
        page = await (await client.get(path)).read()
        assert page.isascii(), (path, {c for c in page.decode() if ord(c) > 127})
