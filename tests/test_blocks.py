"""Block, mute, remove a follower, end to end: nothing of a hidden person reaches the viewer
through any page, fragment, API answer of either API or live event; what a block refuses;
counters; mutes that end; the lists and the Mastodon API's entities (docs/moderation.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from sqlalchemy import text

from service.domain import blocks
from service.keys import live_hub_key
from service.live import LiveHub
from tests.api import Api
from tests.blocking import BLOCKED, BLOCKER, EXPIRED, MUTED, TAG, Blocking, blocking_world
from tests.oauth import bearer, user_token
from tests.support import submit


@dataclass(frozen=True)
class Ask:
    """One request the viewer makes: its path, the status it must answer, and whose names
    may show in it (a page about them, or a list of people a mute leaves them in)."""

    path: str
    status: int = 200
    named: tuple[str, ...] = ()


Asks = Callable[[Blocking], list[Ask]]


def _each_person(make: Callable[[Blocking, str], str], blocker_status: int = 404) -> Asks:
    """The path about each hidden person: the blocker's is unknown to the viewer; the
    others' are found, and name them."""

    def asks(b: Blocking) -> list[Ask]:
        found = [Ask(make(b, role), 200, (role,)) for role in (BLOCKED, MUTED, EXPIRED)]
        return [Ask(make(b, BLOCKER), blocker_status), *found]

    return asks


def _each_post(make: Callable[[Blocking, str], str]) -> Asks:
    """A hidden person's post is not there for the viewer; the third's and the viewer's own
    are, without what the hidden people said under them."""

    def asks(b: Blocking) -> list[Ask]:
        hidden = [Ask(make(b, role), 404) for role in (BLOCKER, BLOCKED, MUTED)]
        return [*hidden, Ask(make(b, "third")), Ask(make(b, "viewer"))]

    return asks


def _post(b: Blocking, whose: str) -> int:
    return {"third": b.third_post, "viewer": b.viewer_post}.get(whose) or b.posts[whose]


def _lists(make: Callable[[str], str]) -> Asks:
    """A list of follows of the third or the viewer (a mute leaves the muted in them), and
    of the blocker, whom the viewer cannot look up."""
    return lambda b: [
        Ask(make(b.third.username), named=(MUTED,)),
        Ask(make(b.viewer.username), named=(MUTED,)),
        Ask(make(b.people[BLOCKER].username), 404),
    ]


def _ids_lists(make: Callable[[int], str]) -> Asks:
    return lambda b: [
        Ask(make(b.third.id), named=(MUTED,)),
        Ask(make(b.viewer.id), named=(MUTED,)),
        Ask(make(b.people[BLOCKER].id), 404),
    ]


def _searches(make: Callable[[str], str]) -> Asks:
    """A search for each hidden person, by their username but its last letter (a search page
    repeats what was asked): who blocked the viewer and whom they blocked are not found, the
    muted are (a mute leaves them in lists of people)."""

    def asks(b: Blocking) -> list[Ask]:
        return [
            Ask(
                make(b.people[role].username[:-1]),
                named=(role,) if role in (MUTED, EXPIRED) else (),
            )
            for role in (BLOCKER, BLOCKED, MUTED, EXPIRED)
        ]

    return asks


def _finds(make: Callable[[str], str]) -> Asks:
    """A search for people by each hidden person's name, as _searches, and for posts and
    tags: each one's post by a word of its own, and every post by the tag all carry. None of those
    the rule hides is found (the expired mute's post is, checked below)."""

    def asks(b: Blocking) -> list[Ask]:
        # By the last of its words: a search page repeats what was asked.
        posts = [
            Ask(make(b.words[role].split()[-1])) for role in (BLOCKER, BLOCKED, MUTED, EXPIRED)
        ]
        named = (EXPIRED,)  # the post of the expired mute's person is found, by its author
        return [*_searches(make)(b), *posts, Ask(make(TAG), named=named)]

    return asks


