"""Search for posts and tags (docs/discovery.md): English words by their stem, Chinese,
Japanese and Korean words inside sentences without spaces, whatever the accents, case or
width of the letters; ranked, highlighted with the text escaped, paged within bounds; whose
posts (one's own, those of people one follows, public posts of accounts that let theirs be
found) and never one outside its audience; the setting, in Settings and both APIs; tags by
the start of their name; the page, Snapline's API and Mastodon's /api/v2/search, through the
real Mastodon.py client too.

Every test's posts carry a marker word of their own: the database is shared by the session,
and a search for the marker and a word finds that test's posts alone."""

from __future__ import annotations

import re
import secrets

from service.app import create_app
from service.domain import follows
from tests.oauth import bearer, user_token
from tests.test_mastodon_client import free_port, in_thread, signed_in
from tests.test_search import search_page


def marker(factory) -> str:
    """A word no other test's posts hold (letters only: the English parser keeps it whole,
    and the stemmer leaves it be)."""
    return "mk" + "".join(secrets.choice("bcdfghjklmnpqrtvwxz") for _ in range(10))


def found_posts(page: str) -> list[str]:
    """The snippets of the posts a search page lists, in order, as markup."""
    listed = page.partition('<ol class="search-posts"')[2].partition("</ol>")[0]
    return re.findall(r'<p class="snippet" dir="auto">(.*?)</p>', listed, re.S)


