"""Who sees a post for each audience (docs/privacy.md): a followers-only post reaches its
author and their followers and nobody else, through any statement, page, fragment, answer
of either API or live event; an unlisted post is on its author's profile, its page and
followers' home timelines but never on the lists of everyone's posts; the author changes a
post's audience and it takes effect everywhere at once; nothing can be done to a post one
cannot see; the composer and settings choose the audience."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import text

from service.keys import live_hub_key
from service.live import LiveHub
from service.reads import statements
from service.reads.paging import NEWEST_FIRST
from tests.api import Api
from tests.audience import (
    ANONYMOUS,
    BLOCKED,
    FOLLOWER,
    IN_FOLLOWERS,
    MODERATOR,
    REQUESTER,
    STRANGER,
    TAG,
    VIEWERS,
    AudienceWorld,
    audience_world,
)
from tests.oauth import bearer, user_token
from tests.support import asyncpg_dsn, submit
from tests.test_read_layer import (
    SAMPLE_ROWS,
    SIGNED_IN_ONLY,
    VIEWED_BY,
    World,
    _family,
    _home_first_page,
    _likers,
    _posts,
    _readers,
    _unread,
)

# Whom a followers-only post is not for.
OUTSIDE = (ANONYMOUS, STRANGER, MODERATOR, BLOCKED, REQUESTER)
# The lists of everyone's posts: only public posts are listed there.
LISTS_OF_EVERYONE = {"explore", "public_statuses", "public_statuses_oldest"}


@pytest.fixture(params=["public author", "private author"])
async def world(db, factory, request) -> AudienceWorld:
    return await audience_world(db, factory, private=request.param == "private author")


def _as_read_layer_world(world: AudienceWorld, viewer: str) -> World:
    """The read layer's table of arguments, with the followers-only post as the post the
    viewer may not see."""
    notification = world.notifications.get(viewer, {}).get("followers", 0)
    return World(
        world.author.id, world.people[FOLLOWER].id, world.posts["followers"],
        world.posts["public"], world.comments["followers"], world.status_ids["followers"],
        world.comment_status_ids["followers"], world.status_ids["public"], notification,
    )  # fmt: skip


def _leaks(
    world: AudienceWorld, shows: Callable, rows: list[asyncpg.Record], viewer: str
) -> set[str]:
    """What of the followers-only post (its words, its comment's, its id, its notification,
    who liked it, a live event of it) comes through in ``rows``."""
    followers_post = world.posts["followers"]
    found = set()
    for row in rows:
        for name, value in row.items():
            if isinstance(value, str) and world.words["followers"] in value:
                found.add(f"words in {name}")
            if name == "post_id" and value == followers_post:
                found.add("a row about the post")
    if shows in (_posts, _home_first_page) and followers_post in {row["id"] for row in rows}:
        found.add("the post")
    if shows in (_likers, _readers) and rows:
        found.add(shows.__name__)
    return found


async def test_no_statement_shows_a_followers_only_post_outside_its_audience(world, database_url):
    """Every statement that shows posts, comments, likes, notifications or live readers, as
    each viewer outside the post's audience asks for it: nothing of the followers-only post."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    checked = set()
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        for statement in statements.every_statement(SAMPLE_ROWS):
            if not statement.shows_posts:
                continue
            family = _family(statement)
            arguments, shows = VIEWED_BY[family]
            for viewer in OUTSIDE:
                if viewer == ANONYMOUS and family in SIGNED_IN_ONLY:
                    continue
                asked = _as_read_layer_world(world, viewer)
                rows = await connection.fetch(
                    statement.sql, *arguments(asked, world.viewer_id(viewer))
                )
                assert _leaks(world, shows, rows, viewer) == set(), (statement.name, viewer)
                if shows in (_unread, _home_first_page):
                    # The public and the unlisted post's notifications count; for the
                    # blocked viewer, nothing of the author does.
                    counted = rows[0][0] if shows is _unread else rows[0]["unread"]
                    assert counted == (0 if viewer == BLOCKED else 2), (statement.name, viewer)
                checked.add(family)
    finally:
        await connection.close()
    assert checked == set(VIEWED_BY)


async def _post_ids(connection, name: str, *arguments) -> set[int]:
    rows = await connection.fetch(statements.REGISTRY[name].sql, *arguments)
    return {row["id"] for row in rows}