def _one(path: str, named: tuple[str, ...] = ()) -> Asks:
    return lambda b: [Ask(path, named=named)]


# Every GET route that shows posts, comments, people or notifications, and how the viewer
# asks it. A GET route with no line here nor in NOTHING_OF_OTHERS fails the test.
ROUTES: dict[str, Asks] = {
    "home": _one("/"),
    "explore": lambda b: [Ask("/explore"), Ask("/explore?sort=latest")],
    "search": _finds(lambda q: f"/search?q={quote(q)}"),
    "api_search": _finds(lambda q: f"/api/snapline/v1/search?q={quote(q)}"),
    "mastodon_search": _finds(lambda q: f"/api/v2/search?q={quote(q)}"),
    "profile": _each_person(lambda b, role: f"/@{b.people[role].username}"),
    "followers": _lists(lambda name: f"/@{name}/followers"),
    "following": _lists(lambda name: f"/@{name}/following"),
    "post": _each_post(lambda b, whose: f"/p/{_post(b, whose)}"),
    "notifications": _one("/notifications"),
    "fragments_posts": lambda b: [
        Ask(f"/fragments/posts?ids={','.join(map(str, [*b.posts.values(), b.third_post]))}")
    ],
    "settings_blocks": _one("/settings/blocks", (BLOCKED,)),
    "settings_mutes": _one("/settings/mutes", (MUTED,)),
    "api_timeline": _one("/api/snapline/v1/timeline"),
    "api_explore": _one("/api/snapline/v1/explore"),
    "api_trending": lambda b: [
        Ask("/api/snapline/v1/trending"),
        Ask("/api/snapline/v1/trending?photos=true"),
    ],
    "api_trending_tags": _one("/api/snapline/v1/trending/tags"),
    "mastodon_trends_statuses": _one("/api/v1/trends/statuses"),
    "mastodon_trends_tags": _one("/api/v1/trends/tags"),
    "api_tag_posts": lambda b: [
        Ask(f"/api/snapline/v1/tags/{TAG}/posts"),
        Ask(f"/api/snapline/v1/tags/{TAG}/posts?sort=top"),
    ],
    "api_post": _each_post(lambda b, whose: f"/api/snapline/v1/posts/{_post(b, whose)}"),
    "api_comments": _each_post(
        lambda b, whose: f"/api/snapline/v1/posts/{_post(b, whose)}/comments"
    ),
    "api_people_suggestions": _searches(
        lambda name: f"/api/snapline/v1/people/suggestions?q={name}"
    ),
    "api_user": _each_person(lambda b, role: f"/api/snapline/v1/users/{b.people[role].username}"),
    "api_user_posts": _each_person(
        lambda b, role: f"/api/snapline/v1/users/{b.people[role].username}/posts"
    ),
    "api_followers": _lists(lambda name: f"/api/snapline/v1/users/{name}/followers"),
    "api_following": _lists(lambda name: f"/api/snapline/v1/users/{name}/following"),
    "api_notifications": _one("/api/snapline/v1/notifications"),
    "mastodon_timelines_home": _one("/api/v1/timelines/home"),
    "mastodon_timelines_public": _one("/api/v1/timelines/public"),
    "mastodon_timelines_tag": _one(f"/api/v1/timelines/tag/{TAG}"),
    "tag": lambda b: [Ask(f"/tags/{TAG}"), Ask(f"/tags/{TAG}?sort=top")],
    "mastodon_notifications": _one("/api/v1/notifications"),
    "mastodon_relationships": lambda b: [
        Ask("/api/v1/accounts/relationships?" + "&".join(f"id[]={p.id}" for p in b.people.values()))
    ],
    "mastodon_account_search": _searches(lambda name: f"/api/v1/accounts/search?q={name}"),
    "mastodon_account_lookup": _each_person(
        lambda b, role: f"/api/v1/accounts/lookup?acct={b.people[role].username}"
    ),
    "mastodon_account": _each_person(lambda b, role: f"/api/v1/accounts/{b.people[role].id}"),
    "mastodon_account_statuses": _each_person(
        lambda b, role: f"/api/v1/accounts/{b.people[role].id}/statuses"
    ),
    "mastodon_account_followers": _ids_lists(lambda id_: f"/api/v1/accounts/{id_}/followers"),
    "mastodon_account_following": _ids_lists(lambda id_: f"/api/v1/accounts/{id_}/following"),
    "mastodon_status": lambda b: [
        *(Ask(f"/api/v1/statuses/{b.post_status_ids[r]}", 404) for r in (BLOCKER, BLOCKED, MUTED)),
        *(Ask(f"/api/v1/statuses/{b.comment_status_ids[r]}", 404) for r in (BLOCKER, MUTED)),
        Ask(f"/api/v1/statuses/{b.third_status_id}"),
    ],
    "mastodon_status_context": lambda b: [Ask(f"/api/v1/statuses/{b.third_status_id}/context")],
    "mastodon_status_favourited_by": lambda b: [
        Ask(f"/api/v1/statuses/{b.third_status_id}/favourited_by", named=(MUTED,))
    ],
    "report_post": lambda b: [
        *(Ask(f"/p/{b.posts[role]}/report", 404) for role in (BLOCKER, BLOCKED, MUTED)),
        Ask(f"/p/{b.third_post}/report"),
        Ask(f"/p/{b.viewer_post}/report", 422),
    ],
    "report_comment": lambda b: [
        *(Ask(f"/comments/{b.comments[role]}/report", 404) for role in (BLOCKER, BLOCKED, MUTED)),
        *(Ask(f"/comments/{b.viewer_comments[r]}/report", 404) for r in (BLOCKER, BLOCKED, MUTED)),
        Ask(f"/comments/{b.comments[EXPIRED]}/report"),
    ],
    "report_account": _each_person(lambda b, role: f"/@{b.people[role].username}/report"),
    "settings_reports": _one("/settings/reports"),
    "about": _one("/about"),
    "mastodon_blocks": _one("/api/v1/blocks", (BLOCKED,)),
    "mastodon_mutes": _one("/api/v1/mutes", (MUTED,)),
    "follow_requests": _one("/follow-requests"),
    "mastodon_follow_requests": _one("/api/v1/follow_requests"),
}
# GET routes that show one thing by an id the world does not know in advance: the rule is
# checked for each of the viewer's notifications at the statement level
# (tests/test_read_layer.py, test_no_statement_shows_a_viewer_what_blocks_and_mutes_hide).
CHECKED_BY_ID = {"mastodon_notification"}
# GET routes that show nothing of other people: files and probes, forms, the viewer's own
# account and settings, the instance, what apps ask for at start, the admin's list of
# accounts, of sign-ups and the moderators' reports and audit log (every account, on
# purpose: the viewer here is no moderator and is refused them), one's own uploads
# (mastodon_media) and invites, the live stream (its post events are checked below, its
# notification events carry the count the badge statements give), and the Mastodon streams
# (for bearer tokens only: what they tell a blocked or muting reader is checked in
# tests/test_mastodon_streaming.py), and the API's OpenAPI document.
NOTHING_OF_OTHERS = {
    "healthz", "readyz", "signup", "login", "password_forgot", "password_reset", "confirm",
    "settings_profile", "settings_password", "settings_apps", "settings_tokens", "identicon",
    "static", "media", "metrics", "admin_users", "api_stream", "oauth_authorize",
    "oauth_app_verify", "oauth_metadata", "mastodon_instance_v1", "mastodon_instance_v1_",
    "mastodon_instance_v2", "mastodon_instance_v2_", "mastodon_nodeinfo_links",
    "mastodon_nodeinfo", "mastodon_verify_credentials", "mastodon_preferences",
    "mastodon_markers", "mastodon_filters_v1", "mastodon_filters_v2", "mastodon_lists",
    "mastodon_announcements", "mastodon_followed_tags", "mastodon_custom_emojis",
    "mastodon_trends_links",
    "mastodon_media", "mastodon_streaming", "mastodon_streaming_user",
    "mastodon_streaming_user_notification", "mastodon_streaming_health",
    "admin_reports", "admin_report", "admin_audit", "api_openapi",
    "settings_export", "settings_export_download", "settings_delete",
    "signup_pending", "invite", "settings_invites", "admin_settings",
    "admin_applications", "mastodon_instance_rules", "mastodon_tag", "api_tag", "settings_tags",
}  # fmt: skip


