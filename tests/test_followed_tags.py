"""Followed hashtags: following and unfollowing on the tag's page, in the settings and
through Snapline's API, and their public posts in the home timeline, once each, keyset
paged under inserts, never past the visibility rule (docs/discovery.md, docs/timeline.md).
Mastodon.py's calls are in tests/test_mastodon_client.py."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import text

from service.discovery import normalize_tag
from service.domain import accounts, blocks, tag_follows
from service.domain import posts as post_commands
from service.domain.tag_follows import MAX_FOLLOWED_TAGS
from tests.api import Api
from tests.blocking import EXPIRED, MUTED, TAG, blocking_world
from tests.oauth import NEW_TOKEN, bearer, personal_token
from tests.support import submit
from tests.test_live import EVENT_WITHIN_SECONDS, next_event, publish, serving, session_for
from tests.test_tags import _ids
from tests.test_uploads import photo_post, release

TIMELINE = "/api/snapline/v1/timeline"


async def _follow_tags(db, user, *names: str) -> None:
    async with db.begin() as session:
        for name in names:
            assert await tag_follows.follow(session, user.id, normalize_tag(name), name)


async def _timeline(api: Api, limit: int = 50) -> list[int]:
    return [post["id"] for post in await api.all_pages(TIMELINE, limit=limit)]


async def test_follow_and_unfollow_a_tag_from_its_page_and_the_settings(client, factory, login):
    reader, n = await factory.user(), factory.unique("")
    await factory.post(await factory.user(), f"a cup #Café{n}")
    page = f"/tags/{quote('café' + n)}"
    # Signed out: no button.
    assert "tag_follow" not in await (await client.get(page)).text()
    assert "/follow" not in await (await client.get(page)).text()
    await login(client, reader)
    html = await (await client.get(page)).text()
    assert f'action="/tags/{quote("café" + n)}/follow"' in html
    followed = await submit(client, f"/tags/{quote('CAFÉ' + n)}/follow", page=page)
    assert followed.status == 303 and followed.headers["Location"] == page
    html = await (await client.get(page)).text()
    assert f'action="/tags/{quote("café" + n)}/unfollow"' in html
    assert f'Unfollow<span class="visually-hidden"> #Café{n}</span>' in html
    # Following again changes nothing.
    assert (await submit(client, f"{page}/follow", page=page)).status == 303
    listed = await (await client.get("/settings/tags")).text()
    assert listed.count(f'href="{page}"') == 1 and "1 post, followed" in listed
    done = await submit(
        client, f"{page}/unfollow", {"next": "/settings/tags"}, page="/settings/tags"
    )
    assert done.status == 303 and done.headers["Location"] == "/settings/tags"
    assert "You follow no hashtags." in await (await client.get("/settings/tags")).text()
    assert f'action="/tags/{quote("café" + n)}/follow"' in await (await client.get(page)).text()


async def test_a_tag_nobody_used_can_be_followed_and_a_bad_name_is_404(client, factory, login):
    await login(client, await factory.user())
    name = factory.unique("fresh")
    assert (
        await submit(client, f"/tags/{name.upper()}/follow", page=f"/tags/{name}")
    ).status == 303
    html = await (await client.get(f"/tags/{name}")).text()
    assert "No posts with this hashtag yet." in html and f"/tags/{name}/unfollow" in html
    # The spelling followed is its display form, until a post uses it.
    assert f"#{name.upper()}</h1>" in html
    for bad in ("12", "a.b", "a" * 101):
        assert (await submit(client, f"/tags/{bad}/follow", page=f"/tags/{name}")).status == 404


async def test_snapline_api_follows_and_unfollows_tags_up_to_the_limit(client, factory, login, db):
    reader = await factory.user()
    await login(client, reader)
    api = Api(client)
    name = factory.unique("Tea")
    await factory.post(await factory.user(), f"green #{name}")
    shown = await api.get(f"/api/snapline/v1/tags/%23{name.upper()}")
    assert shown == {
        "name": name.lower(), "display": name, "url": f"/tags/{name.lower()}",
        "post_count": 1, "following": False,
    }  # fmt: skip
    path = f"/api/snapline/v1/tags/{name}/follow"
    for _ in range(2):
        followed = await (await api.call("POST", path, expect=200)).json()
        assert followed == shown | {"following": True}
    assert (await api.get(f"/api/snapline/v1/tags/{name}"))["following"] is True
    unfollowed = await (await api.call("DELETE", path, expect=200)).json()
    assert unfollowed["following"] is False
    assert (await api.call("DELETE", path, expect=200)).status == 200
    await api.call("POST", "/api/snapline/v1/tags/a.b/follow", expect=404)
    await _follow_tags(db, reader, *(f"{name}{i}" for i in range(MAX_FOLLOWED_TAGS)))
    refused = await (await api.call("POST", path, expect=422)).json()
    assert refused["error"]["code"] == "too_many_followed_tags"
    # One already followed is still fine, and unfollowing one makes room.
    await api.call("POST", f"/api/snapline/v1/tags/{name}0/follow", expect=200)
    await api.call("DELETE", f"/api/snapline/v1/tags/{name}0/follow", expect=200)
    await api.call("POST", path, expect=200)


async def test_followed_tags_bring_public_posts_into_home_once(
    client, make_client, factory, login, db
):
    reader, friend, stranger = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(reader, friend)
    a, b = factory.unique("alpha"), factory.unique("beta")
    await _follow_tags(db, reader, a, b)
    before = await factory.post(stranger, f"before any #{a}")
    own = await factory.post(reader, "my own")
    both_tags = await factory.post(stranger, f"#{a} and #{b}")
    friend_both = await factory.post(friend, f"friend's #{a} #{b}", "public")
    friend_private = await factory.post(friend, f"for followers #{a}", "followers")
    unlisted = await factory.post(stranger, f"quiet #{a}", "unlisted")
    private = await factory.post(stranger, f"followers only #{b}", "followers")
    untagged = await factory.post(stranger, "no tag")
    other_tag = await factory.post(stranger, f"#{a}x is another tag")
    await login(client, reader)
    expected = [friend_private, friend_both, both_tags, own, before]
    assert await _timeline(Api(client)) == expected
    assert await _timeline(Api(client), limit=1) == expected
    assert _ids(await (await client.get("/")).text()) == expected
    # Not there: unlisted and followers-only posts of someone not followed, and posts
    # without the tag (or with another that starts like it).
    assert not {unlisted, private, untagged, other_tag} & set(await _timeline(Api(client)))
    # The Mastodon API's home, in status-id order, the same posts.
    status, page = await personal_token(client, "app", ["read"])
    assert status == 201
    token = NEW_TOKEN.search(page).group(1)
    statuses = await client.get("/api/v1/timelines/home?limit=40", headers=bearer(token))
    by_status = [int(s["id"]) for s in await statuses.json()]
    ids = {
        row[0]: row[1]
        for row in (
            await _rows(db, "SELECT status_id, id FROM posts WHERE id = ANY(:ids)", expected)
        )
    }
    assert [ids[s] for s in by_status] == expected
    # Paged one at a time by max_id, and back up by min_id.
    paged, below = [], None
    while True:
        query = "limit=1" + (f"&max_id={below}" if below else "")
        got = await (
            await client.get(f"/api/v1/timelines/home?{query}", headers=bearer(token))
        ).json()
        if not got:
            break
        paged.append(int(got[0]["id"]))
        below = got[0]["id"]
    assert paged == by_status
    up = await client.get(
        f"/api/v1/timelines/home?limit=2&min_id={by_status[-1]}", headers=bearer(token)
    )
    assert [int(s["id"]) for s in await up.json()] == by_status[-3:-1]
    # Unfollowed: gone from home.
    async with db.begin() as session:
        for name in (a, b):
            assert await tag_follows.unfollow(session, reader.id, normalize_tag(name))
    assert await _timeline(Api(client)) == [friend_private, friend_both, own]


async def _rows(db, sql: str, ids: list[int]):
    async with db() as session:
        return (await session.execute(text(sql), {"ids": ids})).all()


async def test_paging_home_with_followed_tags_while_posts_arrive(
    client, make_client, factory, login, db
):
    """Followed authors' posts and tagged strangers' interleaved, pages of 3, new posts of
    both kinds after every page: each older post exactly once, none of the newer."""
    reader, friend, stranger = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(reader, friend)
    tag = factory.unique("paged")
    await _follow_tags(db, reader, tag)
    older = []
    for i in range(14):
        older.append(await factory.post(friend, f"friend {i}"))
        older.append(await factory.post(stranger, f"stranger {i} #{tag}"))
        if i % 3 == 0:
            older.append(await factory.post(friend, f"friend {i} also #{tag}", "public"))
    await login(client, reader)
    api = Api(client)
    seen, cursor, newer = [], None, []
    while True:
        page = await api.get(TIMELINE, limit=3, **({"cursor": cursor} if cursor else {}))
        seen.extend(post["id"] for post in page["items"])
        newer.append(await factory.post(stranger, f"newer #{tag}"))
        newer.append(await factory.post(friend, "newer"))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(older))
    assert await _timeline(api, limit=5) == list(reversed(older + newer))


async def test_a_followed_tag_brings_nothing_the_rule_hides(client, factory, login, db):
    """The people of tests/blocking.py all post with TAG; the viewer follows it and none of
    them: what a block or a mute hides stays out, what an expired mute hid comes in."""
    world = await blocking_world(db, factory)
    async with db.begin() as session:
        await session.execute(
            text("DELETE FROM follows WHERE follower_id = :viewer"), {"viewer": world.viewer.id}
        )
    suspended = await factory.user()
    suspended_post = await factory.post(suspended, f"soon suspended #{TAG}")
    async with db.begin() as session:
        await accounts.suspend(session, suspended.id)
    await login(client, world.viewer)
    home = await (await client.get("/")).text()
    assert world.leaks(home) == set()
    assert suspended.username not in home
    ids = await _timeline(Api(client))
    assert world.posts[EXPIRED] in ids and world.third_post in ids
    assert world.posts[MUTED] not in ids and suspended_post not in ids
    # A mute made now hides at once, as it does the author's own followers.
    async with db.begin() as session:
        await blocks.mute(session, world.viewer.id, world.people[EXPIRED].id)
    assert world.posts[EXPIRED] not in await _timeline(Api(client))


async def test_a_live_stream_hears_of_a_followed_tags_public_posts(database_url, factory):
    """The stream that announces followed authors' new posts announces a followed tag's too
    (the "new posts" banner), public ones only."""
    reader, author = await factory.user(), await factory.user()
    tag = factory.unique("live")
    async with serving(database_url, 1) as (served,):
        reader_http, reader_token = await session_for(served.base, reader)
        author_http, author_token = await session_for(served.base, author)
        try:
            async with reader_http.post(
                f"{served.base}/api/snapline/v1/tags/{tag}/follow",
                headers={"X-CSRF-Token": reader_token},
            ) as followed:
                assert followed.status == 200
            async with reader_http.get(f"{served.base}/api/snapline/v1/stream") as stream:
                await next_event(stream, "notifications", 5)
                headers = {"X-CSRF-Token": author_token}
                quiet = {"body": f"unlisted #{tag}", "audience": "unlisted"}
                async with author_http.post(
                    f"{served.base}/api/snapline/v1/posts", json=quiet, headers=headers
                ) as response:
                    assert response.status == 201
                post_id = await publish(served.base, author_http, author_token, f"hi #{tag}")
                event = await next_event(stream, "post", EVENT_WITHIN_SECONDS)
                assert event["post_id"] == post_id
        finally:
            await reader_http.close()
            await author_http.close()


async def test_a_tagged_post_comes_in_when_published_and_goes_when_no_longer_public(
    client, factory, login, db, tmp_path
):
    """The home timeline finds a followed tag's posts by the tag's index, which carries
    each post's publication and audience: a photo post comes in once its photos are
    processed, and a post leaves when its author makes it unlisted or followers-only."""
    reader, author = await factory.user(), await factory.user()
    tag = factory.unique("kept")
    await _follow_tags(db, reader, tag)
    text_post = await factory.post(author, f"words #{tag}", "public")
    held = await photo_post(db, author.id, tmp_path, f"a dune #{tag}", ["A dune"], held=True)
    await login(client, reader)
    assert await _timeline(Api(client)) == [text_post]
    await release(db, held)
    assert await _timeline(Api(client)) == [held, text_post]
    for audience in ("unlisted", "followers"):
        async with db.begin() as session:
            await post_commands.set_audience(session, text_post, author.id, audience)
        assert await _timeline(Api(client)) == [held], audience
    async with db.begin() as session:
        await post_commands.set_audience(session, text_post, author.id, "public")
    assert await _timeline(Api(client)) == [held, text_post]