async def test_statements_list_unlisted_posts_only_where_they_belong(world, database_url):
    """Unlisted posts are on no list of everyone's posts, for anyone, the author included;
    the author's list, a look-up by id and followers' home timelines have them."""
    posts = world.posts
    start = (NEWEST_FIRST.at, NEWEST_FIRST.id)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        for viewer in VIEWERS:
            viewer_id = world.viewer_id(viewer)
            everyone = await _post_ids(connection, f"explore/{SAMPLE_ROWS}", viewer_id, *start)
            for name in (f"public_statuses/{SAMPLE_ROWS}", f"public_statuses_oldest/{SAMPLE_ROWS}"):
                everyone |= await _post_ids(connection, name, viewer_id, 0, 2**62)
            assert everyone & {posts["unlisted"], posts["followers"]} == set(), viewer
            if viewer != BLOCKED:
                assert posts["public"] in everyone, viewer
            by_author = await _post_ids(
                connection, f"author/{SAMPLE_ROWS}", viewer_id, *start, world.author.id
            )
            by_id = await _post_ids(connection, "posts_by_id", viewer_id, list(posts.values()))
            for found in (by_author, by_id):
                expected = (
                    set()
                    if viewer == BLOCKED
                    else set(posts.values())
                    if viewer in IN_FOLLOWERS
                    else {posts["public"], posts["unlisted"]}
                )
                assert found & set(posts.values()) == expected, viewer
        follower = world.people[FOLLOWER].id
        home = await _post_ids(connection, f"home/{SAMPLE_ROWS}", follower, *start)
        assert set(posts.values()) <= home
    finally:
        await connection.close()


@dataclasses.dataclass(frozen=True)
class Ask:
    """A request, and which audiences' posts it may show to a viewer who may see them:
    ``listed`` paths list everyone's posts (public alone); ``own`` paths are about the
    author or one post; ``home`` paths are the viewer's home timeline."""

    path: str
    where: str = "own"


def _routes(w: AudienceWorld) -> dict[str, list[Ask]]:
    author, posts = w.author, w.posts
    by_post = lambda make: [Ask(make(audience)) for audience in posts]  # noqa: E731
    return {
        "home": [Ask("/", "home")],
        "explore": [Ask("/explore", "listed"), Ask("/explore?sort=latest", "listed")],
        # A tag page lists everyone's posts: every post of this world carries the tag.
        "tag": [Ask(f"/tags/{TAG}", "listed"), Ask(f"/tags/{TAG}?sort=top", "listed")],
        "api_tag_posts": [
            Ask(f"/api/snapline/v1/tags/{TAG}/posts", "listed"),
            Ask(f"/api/snapline/v1/tags/{TAG}/posts?sort=top", "listed"),
        ],
        "api_trending": [
            Ask("/api/snapline/v1/trending", "listed"),
            Ask("/api/snapline/v1/trending?photos=true", "listed"),
        ],
        "mastodon_trends_statuses": [Ask("/api/v1/trends/statuses", "listed")],
        "mastodon_timelines_tag": [Ask(f"/api/v1/timelines/tag/{TAG}", "listed")],
        # A search finds every post of this world by its tag: the author's own, a
        # follower's every post they may see, anyone else's public ones alone.
        "search": [Ask(f"/search?q={TAG}", "search"), Ask(f"/search?q={TAG}&type=posts", "search")],
        "api_search": [Ask(f"/api/snapline/v1/search?q={TAG}", "search")],
        "mastodon_search": [Ask(f"/api/v2/search?q={TAG}", "search")],
        "profile": [Ask(f"/@{author.username}")],
        "post": by_post(lambda a: f"/p/{posts[a]}"),
        "fragments_posts": [Ask(f"/fragments/posts?ids={','.join(map(str, posts.values()))}")],
        "notifications": [Ask("/notifications", "home")],
        "report_post": by_post(lambda a: f"/p/{posts[a]}/report"),
        "report_comment": [Ask(f"/comments/{w.comments[a]}/report") for a in posts],
        "api_timeline": [Ask("/api/snapline/v1/timeline", "home")],
        "api_explore": [Ask("/api/snapline/v1/explore", "listed")],
        "api_post": by_post(lambda a: f"/api/snapline/v1/posts/{posts[a]}"),
        "api_comments": by_post(lambda a: f"/api/snapline/v1/posts/{posts[a]}/comments"),
        "api_user_posts": [Ask(f"/api/snapline/v1/users/{author.username}/posts")],
        "api_notifications": [Ask("/api/snapline/v1/notifications", "home")],
        "mastodon_timelines_home": [Ask("/api/v1/timelines/home", "home")],
        "mastodon_timelines_public": [
            Ask("/api/v1/timelines/public", "listed"),
            Ask("/api/v1/timelines/public?min_id=0", "listed"),
        ],
        "mastodon_notifications": [Ask("/api/v1/notifications", "home")],
        "mastodon_account_statuses": [Ask(f"/api/v1/accounts/{author.id}/statuses")],
        "mastodon_status": [
            *(Ask(f"/api/v1/statuses/{w.status_ids[a]}") for a in posts),
            *(Ask(f"/api/v1/statuses/{w.comment_status_ids[a]}") for a in posts),
        ],
        "mastodon_status_context": by_post(lambda a: f"/api/v1/statuses/{w.status_ids[a]}/context"),
        "mastodon_status_favourited_by": by_post(
            lambda a: f"/api/v1/statuses/{w.status_ids[a]}/favourited_by"
        ),
    }