@pytest.fixture
async def world(db, factory) -> Blocking:
    return await blocking_world(db, factory)


async def test_no_page_fragment_or_api_answer_shows_what_blocks_and_mutes_hide(
    client, login, world
):
    """Every GET route of the router, asked by the viewer with the people they blocked, who
    blocked them and whom they muted all around them: none of their words, and none of
    their names but where a page is about them or a mute leaves them in a list."""
    routes = {
        route.name
        for route in client.server.app.router.routes()
        if route.method in {"GET", "HEAD"} and route.name is not None
    }
    unlisted = routes - NOTHING_OF_OTHERS - CHECKED_BY_ID - set(ROUTES)
    assert unlisted == set(), "a GET route has no line here"
    assert set(ROUTES) <= routes
    await login(client, world.viewer)
    for name, asks in ROUTES.items():
        for ask in asks(world):
            response = await client.get(ask.path)
            body = await response.text()
            assert response.status == ask.status, (name, ask.path, response.status, body[:300])
            assert world.leaks(body, ask.named) == set(), (name, ask.path)
    # And what an expired mute hid is back where the viewer looks.
    home = await (await client.get("/api/snapline/v1/timeline")).text()
    assert world.words[EXPIRED] in home
    tagged = await (await client.get(f"/tags/{TAG}")).text()
    assert world.words[EXPIRED] in tagged and "the third&#x27;s post" in tagged
    for path in (f"/search?q={TAG}", f"/api/v2/search?q={TAG}&type=statuses"):
        found = await (await client.get(path)).text()
        assert world.people[EXPIRED].username in found and "the third" in found, path