def plain(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


async def finds(client, query: str, **extra: str) -> list[str]:
    status, page = await search_page(client, query, type="posts", **extra)
    assert status == 200, page[:300]
    return [plain(snippet) for snippet in found_posts(page)]


async def test_words_are_found_by_stem_and_in_sentences_without_spaces(client, factory):
    mark = marker(factory)
    author = await factory.user()
    texts = {
        "photo": f"One photo of the harbour {mark}",
        "runs": f"She runs along the river {mark}",
        "cafe": f"Breakfast at the Café Müller {mark}",
        "chinese": f"我今天喝了咖啡很好 {mark}",
        "curry": f"我喜欢咖喱饭 {mark}",
        "cat": f"我的猫很可爱 {mark}",
        "japanese": f"今日はコーヒーを飲んだ {mark}",
        "korean": f"아침에 커피를 마셨다 {mark}",
    }
    for body in texts.values():
        await factory.post(author, body)
    expected = {
        "photos": {"photo"},  # a plural finds the singular
        "running": {"runs"},  # by stem
        "ＰＨＯＴＯＳ": {"photo"},  # full-width letters
        "cafe muller": {"cafe"},  # without accents
        "CAFÉ": {"cafe"},
        "咖啡": {"chinese"},  # a word inside a sentence
        "喝了咖啡": {"chinese"},
        "咖": {"chinese", "curry"},  # one character
        "猫": {"cat"},
        "咖啡很好": {"chinese"},
        "咖喱": {"curry"},
        "啡咖": set(),  # the characters, but not in that order
        "コーヒー": {"japanese"},
        "ｺｰﾋｰ": {"japanese"},  # half-width Katakana
        "커피": {"korean"},  # with its particle, 커피를
        "harbour 咖啡": set(),  # every word must match
    }
    for query, wanted in expected.items():
        shown = await finds(client, f"{query} {mark}")
        assert {key for key, body in texts.items() if body in shown} == wanted, query
        assert len(shown) == len(wanted), query
    # Only words too common to count: nothing, rather than everything.
    assert await finds(client, "the of and") == []


async def test_the_best_matches_come_first_and_pages_go_on(client, factory):
    mark = marker(factory)
    author = await factory.user()
    # Many matches of both words in a short post rank above one match in a longer post,
    # which ranks above the older of two equal posts.
    weak_old = await factory.post(author, f"a river and a long long walk through town {mark}")
    weak_new = await factory.post(author, f"a river and a long long walk through town {mark}!")
    strong = await factory.post(author, f"river sunset river sunset {mark}")
    shown = await finds(client, f"river sunset {mark}")
    assert shown == [f"river sunset river sunset {mark}"]
    status, page = await search_page(client, f"river {mark}", type="posts")
    order = [int(i) for i in re.findall(r'href="/p/(\d+)"', page)]
    assert order == [strong, weak_new, weak_old]
    for n in range(22):
        await factory.post(author, f"paged post number {n} {mark}")
    status, first = await search_page(client, f"paged {mark}", type="posts")
    assert len(found_posts(first)) == 20
    more = re.search(r'href="(/search\?[^"]+)">More posts', first)
    assert more is not None
    rest = found_posts(await (await client.get(more.group(1).replace("&amp;", "&"))).text())
    assert len(rest) == 2 and not set(rest) & set(found_posts(first))
    for bad in ("-1", "x", "201"):
        status, _ = await search_page(client, f"paged {mark}", type="posts", offset=bad)
        assert status == 400, bad
    status, _ = await search_page(client, "x", type="videos")
    assert status == 400
    # Odd searches are answered, not failed.
    for odd in ("\\", "%", "'", "&", "!", "a <-> b", "a:*", "(", "a" * 500, "😀", "\u3000"):
        status, _ = await search_page(client, odd, type="posts")
        assert status == 200, odd


async def test_snippets_are_escaped_with_only_the_marks_added(client, factory):
    mark = marker(factory)
    author = await factory.user()
    await factory.post(author, f"photos <b>bold</b> & 'quoted' <i x='y'> 咖啡 {mark}")
    [snippet] = found_posts((await search_page(client, f"photo 咖啡 {mark}", type="posts"))[1])
    assert "<b>" not in snippet and "&lt;b&gt;bold&lt;/b&gt; &amp;" in snippet
    assert "<mark>photos</mark>" in snippet and "<mark>咖啡</mark>" in snippet
    assert "&lt;i x=&#x27;y&#x27;&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


async def test_whose_posts_a_search_finds(client, make_client, factory, login, db):
    """One's own posts, those of people one follows (for followers only too), public posts
    of others who let theirs be found; never a followers-only post of someone one does not
    follow, an unlisted one of a stranger, or a public one of someone who said no."""
    mark = marker(factory)
    author, follower, stranger = await factory.user(), await factory.user(), await factory.user()
    hidden_author = await factory.user()
    async with db.begin() as session:
        await follows.follow(session, follower.id, author.id)
        await follows.follow(session, follower.id, hidden_author.id)
    for audience in ("public", "unlisted", "followers"):
        await factory.post(author, f"{audience} audience {mark}", audience)
    await factory.post(hidden_author, f"public unfindable {mark}")
    await factory.post(stranger, f"strangers own followers {mark}", "followers")
    # The second author says no, in Settings.
    settings_client = await make_client(client)
    await login(settings_client, hidden_author)
    form = await (await settings_client.get("/settings/profile")).text()
    assert 'name="indexable" type="checkbox" value="on" checked' in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    saved = await settings_client.post(
        "/settings/profile",
        data={"csrf_token": token, "display_name": "", "location": "", "bio": "",
              "default_audience": "public", "indexable_shown": "1"},
    )  # fmt: skip
    assert saved.status == 200
    form = await (await settings_client.get("/settings/profile")).text()
    assert 'name="indexable" type="checkbox" value="on" aria' in form

    expected = [
        (None, {"public audience"}),
        (stranger, {"public audience", "strangers own followers"}),
        (follower, {"public audience", "unlisted audience", "followers audience",
                    "public unfindable"}),
        (author, {"public audience", "unlisted audience", "followers audience"}),
        (hidden_author, {"public audience", "public unfindable"}),
    ]  # fmt: skip
    for viewer, wanted in expected:
        asking = await make_client(client)
        if viewer is not None:
            await login(asking, viewer)
        shown = await finds(asking, mark)
        assert {text.removesuffix(f" {mark}") for text in shown} == wanted, viewer


async def test_tags_are_found_by_the_start_of_their_name(client, make_client, factory, login):
    mark = marker(factory)
    author, stranger = await factory.user(), await factory.user()
    await factory.post(author, f"#{mark}Café #{mark}咖啡")
    for _ in range(2):
        await factory.post(author, f"#{mark}cafeteria")
    await factory.post(author, f"#{mark}caf")
    await factory.post(author, f"#{mark}secret", "followers")
    asking = await make_client(client)
    await login(asking, stranger)
    for query in (f"#{mark}caf", f"{mark}caf", f"＃{mark.upper()}CAF"):
        status, page = await search_page(asking, query, type="tags")
        assert status == 200, query
        listed = re.findall(r'<a href="/tags/[^"]+" dir="auto">#([^<]+)</a>', page)
        # The tag itself, then the most used, then the rest.
        assert listed == [f"{mark}caf", f"{mark}cafeteria", f"{mark}Café"], query
    _, page = await search_page(asking, f"{mark}咖", type="tags")
    assert f"#{mark}咖啡" in page
    # A tag only a followers-only post carries is found by no one else.
    _, page = await search_page(asking, f"{mark}sec", type="tags")
    assert f"{mark}secret" not in page
    _, page = await search_page(client, f"{mark}sec", type="tags")
    assert f"{mark}secret" not in page


async def test_the_page_shows_each_kind_and_filters(client, factory):
    mark = marker(factory)
    author = await factory.user(username=f"{mark[:20]}_u")
    await factory.post(author, f"a post about {mark} #{mark}")
    status, page = await search_page(client, mark)
    assert status == 200
    for title in ("People", "Tags", "Posts"):
        assert f'<h2 class="section-title">{title}</h2>' in page
    assert f"@{author.username}" in page and f"#{mark}</a>" in page
    assert f"<mark>{mark}</mark>" in page
    assert 'aria-current="page">All</a>' in page
    status, only = await search_page(client, mark, type="tags")
    assert '<h2 class="section-title">People</h2>' not in only and f"#{mark}</a>" in only
    assert 'aria-current="page">Tags</a>' in only


async def test_snapline_api_search(client, factory, login):
    mark = marker(factory)
    author = await factory.user()
    for n in range(3):
        await factory.post(author, f"api photos {n} #{mark}")
    await login(client, author)
    answer = await client.get(
        "/api/snapline/v1/search", params={"q": f"photo {mark}", "type": "posts", "limit": "2"}
    )
    assert answer.status == 200
    found = await answer.json()
    assert found["people"] == [] and found["tags"] == [] and found["next_offset"] == 2
    assert len(found["posts"]) == 2
    assert "<mark>photos</mark>" in found["posts"][0]["snippet_html"]
    assert found["posts"][0]["post"]["author"]["username"] == author.username
    rest = await (
        await client.get(
            "/api/snapline/v1/search",
            params={"q": f"photo {mark}", "type": "posts", "limit": "2", "offset": "2"},
        )
    ).json()
    assert len(rest["posts"]) == 1 and rest["next_offset"] is None
    every = await (await client.get("/api/snapline/v1/search", params={"q": mark})).json()
    assert [tag["name"] for tag in every["tags"]] == [mark] and len(every["posts"]) == 3
    assert every["tags"][0]["post_count"] == 3
    profile = await (await client.get(f"/api/snapline/v1/users/{author.username}")).json()
    assert profile["indexable"] is True
    for params in ({}, {"q": ""}, {"q": "x", "type": "x"}, {"q": "x", "offset": "201"},
                   {"q": "x", "limit": "51"}):  # fmt: skip
        refused = await client.get("/api/snapline/v1/search", params=params)
        assert refused.status == 400, params


async def test_mastodon_search(client, factory, login):
    mark = marker(factory)
    me, author = await factory.user(), await factory.user(username=f"{mark[:20]}_a")
    other = await factory.user()
    await factory.post(author, f"mastodon photos #{mark}")
    await factory.post(other, f"other photos {mark}")
    await login(client, me)
    token = await user_token(client, "read write")
    found = await (
        await client.get("/api/v2/search", params={"q": mark}, headers=bearer(token))
    ).json()
    assert [account["acct"] for account in found["accounts"]] == [author.username]
    assert [tag["name"] for tag in found["hashtags"]] == [mark]
    assert len(found["statuses"]) == 2 and "<mark>" not in found["statuses"][0]["content"]
    one = await (
        await client.get(
            "/api/v2/search",
            params={"q": f"photos {mark}", "type": "statuses", "account_id": str(other.id),
                    "resolve": "false"},
            headers=bearer(token),
        )
    ).json()  # fmt: skip
    assert one["accounts"] == [] and one["hashtags"] == []
    assert [status["account"]["id"] for status in one["statuses"]] == [str(other.id)]
    following = await (
        await client.get(
            "/api/v2/search",
            params={"q": mark, "type": "statuses", "following": "true"},
            headers=bearer(token),
        )
    ).json()
    assert following["statuses"] == []
    # Saying no to search, through the API: the account tells, and strangers no longer find
    # the post; the author does.
    author_client_token = token
    await login(client, author)
    author_token = await user_token(client, "read write")
    changed = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"indexable": "false"},
        headers=bearer(author_token),
    )
    assert changed.status == 200 and (await changed.json())["indexable"] is False
    hidden = await (
        await client.get(
            "/api/v2/search",
            params={"q": f"mastodon {mark}", "type": "statuses"},
            headers=bearer(author_client_token),
        )
    ).json()
    assert hidden["statuses"] == []
    own = await (
        await client.get(
            "/api/v2/search",
            params={"q": f"mastodon {mark}", "type": "statuses"},
            headers=bearer(author_token),
        )
    ).json()
    assert len(own["statuses"]) == 1 and own["statuses"][0]["account"]["indexable"] is False
    for params in ({}, {"q": ""}, {"q": "x", "type": "x"}, {"q": "x", "limit": "41"},
                   {"q": "x", "offset": "201"}, {"q": "x", "account_id": "x"}):  # fmt: skip
        refused = await client.get("/api/v2/search", params=params, headers=bearer(token))
        assert refused.status == 400, params


async def test_mastodon_py_searches_statuses_and_hashtags(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    mark = marker(factory)
    me, author = await factory.user(), await factory.user()
    await factory.post(author, f"我今天喝了咖啡很好 #{mark}")
    api = await signed_in(aiohttp_client, server, base, me, login)
    # As an app does when it starts: it learns the server's version (4.3), and with it
    # that the search's offset and account_id are there to use.
    await in_thread(api.retrieve_mastodon_version, True)
    found = await in_thread(api.search_v2, f"咖啡 {mark}", result_type="statuses")
    assert [status["account"]["acct"] for status in found["statuses"]] == [author.username]
    tags = await in_thread(api.search_v2, mark[:-1], result_type="hashtags", resolve=False)
    assert [tag["name"] for tag in tags["hashtags"]] == [mark]
    everything = await in_thread(api.search_v2, mark, limit=5, offset=0)
    assert len(everything["statuses"]) == 1 and everything["accounts"] == []
    changed = await in_thread(api.account_update_credentials, indexable=False)
    assert changed["indexable"] is False