# Routes of tests/test_blocks.py's table that show people or tags, never a post's words.
PEOPLE_ONLY = {
    "followers", "following", "settings_blocks", "settings_mutes", "api_user",
    "api_followers", "api_following", "mastodon_relationships", "mastodon_account_lookup",
    "mastodon_account", "mastodon_account_followers", "mastodon_account_following",
    "report_account", "settings_reports", "about", "mastodon_blocks", "mastodon_mutes",
    "mastodon_account_search", "follow_requests", "mastodon_follow_requests",
    "api_people_suggestions", "api_trending_tags", "mastodon_trends_tags",
}  # fmt: skip


async def test_no_page_fragment_or_api_answer_shows_a_post_outside_its_audience(
    client, make_client, login, world
):
    """Every route that shows posts, as each viewer asks it: the followers-only post (and
    the comment under it) only to the author and their followers; unlisted posts never on
    a list of everyone's posts, but on the profile and the post page to anyone."""
    from tests.test_blocks import ROUTES as BLOCK_ROUTES

    routes = _routes(world)
    assert set(BLOCK_ROUTES) - PEOPLE_ONLY == set(routes), "a route that shows posts is missing"
    for viewer in VIEWERS:
        asking = await make_client(client)
        if viewer != ANONYMOUS:
            await login(asking, world.people[viewer])
        for name, asks in routes.items():
            for ask in asks:
                response = await asking.get(ask.path)
                body = await response.text()
                assert response.status < 500, (viewer, ask.path)
                shown = world.shown(body)
                if viewer not in IN_FOLLOWERS:
                    assert "followers" not in shown, (viewer, name, ask.path)
                if ask.where == "listed":
                    assert shown <= {"public"}, (viewer, name, ask.path)
                timeline = name in ("home", "api_timeline", "mastodon_timelines_home")
                if timeline and viewer in (STRANGER, MODERATOR, REQUESTER):
                    # Not following the author, they follow the posts' tag: the public
                    # post alone comes in through it.
                    assert shown & set(world.posts) <= {"public"}, (viewer, name, ask.path)
                if ask.where == "search":
                    found = set() if viewer == BLOCKED else {"public"}
                    if viewer in IN_FOLLOWERS:
                        found = {"public", "unlisted", "followers"}
                    assert shown == found, (viewer, name, ask.path)
        if viewer in (ANONYMOUS, STRANGER, MODERATOR, REQUESTER):
            # An unlisted post is on its author's profile and its page, to anyone.
            for path in (f"/@{world.author.username}", f"/p/{world.posts['unlisted']}"):
                assert "unlisted" in world.shown(await (await asking.get(path)).text()), path
            missing = await asking.get(f"/p/{world.posts['followers']}")
            assert missing.status == 404
            if viewer != ANONYMOUS:  # reporting asks for a signed-in user first
                report = await asking.get(f"/p/{world.posts['followers']}/report")
                assert report.status == 404
            status = await asking.get(f"/api/v1/statuses/{world.status_ids['followers']}")
            assert status.status == 404
    # A stranger's home has the public post through the tag they follow.
    stranger = await make_client(client)
    await login(stranger, world.people[STRANGER])
    assert world.shown(await (await stranger.get("/")).text()) == {"public"}
    # The follower sees all three in their home timeline, and the followers-only post's page.
    follower = await make_client(client)
    await login(follower, world.people[FOLLOWER])
    assert world.shown(await (await follower.get("/")).text()) == {
        "public",
        "unlisted",
        "followers",
    }
    page = await follower.get(f"/p/{world.posts['followers']}")
    assert page.status == 200 and "Followers only" in await page.text()