async def test_the_live_hub_tells_no_blocked_or_muting_reader_of_a_post(client, factory, db):
    """A post event reaches the author's followers who may see it: not one the author
    blocked, nor one muting the author."""
    author = await factory.user()
    fan, muter, blocked = await factory.user(), await factory.user(), await factory.user()
    for reader in (fan, muter, blocked):
        await factory.follow(reader, author)
    async with db.begin() as session:
        await blocks.mute(session, muter.id, author.id)
        await blocks.block(session, author.id, blocked.id)
        # Put the follow back by hand: the rule alone must keep the event from them.
        await session.execute(
            text("INSERT INTO follows (follower_id, followed_id) VALUES (:a, :b)"),
            {"a": blocked.id, "b": author.id},
        )
    hub: LiveHub = client.server.app[live_hub_key]
    streams = {user.id: hub.subscribe(user.id, b"s" * 32) for user in (fan, muter, blocked)}
    try:
        post_id = await factory.post(author)
        await hub._deliver({"type": "post", "post_id": post_id, "author_id": author.id})
        told = {user_id for user_id, stream in streams.items() if not stream.queue.empty()}
        assert told == {fan.id}
    finally:
        for stream in streams.values():
            hub.unsubscribe(stream)


async def follow_counts_hold(db, *people) -> None:
    """Each one's follower and following counts are the COUNT(*) of their follows."""
    async with db() as session:
        wrong = await session.scalar(
            text(
                "SELECT count(*) FROM users u WHERE u.id = ANY(:ids) AND (u.followers_count <>"
                " (SELECT count(*) FROM follows f WHERE f.followed_id = u.id)"
                " OR u.following_count <> (SELECT count(*) FROM follows f"
                " WHERE f.follower_id = u.id))"
            ),
            {"ids": [person.id for person in people]},
        )
    assert wrong == 0


