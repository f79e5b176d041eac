"""People search: by username or display name, a prefix, a word inside a name or a near
miss, whatever the accents, case or width of the letters, Chinese names included; under the
visibility rule like every list of people (blocks both ways and suspension hide, a mute does
not); on the page, the top bar's box, and Mastodon's /api/v1/accounts/search, through the
real Mastodon.py client too."""

from __future__ import annotations

import re

from sqlalchemy import text

from service.app import create_app
from service.domain import blocks, follows
from tests.oauth import bearer, user_token
from tests.test_mastodon_client import free_port, in_thread, signed_in


async def named(db, account, display_name: str) -> None:
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET display_name = :name WHERE id = :id"),
            {"name": display_name, "id": account.id},
        )


def found_usernames(page: str) -> list[str]:
    """The people a search page lists, in order."""
    listed = page.partition('<ol class="people"')[2].partition("</ol>")[0]
    return re.findall(r'<span class="post-handle">@([A-Za-z0-9_]+)</span>', listed)


async def search_page(client, query: str, **extra: str) -> tuple[int, str]:
    response = await client.get("/search", params={"q": query, **extra})
    return response.status, await response.text()


async def test_people_are_found_by_prefix_word_accent_width_and_near_miss(client, factory, db):
    tag = factory.unique("z")[-6:].lower()  # keeps this test's people apart from others'
    alice = await factory.user(username=f"alice{tag}")
    bo = await factory.user(username=f"bo_{tag}")
    wang = await factory.user(username=f"wang{tag}")
    decoy = await factory.user(username=f"box{tag}")
    await named(db, alice, f"Ålice Ünal {tag}")
    await named(db, bo, f"Bo Lindquist {tag}")
    await named(db, wang, f"王小明 {tag}")

    async def finds(query: str) -> list[str]:
        status, page = await search_page(client, query)
        assert status == 200
        return found_usernames(page)

    # The start of a username, any case; the username itself comes first.
    assert (await finds(f"ALICE{tag}"))[0] == alice.username
    assert alice.username in await finds("ali")
    # A word of the display name, without its accent or in full-width letters.
    assert alice.username in await finds(f"unal {tag}")
    assert alice.username in await finds("Ｕｎａｌ")
    # A near miss of a word.
    assert bo.username in await finds(f"lindqvist {tag}")
    # Chinese: a name inside the display name.
    assert wang.username in await finds("小明")
    # An underscore is itself, not any character, and a percent sign too.
    assert bo.username in await finds(f"bo_{tag}")
    underscored = await finds("o_")
    assert bo.username in underscored and decoy.username not in underscored
    assert await finds("%") == []
    # Nothing to search for: the box alone.
    status, page = await search_page(client, "   ")
    assert status == 200 and '<ol class="people"' not in page


async def test_search_hides_blocks_both_ways_and_the_suspended_but_not_the_muted(
    client, make_client, factory, db, login
):
    tag = factory.unique("q")[-6:].lower()
    me = await factory.user(username=f"seeker{tag}")
    blocked, blocker, muted, suspended, plain = [
        await factory.user(username=f"{role}{tag}")
        for role in ("blocked", "blocker", "muted", "suspended", "plain")
    ]
    for account in (blocked, blocker, muted, suspended, plain):
        await named(db, account, f"Common {tag}")
    async with db.begin() as session:
        await blocks.block(session, me.id, blocked.id)
        await blocks.block(session, blocker.id, me.id)
        await blocks.mute(session, me.id, muted.id)
        await follows.follow(session, me.id, plain.id)
        await session.execute(
            text("UPDATE users SET suspended_at = now() WHERE id = :id"), {"id": suspended.id}
        )
    await login(client, me)
    status, page = await search_page(client, f"common {tag}")
    assert status == 200
    assert set(found_usernames(page)) == {muted.username, plain.username}
    assert "you follow them" in page
    # Signed out, only the suspended stay hidden.
    status, page = await search_page(await make_client(client), f"common {tag}")
    assert status == 200
    assert set(found_usernames(page)) == {
        blocked.username,
        blocker.username,
        muted.username,
        plain.username,
    }


async def test_search_pages_by_offset_within_bounds(client, factory, db):
    tag = factory.unique("p")[-6:].lower()
    many = [await factory.user(username=f"page{tag}{n:02d}") for n in range(23)]
    status, first = await search_page(client, f"page{tag}")
    assert status == 200 and len(found_usernames(first)) == 20
    more = re.search(r'href="(/search\?[^"]+)">More people', first)
    assert more is not None
    second = await client.get(more.group(1).replace("&amp;", "&"))
    rest = found_usernames(await second.text())
    assert len(rest) == 3
    assert set(found_usernames(first)) | set(rest) == {account.username for account in many}
    for bad in ("-1", "x", "201", "99999999999999999999"):
        status, _ = await search_page(client, f"page{tag}", offset=bad)
        assert status == 400, bad
    # Odd searches are answered, not failed.
    for odd in ("\\", "%", "_", "'", "a" * 500, "\u202e", "😀"):
        status, _ = await search_page(client, odd)
        assert status == 200, odd


async def test_the_top_bar_has_a_search_box_and_a_phone_a_search_link(client, factory, login):
    await login(client, await factory.user())
    page = await (await client.get("/")).text()
    assert 'role="search"' in page and 'name="q"' in page
    assert 'class="site-search-link" href="/search"' in page


async def test_mastodon_account_search(client, factory, db, login):
    tag = factory.unique("m")[-6:].lower()
    me = await factory.user()
    friend = await factory.user(username=f"friend{tag}")
    other = await factory.user(username=f"friendly{tag}")
    async with db.begin() as session:
        await follows.follow(session, me.id, friend.id)
    await login(client, me)
    token = await user_token(client, "read")
    answer = await client.get(
        "/api/v1/accounts/search", params={"q": f"friend{tag}"}, headers=bearer(token)
    )
    assert answer.status == 200
    accounts = await answer.json()
    assert [account["username"] for account in accounts][:2] == [friend.username, other.username]
    assert accounts[0]["id"] == str(friend.id)
    only = await client.get(
        "/api/v1/accounts/search",
        params={"q": f"friend{tag}", "following": "true"},
        headers=bearer(token),
    )
    assert [account["username"] for account in await only.json()] == [friend.username]
    limited = await client.get(
        "/api/v1/accounts/search", params={"q": f"friend{tag}", "limit": "1", "offset": "1"}
    )
    assert [account["username"] for account in await limited.json()] == [other.username]
    for params in ({}, {"q": ""}, {"q": "x", "limit": "81"}, {"q": "x", "offset": "201"}):
        refused = await client.get("/api/v1/accounts/search", params=params)
        assert refused.status == 400, params
        assert "error" in await refused.json()


async def test_mastodon_py_searches_accounts(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    tag = factory.unique("c")[-6:].lower()
    me = await factory.user()
    wanted = await factory.user(username=f"lighthouse{tag}")
    api = await signed_in(aiohttp_client, server, base, me, login)
    found = await in_thread(api.account_search, f"lighthouse{tag}", limit=5)
    assert [account["acct"] for account in found] == [wanted.username]