async def test_changing_a_posts_audience_takes_effect_everywhere_at_once(
    client, make_client, factory, login
):
    author, stranger = await factory.user(), await factory.user()
    post_id = await factory.post(author, "changing minds")
    await login(client, author)
    anonymous = await make_client(client)
    assert "changing minds" in await (await anonymous.get("/explore?sort=latest")).text()
    page = await (await client.get(f"/p/{post_id}")).text()
    assert 'name="audience"' in page and "Who can see this post" in page

    changed = await submit(
        client, f"/p/{post_id}/audience", {"audience": "followers"}, page=f"/p/{post_id}"
    )
    assert changed.status == 303 and changed.headers["Location"] == f"/p/{post_id}"
    shown = await (await client.get(f"/p/{post_id}")).text()
    assert "This post is now for your followers only." in shown
    assert "Followers only" in shown
    assert (await anonymous.get(f"/p/{post_id}")).status == 404
    assert "changing minds" not in await (await anonymous.get("/explore?sort=latest")).text()
    assert (await anonymous.get(f"/api/snapline/v1/posts/{post_id}")).status == 404

    await submit(client, f"/p/{post_id}/audience", {"audience": "unlisted"}, page=f"/p/{post_id}")
    assert (await anonymous.get(f"/p/{post_id}")).status == 200
    assert "changing minds" not in await (await anonymous.get("/explore?sort=latest")).text()
    answer = await (await anonymous.get(f"/api/snapline/v1/posts/{post_id}")).json()
    assert answer["audience"] == "unlisted"

    # Only the author changes it; to anyone else the post might as well not exist.
    other = await make_client(client)
    await login(other, stranger)
    refused = await submit(other, f"/p/{post_id}/audience", {"audience": "public"})
    assert refused.status == 404
    wrong = await submit(client, f"/p/{post_id}/audience", {"audience": "everyone"})
    assert wrong.status == 422


async def test_nobody_likes_comments_on_or_favourites_a_post_they_cannot_see(
    client, factory, login, db
):
    author, stranger = await factory.user(), await factory.user()
    post_id = await factory.post(author, "for my followers", "followers")
    async with db() as session:
        status_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": post_id}
        )
    await login(client, stranger)
    assert (await submit(client, f"/p/{post_id}/like")).status == 404
    assert (await submit(client, f"/p/{post_id}/comments", {"body": "hi"})).status == 404
    api = Api(client)
    for path, body in (
        (f"/posts/{post_id}/like", None),
        (f"/posts/{post_id}/comments", {"body": "hi"}),
    ):
        assert (await api.call("POST", "/api/snapline/v1" + path, body)).status == 404, path
    token = await user_token(client)
    favourite = await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=bearer(token))
    assert favourite.status == 404
    reply = await client.post(
        "/api/v1/statuses",
        json={"status": "hi", "in_reply_to_id": str(status_id)},
        headers=bearer(token),
    )
    assert reply.status == 404
    # Nothing was done, so the author was told of nothing.
    async with db() as session:
        told = await session.scalar(
            text("SELECT count(*) FROM notifications WHERE user_id = :id"), {"id": author.id}
        )
    assert told == 0


async def test_a_followers_only_post_goes_live_to_followers_who_may_see_it(client, factory, db):
    """The live hub tells a new followers-only post to the author's followers, and not to
    one the author blocked whose follow is put back by hand."""
    from service.domain import blocks

    author, fan, blocked = await factory.user(), await factory.user(), await factory.user()
    for reader in (fan, blocked):
        await factory.follow(reader, author)
    async with db.begin() as session:
        await blocks.block(session, author.id, blocked.id)
        await session.execute(
            text("INSERT INTO follows (follower_id, followed_id) VALUES (:a, :b)"),
            {"a": blocked.id, "b": author.id},
        )
    hub: LiveHub = client.server.app[live_hub_key]
    streams = {user.id: hub.subscribe(user.id, b"s" * 32) for user in (fan, blocked)}
    try:
        post_id = await factory.post(author, "just for you", "followers")
        await hub._deliver({"type": "post", "post_id": post_id, "author_id": author.id})
        told = {user_id for user_id, stream in streams.items() if not stream.queue.empty()}
        assert told == {fan.id}
    finally:
        for stream in streams.values():
            hub.unsubscribe(stream)