async def test_blocking_from_the_api_ends_follows_both_ways_and_keeps_counters(
    client, make_client, factory, login, db
):
    me, them = await factory.user(), await factory.user()
    await factory.follow(me, them)
    await factory.follow(them, me)
    their_post, my_post = await factory.post(them), await factory.post(me)
    their_comment = await factory.comment(them, my_post)
    await factory.like(them, my_post)
    await login(client, me)
    api = Api(client)
    blocked = await (
        await api.call("POST", f"/api/snapline/v1/users/{them.username}/block", expect=200)
    ).json()
    assert blocked["blocking"] is True
    assert (blocked["following"], blocked["follows_you"], blocked["followers_count"]) == (
        False,
        False,
        0,
    )
    await follow_counts_hold(db, me, them)
    # Their like and comment stay (the counters count them), hidden from me.
    post = await api.get(f"/api/snapline/v1/posts/{my_post}")
    assert (post["like_count"], post["comment_count"]) == (1, 1)
    comments = await api.get(f"/api/snapline/v1/posts/{my_post}/comments")
    assert their_comment not in [item["id"] for item in comments["items"]]
    await api.get(f"/api/snapline/v1/posts/{their_post}", expect=404)

    # What the block refuses them, in pages and the API: following me is 403, my posts
    # are not there to like or comment on.
    other = await make_client(client)
    await login(other, them)
    their_api = Api(other)
    refused = await their_api.call("POST", f"/api/snapline/v1/users/{me.username}/follow")
    assert refused.status == 403
    assert (await refused.json())["error"]["message"] == "You cannot follow this account."
    page = await submit(other, f"/@{me.username}/follow", page=f"/p/{their_post}")
    assert page.status == 403 and "You cannot follow this account." in await page.text()
    for path, body in (
        (f"/posts/{my_post}/like", None),
        (f"/posts/{my_post}/comments", {"body": "hi"}),
    ):
        answer = await their_api.call("POST", "/api/snapline/v1" + path, body)
        assert answer.status == 404, path
    assert (await submit(other, f"/p/{my_post}/like", page="/")).status == 404
    assert (await submit(other, f"/p/{my_post}/comments", {"body": "hi"})).status == 404
    await their_api.get(f"/api/snapline/v1/users/{me.username}", expect=404)
    # Nor may I follow whom I blocked until I unblock; unblocking restores no follow.
    mine = await api.call("POST", f"/api/snapline/v1/users/{them.username}/follow")
    assert mine.status == 403 and (await mine.json())["error"]["code"] == "blocking"
    unblocked = await (
        await api.call("DELETE", f"/api/snapline/v1/users/{them.username}/block", expect=200)
    ).json()
    assert (unblocked["blocking"], unblocked["following"], unblocked["follows_you"]) == (
        False,
        False,
        False,
    )
    await api.follow(them.username)
    await follow_counts_hold(db, me, them)


async def test_removing_a_follower_ends_their_follow_only(client, factory, login, db):
    me, fan = await factory.user(), await factory.user()
    await factory.follow(fan, me)
    await factory.follow(me, fan)
    await login(client, me)
    followers_page = f"/@{me.username}/followers"
    page = await (await client.get(followers_page)).text()
    assert f"Remove @{fan.username}" in page
    removed = await submit(client, f"/@{fan.username}/remove_follower", page=followers_page)
    assert removed.status == 303 and removed.headers["Location"] == followers_page
    page = await (await client.get(followers_page)).text()
    assert f"@{fan.username} no longer follows you." in page
    assert f'href="/@{fan.username}"' not in page
    me_now = await Api(client).get(f"/api/snapline/v1/users/{fan.username}")
    assert (me_now["following"], me_now["follows_you"], me_now["blocking"]) == (True, False, False)
    await follow_counts_hold(db, me, fan)
    # Through the API too, and they may follow again.
    await factory.follow(fan, me)
    answer = await Api(client).call(
        "POST", f"/api/snapline/v1/users/{fan.username}/remove_follower", expect=200
    )
    assert (await answer.json())["follows_you"] is False
    await factory.follow(fan, me)
    await follow_counts_hold(db, me, fan)


async def test_a_mute_hides_posts_until_it_ends_and_the_muted_notice_nothing(
    client, make_client, factory, login, db
):
    me, loud = await factory.user(), await factory.user()
    await factory.follow(me, loud)
    await factory.post(loud, "loud words")
    await login(client, me)
    api = Api(client)
    muted = await (
        await api.call(
            "POST", f"/api/snapline/v1/users/{loud.username}/mute", {"duration": 3600}, expect=200
        )
    ).json()
    assert muted["muting"] is True and muted["mute_expires_at"] is not None
    assert muted["following"] is True  # a mute ends no follow
    assert "loud words" not in await (await client.get("/")).text()
    # The muted person notices nothing: they still see me, follow me, interact.
    other = await make_client(client)
    await login(other, loud)
    my_post = await factory.post(me, "quiet words")
    assert "quiet words" in await (await other.get(f"/@{me.username}")).text()
    await Api(other).call("POST", f"/api/snapline/v1/posts/{my_post}/like", expect=200)
    assert (await api.get("/api/snapline/v1/notifications"))["items"] == []
    # The hour passes.
    async with db.begin() as session:
        await session.execute(
            text("UPDATE mutes SET expires_at = now() - interval '1 second' WHERE muter_id = :me"),
            {"me": me.id},
        )
    assert "loud words" in await (await client.get("/")).text()
    assert [n["kind"] for n in (await api.get("/api/snapline/v1/notifications"))["items"]] == [
        "like"
    ]
    assert (await api.get(f"/api/snapline/v1/users/{loud.username}"))["muting"] is False
    assert "You have not muted anyone." in await (await client.get("/settings/mutes")).text()
    # Housekeeping deletes the ended mute; nothing changes for anyone.
    async with db.begin() as session:
        assert await blocks.forget_expired_mutes(session) >= 1
        left = await session.scalar(
            text("SELECT count(*) FROM mutes WHERE muter_id = :me"), {"me": me.id}
        )
    assert left == 0
    for bad in ({"duration": -1}, {"duration": "soon"}, {"duration": 1.5}, {"duration": True}):
        answer = await api.call("POST", f"/api/snapline/v1/users/{loud.username}/mute", bad)
        assert answer.status == 422, bad


async def test_the_profile_menu_and_settings_block_mute_and_undo_without_javascript(
    client, factory, login
):
    me, them = await factory.user(), await factory.user()
    await factory.post(them, "their words")
    await login(client, me)
    profile = f"/@{them.username}"
    page = await (await client.get(profile)).text()
    assert f"Block @{them.username}" in page and f"Mute @{them.username}" in page
    muted = await submit(client, f"{profile}/mute", {"duration": "86400"}, page=profile)
    assert muted.status == 303 and muted.headers["Location"] == profile
    page = await (await client.get(profile)).text()
    assert f"Unmute @{them.username}" in page and "their words" not in page
    settings = await (await client.get("/settings/mutes")).text()
    assert them.username in settings and "until" in settings
    undone = await submit(
        client, f"{profile}/unmute", {"next": "/settings/mutes"}, page="/settings/mutes"
    )
    assert undone.headers["Location"] == "/settings/mutes"
    assert (
        await submit(client, f"{profile}/mute", {"duration": "soon"}, page=profile)
    ).status == 422
    await submit(client, f"{profile}/block", page=profile)
    page = await (await client.get(profile)).text()
    assert f"Unblock @{them.username}" in page and "You blocked" in page
    assert ">Follow<" not in page
    assert them.username in await (await client.get("/settings/blocks")).text()
    unblocked = await submit(
        client, f"{profile}/unblock", {"next": "https://evil.example/"}, page="/settings/blocks"
    )
    assert unblocked.headers["Location"] == profile  # never to another site
    # Without the CSRF token, nothing happens.
    forged = await client.post(f"{profile}/block", data={}, allow_redirects=False)
    assert forged.status == 403
    assert "You have not blocked anyone." in await (await client.get("/settings/blocks")).text()