async def test_the_composer_and_settings_choose_the_audience(client, factory, login, db):
    me = await factory.user()
    await login(client, me)
    home = await (await client.get("/")).text()
    assert '<select id="field-audience" name="audience"' in home
    for label in ("Public", "Unlisted — not on explore", "Followers only"):
        assert label in html.unescape(home)
    assert '<option value="public" selected>' in home
    # The default, from the profile settings.
    settings_page = await (await client.get("/settings/profile")).text()
    assert 'name="default_audience"' in settings_page
    saved = await submit(
        client,
        "/settings/profile",
        {"display_name": "", "location": "", "bio": "", "default_audience": "followers"},
        page="/settings/profile",
    )
    assert saved.status == 303
    home = await (await client.get("/")).text()
    assert '<option value="followers" selected>' in home
    refused = await submit(
        client,
        "/settings/profile",
        {"display_name": "", "location": "", "bio": "", "default_audience": "friends"},
        page="/settings/profile",
    )
    assert refused.status == 422
    # A post without a choice takes the default; with one, the choice.
    for chosen, expected in ((None, "followers"), ("unlisted", "unlisted"), ("public", "public")):
        form = {"body": f"chose {chosen}"} | ({"audience": chosen} if chosen else {})
        made = await submit(client, "/posts", form)
        assert made.status == 303
        post_id = int(made.headers["Location"].rsplit("/", 1)[1])
        answer = await (await client.get(f"/api/snapline/v1/posts/{post_id}")).json()
        assert answer["audience"] == expected
    page = await submit(client, "/posts", {"body": "odd", "audience": "everyone"})
    assert page.status == 422 and "Choose who the post is for" in await page.text()


async def test_the_snapline_api_takes_and_shows_the_audience(client, factory, login):
    me = await factory.user()
    await login(client, me)
    api = Api(client)
    made = await api.call(
        "POST", "/api/snapline/v1/posts", {"body": "api post", "audience": "followers"}
    )
    assert made.status == 201 and (await made.json())["audience"] == "followers"
    plain = await (await api.call("POST", "/api/snapline/v1/posts", {"body": "plain"})).json()
    assert plain["audience"] == "public"
    wrong = await api.call("POST", "/api/snapline/v1/posts", {"body": "x", "audience": "all"})
    assert wrong.status == 422
    assert (await wrong.json())["error"]["code"] == "invalid_audience"


async def test_the_mastodon_api_maps_visibility_both_ways(client, make_client, factory, login):
    me, fan, stranger = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(fan, me)
    await login(client, me)
    token = bearer(await user_token(client))
    made = {}
    for visibility in ("public", "unlisted", "private"):
        answer = await client.post(
            "/api/v1/statuses",
            json={"status": f"as {visibility}", "visibility": visibility},
            headers=token,
        )
        assert answer.status == 200, await answer.text()
        made[visibility] = await answer.json()
        assert made[visibility]["visibility"] == visibility
    direct = await client.post(
        "/api/v1/statuses", json={"status": "psst", "visibility": "direct"}, headers=token
    )
    assert direct.status == 422
    # The default: from the user's default audience, which source[privacy] sets.
    own = await (await client.get("/api/v1/accounts/verify_credentials", headers=token)).json()
    assert own["source"]["privacy"] == "public"
    updated = await client.patch(
        "/api/v1/accounts/update_credentials", data={"source[privacy]": "private"}, headers=token
    )
    assert updated.status == 200 and (await updated.json())["source"]["privacy"] == "private"
    again = await client.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"privacy": "unlisted"}},
        headers=token,
    )
    assert (await again.json())["source"]["privacy"] == "unlisted"
    own = await (await client.get("/api/v1/accounts/verify_credentials", headers=token)).json()
    assert own["source"]["privacy"] == "unlisted"
    preferences = await (await client.get("/api/v1/preferences", headers=token)).json()
    assert preferences["posting:default:visibility"] == "unlisted"
    plain = await (
        await client.post("/api/v1/statuses", json={"status": "by default"}, headers=token)
    ).json()
    assert plain["visibility"] == "unlisted"
    wrong = await client.patch(
        "/api/v1/accounts/update_credentials", data={"source[privacy]": "direct"}, headers=token
    )
    assert wrong.status == 422
    # Read back: the follower sees the private status, a stranger does not.
    for person, sees_private in ((fan, True), (stranger, False)):
        reader = await make_client(client)
        await login(reader, person)
        their = bearer(await user_token(reader))
        answer = await reader.get(f"/api/v1/statuses/{made['private']['id']}", headers=their)
        assert (answer.status == 200) is sees_private
        listed = await (
            await reader.get(f"/api/v1/accounts/{me.id}/statuses", headers=their)
        ).json()
        shown = {status["visibility"] for status in listed}
        assert shown == (
            {"public", "unlisted", "private"} if sees_private else {"public", "unlisted"}
        )
        public = await (await reader.get("/api/v1/timelines/public", headers=their)).json()
        assert {status["id"] for status in public} & {
            made["unlisted"]["id"],
            made["private"]["id"],
        } == set()