async def test_the_mastodon_api_blocks_mutes_and_lists_them_with_relationships(
    client, factory, login
):
    me = await factory.user()
    others = [await factory.user() for _ in range(3)]
    await factory.follow(others[0], me)
    await login(client, me)
    token = await user_token(client, "read write follow")
    auth = bearer(token)

    async def post(path: str, **form) -> dict:
        response = await client.post(path, data=form or None, headers=auth)
        assert response.status == 200, (path, response.status, await response.text())
        return await response.json()

    relationship = await post(f"/api/v1/accounts/{others[0].id}/remove_from_followers")
    assert relationship["followed_by"] is False
    for other in others:
        relationship = await post(f"/api/v1/accounts/{other.id}/block")
        assert relationship["blocking"] is True and relationship["id"] == str(other.id)
    relationship = await post(f"/api/v1/accounts/{others[1].id}/mute", duration="600")
    assert relationship["muting"] and relationship["muting_notifications"]
    # Paging the blocks, newest first, two at a time, by the Link header.
    first = await client.get("/api/v1/blocks?limit=2", headers=auth)
    assert [a["id"] for a in await first.json()] == [str(others[2].id), str(others[1].id)]
    next_url = first.links["next"]["url"]
    second = await client.get(next_url.path_qs, headers=auth)
    assert [a["id"] for a in await second.json()] == [str(others[0].id)]
    back = await client.get(second.links["prev"]["url"].path_qs, headers=auth)
    assert [a["id"] for a in await back.json()] == [str(others[2].id), str(others[1].id)]
    mutes = await (await client.get("/api/v1/mutes", headers=auth)).json()
    assert [a["id"] for a in mutes] == [str(others[1].id)] and mutes[0]["mute_expires_at"]
    relationships = await (
        await client.get(f"/api/v1/accounts/relationships?id[]={others[1].id}", headers=auth)
    ).json()
    assert relationships[0]["blocking"] and relationships[0]["muting"]
    await post(f"/api/v1/accounts/{others[1].id}/unmute")
    relationship = await post(f"/api/v1/accounts/{others[1].id}/unblock")
    assert not relationship["blocking"] and not relationship["muting"]
    # The blocked person is told they are, as Mastodon tells them.
    missing = await client.post("/api/v1/accounts/999999999/block", headers=auth)
    assert missing.status == 404 and (await missing.json()) == {"error": "Record not found"}
    refused = await client.post(
        f"/api/v1/accounts/{others[0].id}/mute", data={"duration": "x"}, headers=auth
    )
    assert refused.status == 422 and "error" in await refused.json()


async def test_block_and_mute_routes_need_their_scopes(client, factory, login):
    me, other = await factory.user(), await factory.user()
    await login(client, me)
    reading_only = bearer(await user_token(client, "read"))
    for path in ("block", "unblock", "mute", "unmute", "remove_from_followers"):
        answer = await client.post(f"/api/v1/accounts/{other.id}/{path}", headers=reading_only)
        assert answer.status == 403, path
    assert (await client.get("/api/v1/blocks", headers=reading_only)).status == 200
    blocks_only = bearer(await user_token(client, "write:blocks read:blocks"))
    assert (
        await client.post(f"/api/v1/accounts/{other.id}/block", headers=blocks_only)
    ).status == 200
    assert (
        await client.post(f"/api/v1/accounts/{other.id}/mute", headers=blocks_only)
    ).status == 403
    assert (await client.get("/api/v1/mutes", headers=blocks_only)).status == 403
