"""The read layer's two promises: every statement that shows posts applies the one
visibility rule, and nothing but its registered statements runs on the read pool.

The first is proved twice: by the text of each statement (every ``posts`` it reads is
filtered by visibility.post_visible_to), and by running each of them against a post its
viewer may not see. A statement added to the read layer without an entry here fails the
test, so the table grows with the layer.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from service.cursor import MAX_ID
from service.domain import (
    accounts,
    blocks,
    deletion,
    follows,
    oauth,
    profiles,
    registration,
    reports,
    tag_follows,
)
from service.keys import read_pool_key
from service.reads import statements
from service.reads.paging import NEWEST_FIRST, OLDEST_FIRST
from service.reads.statements import Statement
from service.reads.visibility import post_visible_to
from tests.blocking import BLOCKED as BLOCKED_ROLE
from tests.blocking import BLOCKER, EXPIRED, MUTED, ROLES, Blocking, blocking_world
from tests.blocking import TAG as BLOCKING_TAG
from tests.support import asyncpg_dsn, make_trend
from tests.test_cli import run_command, service_env

SAMPLE_ROWS = 5
STARTUP_ENDPOINTS = {
    "mastodon_preferences": "/api/v1/preferences",
    "mastodon_markers": "/api/v1/markers?timeline[]=home",
    "mastodon_filters_v1": "/api/v1/filters",
    "mastodon_filters_v2": "/api/v2/filters",
    "mastodon_lists": "/api/v1/lists",
    "mastodon_announcements": "/api/v1/announcements",
    "mastodon_followed_tags": "/api/v1/followed_tags",
    "mastodon_custom_emojis": "/api/v1/custom_emojis",
    "mastodon_trends_tags": "/api/v1/trends/tags",
    "mastodon_trends_statuses": "/api/v1/trends/statuses",
    "mastodon_trends_links": "/api/v1/trends/links",
}
# Words that can follow a table without an alias.
SQL_WORDS = {"WHERE", "ON", "JOIN", "LEFT", "CROSS", "ORDER", "GROUP", "LIMIT", ""}


def _family(statement: Statement) -> str:
    return statement.name.split("/")[0]


@dataclass(frozen=True)
class World:
    author: int
    reader: int  # follows the author
    hidden_post: int  # the author's, still processing: only the author may see it
    shown_post: int  # the author's, published
    hidden_comment: int  # under the hidden post
    # As if the hidden post had a status id (only published posts have one): the rule
    # alone must keep it out of the lists and look-ups by status id.
    hidden_status_id: int
    hidden_comment_status_id: int
    shown_status_id: int
    hidden_notification: int  # the reader's, about the hidden post
    # Words of the hidden post alone, and a tag on it alone, as a search asks for them.
    hidden_words: str = "hidden"
    hidden_tag: str = "worldhidden"


# For each family of statements that shows posts: its arguments for a viewer (None: not
# logged in), and which of the world's hidden things a result row shows.
Arguments = Callable[[World, int | None], tuple[Any, ...]]
Shows = Callable[[World, list[asyncpg.Record]], set[str]]


def _posts(world: World, rows: list[asyncpg.Record]) -> set[str]:
    ids = {row["id"] for row in rows}
    return {name for name, post in [("hidden post", world.hidden_post)] if post in ids}


def _tags(world: World, rows: list[asyncpg.Record]) -> set[str]:
    # HIDDEN_TAG is on the hidden post alone.
    return {"the hidden post's tag" for row in rows if row["name"] == HIDDEN_TAG}


def _comments(world: World, rows: list[asyncpg.Record]) -> set[str]:
    return {"hidden comment" for row in rows if row["id"] == world.hidden_comment}


def _notifications(world: World, rows: list[asyncpg.Record]) -> set[str]:
    return {"notification of the hidden post" for r in rows if r["post_id"] == world.hidden_post}


def _likers(world: World, rows: list[asyncpg.Record]) -> set[str]:
    # The only like of the hidden post is the reader's.
    return {"who liked the hidden post"} if rows else set()


def _found_tags(world: World, rows: list[asyncpg.Record]) -> set[str]:
    # A tag that only the hidden post carries.
    return {"the hidden post's tag"} if rows else set()


def _readers(world: World, rows: list[asyncpg.Record]) -> set[str]:
    return {"a live event of the hidden post"} if rows else set()


def _unread(world: World, rows: list[asyncpg.Record]) -> set[str]:
    # The reader has exactly two unread notifications: one about each of the author's posts.
    return {"notification of the hidden post"} if rows[0][0] != 1 else set()


def _home_first_page(world: World, rows: list[asyncpg.Record]) -> set[str]:
    # The posts, then on every row the unread count (the reader's is 1, as above).
    assert rows, "the reader's first page has the author's published post"
    return _posts(world, rows) | _unread(world, [(row["unread"],) for row in rows[:1]])


START = (NEWEST_FIRST.at, NEWEST_FIRST.id)
WORLD_TAG = "world"
HIDDEN_TAG = "worldhidden"  # on the world's hidden post alone
SUSPENDED_TAG = "suspension"  # on the suspended person's post
ANY_STATUS = (0, MAX_ID)
KINDS = ["follow", "like", "comment"]
VIEWED_BY: dict[str, tuple[Arguments, Shows]] = {
    "home": (lambda w, viewer: (viewer, *START), _posts),
    "home_first_page": (lambda w, viewer: (viewer, *START), _home_first_page),
    "explore": (lambda w, viewer: (viewer, *START), _posts),
    "trending": (lambda w, viewer: (viewer, *START), _posts),
    "trending_photos": (lambda w, viewer: (viewer, *START), _posts),
    "trending_statuses": (lambda w, viewer: (viewer, *START), _posts),
    "tag_trending": (lambda w, viewer: (viewer, *START, WORLD_TAG), _posts),
    "trending_tags": (lambda w, viewer: (viewer, *START), _tags),
    "author": (lambda w, viewer: (viewer, *START, w.author), _posts),
    "posts_by_id": (lambda w, viewer: (viewer, [w.hidden_post, w.shown_post]), _posts),
    "viewable_posts": (lambda w, viewer: (viewer, [w.hidden_post, w.shown_post]), _posts),
    # Only ever run for the viewer's own posts; another's must not show even so.
    "pending_posts": (lambda w, viewer: (viewer,), _posts),
    "comments": (
        lambda w, viewer: (viewer, w.hidden_post, OLDEST_FIRST.at, OLDEST_FIRST.id),
        _comments,
    ),
    "comment": (lambda w, viewer: (viewer, w.hidden_comment), _comments),
    "notifications": (lambda w, viewer: (viewer, *START), _notifications),
    "unread_notifications": (lambda w, viewer: (viewer,), _unread),
    "public_statuses": (lambda w, viewer: (viewer, *ANY_STATUS), _posts),
    "public_statuses_oldest": (lambda w, viewer: (viewer, *ANY_STATUS), _posts),
    "home_statuses": (lambda w, viewer: (viewer, *ANY_STATUS), _posts),
    "home_statuses_oldest": (lambda w, viewer: (viewer, *ANY_STATUS), _posts),
    "account_statuses": (lambda w, viewer: (viewer, *ANY_STATUS, w.author), _posts),
    "account_statuses_oldest": (lambda w, viewer: (viewer, *ANY_STATUS, w.author), _posts),
    "account_media_statuses": (lambda w, viewer: (viewer, *ANY_STATUS, w.author), _posts),
    "account_media_statuses_oldest": (
        lambda w, viewer: (viewer, *ANY_STATUS, w.author),
        _posts,
    ),
    # Both of the author's posts carry the tag WORLD_TAG.
    "tag_statuses": (lambda w, viewer: (viewer, *ANY_STATUS, WORLD_TAG, False), _posts),
    "tag_statuses_oldest": (lambda w, viewer: (viewer, *ANY_STATUS, WORLD_TAG, False), _posts),
    "post_by_status_id": (lambda w, viewer: (viewer, w.hidden_status_id), _posts),
    "search_posts": (lambda w, viewer: (viewer, w.hidden_words, 0, False, None), _posts),
    "search_tags": (lambda w, viewer: (viewer, w.hidden_tag, 0), _found_tags),
    "comment_by_status_id": (lambda w, viewer: (viewer, w.hidden_comment_status_id), _comments),
    "comment_replies": (lambda w, viewer: (viewer, w.hidden_post), _comments),
    "likers": (lambda w, viewer: (viewer, w.hidden_post, *ANY_STATUS), _likers),
    "likers_oldest": (lambda w, viewer: (viewer, w.hidden_post, *ANY_STATUS), _likers),
    "comments_by_id": (lambda w, viewer: (viewer, [w.hidden_comment]), _comments),
    "notification_events": (lambda w, viewer: (viewer, *ANY_STATUS, KINDS), _notifications),
    "notification_events_oldest": (
        lambda w, viewer: (viewer, *ANY_STATUS, KINDS),
        _notifications,
    ),
    "notification_event": (lambda w, viewer: (viewer, w.hidden_notification), _notifications),
    # The reader follows the author: they must not be told of the hidden post.
    "post_readers": (lambda w, viewer: ([viewer], w.hidden_post), _readers),
}
# Statements whose viewer must be logged in (their lists are the viewer's own).
SIGNED_IN_ONLY = {
    "home", "home_first_page", "notifications", "unread_notifications", "pending_posts",
    "home_statuses", "home_statuses_oldest", "notification_events",
    "notification_events_oldest", "notification_event", "post_readers",
}  # fmt: skip


def test_every_statement_that_reads_posts_applies_the_rule_to_each():
    for statement in statements.every_statement(SAMPLE_ROWS):
        # post_trends carries its post's facts: a walk of trending applies the rule to them.
        reads = re.findall(
            r"\b(?:FROM|JOIN)\s+post(?:s|_trends)\b(?:\s+(?:AS\s+)?(\w+))?", statement.sql
        )
        aliases = [alias for alias in reads if alias.upper() not in SQL_WORDS]
        assert len(aliases) == len(reads), f"{statement.name} reads posts without an alias"
        if not statement.shows_posts:
            assert not re.search(r"\bposts\b", statement.sql), (
                f"{statement.name} reads posts but is not marked as showing them"
            )
            continue
        assert aliases, f"{statement.name} is marked as showing posts but reads none"
        for alias in set(aliases):
            # The viewer is $1 in every statement that shows posts, or the column it names.
            rule = post_visible_to(alias, statement.viewer)
            assert statement.sql.count(rule) >= aliases.count(alias), (
                f"{statement.name}: a read of posts {alias} is not filtered by the rule"
            )


def test_every_statement_that_shows_posts_is_in_the_visibility_table():
    families = {_family(s) for s in statements.every_statement(SAMPLE_ROWS) if s.shows_posts}
    assert families == set(VIEWED_BY)


@pytest.fixture
async def world(db, factory) -> World:
    author, reader = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    shown_post = await factory.post(author)
    await factory.comment(reader, shown_post)  # notifies the author, not the reader
    async with db.begin() as session:
        # A photo post whose photos are still processed, as posting one leaves it, with a
        # comment and a notification for the reader, such as rules to come may hide.
        hidden_post = await session.scalar(
            text(
                "INSERT INTO posts (author_id, body, status) VALUES (:author, 'hidden',"
                " 'processing') RETURNING id"
            ),
            {"author": author.id},
        )
        hidden_comment = await session.scalar(
            text(
                "INSERT INTO comments (post_id, author_id, body) VALUES (:post, :author, 'x')"
                " RETURNING id"
            ),
            {"post": hidden_post, "author": author.id},
        )
        notified = {}
        for post_id in (hidden_post, shown_post):
            notified[post_id] = await session.scalar(
                text(
                    "INSERT INTO notifications (user_id, actor_id, kind, post_id)"
                    " VALUES (:user, :actor, 'like', :post) RETURNING id"
                ),
                {"user": reader.id, "actor": author.id, "post": post_id},
            )
        # Both posts carry a tag; the hidden one's takes its status id from the trigger.
        tag_id = await session.scalar(
            text(
                "INSERT INTO tags (name, display) VALUES (:name, :name)"
                " ON CONFLICT (name) DO UPDATE SET display = excluded.display RETURNING id"
            ),
            {"name": WORLD_TAG},
        )
        await session.execute(
            text(
                "INSERT INTO post_tags (post_id, tag_id, status_id)"
                " SELECT p.id, :tag, p.status_id FROM posts p WHERE p.id IN (:hidden, :shown)"
            ),
            {"tag": tag_id, "hidden": hidden_post, "shown": shown_post},
        )
        # The reader follows the tag too: the hidden post must not come in that way either.
        await session.execute(
            text("INSERT INTO tag_follows (user_id, tag_id) VALUES (:user, :tag)"),
            {"user": reader.id, "tag": tag_id},
        )
        await session.execute(
            text(
                "WITH tag AS (INSERT INTO tags (name, display) VALUES (:name, :name)"
                " ON CONFLICT (name) DO UPDATE SET display = excluded.display RETURNING id)"
                " INSERT INTO post_tags (post_id, tag_id) SELECT :hidden, id FROM tag"
            ),
            {"name": World.hidden_tag, "hidden": hidden_post},
        )
        hidden_status_id = secrets.randbits(40) * 2
        await session.execute(
            text("UPDATE posts SET status_id = :status WHERE id = :id"),
            {"status": hidden_status_id, "id": hidden_post},
        )
        hidden_comment_status_id = await session.scalar(
            text("SELECT status_id FROM comments WHERE id = :id"), {"id": hidden_comment}
        )
        shown_status_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": shown_post}
        )
        await session.execute(
            text("INSERT INTO likes (post_id, user_id) VALUES (:post, :user)"),
            {"post": hidden_post, "user": reader.id},
        )
        await make_trend(session, [hidden_post, shown_post])
    return World(
        author.id, reader.id, hidden_post, shown_post, hidden_comment, hidden_status_id,
        hidden_comment_status_id, shown_status_id, notified[hidden_post],
    )  # fmt: skip


async def test_no_statement_shows_a_post_to_a_viewer_who_may_not_see_it(world, database_url):
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        checked = 0
        for statement in statements.every_statement(SAMPLE_ROWS):
            if not statement.shows_posts:
                continue
            arguments, shows = VIEWED_BY[_family(statement)]
            viewers = [world.reader] + ([] if _family(statement) in SIGNED_IN_ONLY else [None])
            if _family(statement) == "pending_posts":
                viewers = [world.author]  # the author's own list: here the rule must let it in
            for viewer in viewers:
                rows = await connection.fetch(statement.sql, *arguments(world, viewer))
                if viewer == world.author:
                    assert shows(world, rows) == {"hidden post"}, statement.name
                else:
                    assert shows(world, rows) == set(), (statement.name, viewer)
                checked += 1
        # The author sees their own unpublished post wherever it is asked for by id.
        by_id = statements.REGISTRY["posts_by_id"]
        rows = await connection.fetch(by_id.sql, *VIEWED_BY["posts_by_id"][0](world, world.author))
        assert [row["id"] for row in rows] == [world.hidden_post, world.shown_post]
        assert checked >= len(VIEWED_BY)
    finally:
        await connection.close()


async def test_only_registered_statements_reach_the_read_pool(
    client, make_client, factory, login, world, db
):
    """Every page and API answer a signed-in admin can ask for, with the statements they run
    on the read pool logged: each must be a registered one. A GET route added without a
    line here fails the test."""
    admin = await factory.user(role="admin")
    await factory.follow(await factory.user(), admin)
    async with db.begin() as session:
        notification_id = await session.scalar(
            text("SELECT id FROM notifications WHERE user_id = :id"), {"id": admin.id}
        )
        upload = await _unattached_photo(session, admin.id)
        report_id = await reports.file_report(session, admin.id, "post", world.shown_post, "spam")
        await reports.decide(session, report_id, admin.id, "dismiss")
        reader_comment = await session.scalar(
            text("SELECT id FROM comments WHERE post_id = :id"), {"id": world.shown_post}
        )
        invite = await registration.create_invite(session, admin.id, None, None)
    await login(client, admin)
    registered = await client.post("/api/v1/apps", data={"client_name": "app"})
    client_id = (await registered.json())["client_id"]
    shown = await client.get(f"/api/snapline/v1/posts/{world.shown_post}")
    username = (await shown.json())["author"]["username"]
    asked = {
        "home": "/",
        "explore": "/explore",
        "search": f"/search?q={username}",
        "profile": f"/@{username}",
        "followers": f"/@{username}/followers",
        "following": f"/@{username}/following",
        "post": f"/p/{world.shown_post}",
        "notifications": "/notifications",
        "admin_users": "/admin/users",
        "admin_applications": "/admin/applications",
        "admin_settings": "/admin/settings",
        "about": "/about",
        "signup": "/signup",
        "invite": f"/invite/{invite}",
        "settings_invites": "/settings/invites",
        "mastodon_instance_rules": "/api/v1/instance/rules",
        "settings_profile": "/settings/profile",
        "settings_password": "/settings/password",
        "api_timeline": "/api/snapline/v1/timeline",
        "api_explore": "/api/snapline/v1/explore",
        "api_trending": "/api/snapline/v1/trending",
        "api_trending_tags": "/api/snapline/v1/trending/tags",
        "api_tag_posts": f"/api/snapline/v1/tags/{WORLD_TAG}/posts",
        "api_tag": f"/api/snapline/v1/tags/{WORLD_TAG}",
        "settings_tags": "/settings/tags",
        "api_search": f"/api/snapline/v1/search?q={username}",
        "api_post": f"/api/snapline/v1/posts/{world.shown_post}",
        "api_comments": f"/api/snapline/v1/posts/{world.shown_post}/comments",
        "api_people_suggestions": f"/api/snapline/v1/people/suggestions?q={username[:3]}",
        "api_user": f"/api/snapline/v1/users/{username}",
        "api_user_posts": f"/api/snapline/v1/users/{username}/posts",
        "api_followers": f"/api/snapline/v1/users/{username}/followers",
        "api_following": f"/api/snapline/v1/users/{username}/following",
        "api_notifications": "/api/snapline/v1/notifications",
        "fragments_posts": f"/fragments/posts?ids={world.shown_post},{world.hidden_post}",
        "mastodon_instance_v1": "/api/v1/instance",
        "mastodon_instance_v1_": "/api/v1/instance/",
        "mastodon_instance_v2": "/api/v2/instance",
        "mastodon_instance_v2_": "/api/v2/instance/",
        "mastodon_nodeinfo_links": "/.well-known/nodeinfo",
        "mastodon_nodeinfo": "/nodeinfo/2.0",
        "mastodon_timelines_home": "/api/v1/timelines/home",
        "mastodon_timelines_public": "/api/v1/timelines/public",
        "mastodon_timelines_tag": f"/api/v1/timelines/tag/{WORLD_TAG}",
        "mastodon_tag": f"/api/v1/tags/{WORLD_TAG}",
        "tag": f"/tags/{WORLD_TAG}",
        "mastodon_verify_credentials": "/api/v1/accounts/verify_credentials",
        "mastodon_relationships": f"/api/v1/accounts/relationships?id[]={world.author}",
        "mastodon_account_lookup": f"/api/v1/accounts/lookup?acct={username}",
        "mastodon_account_search": f"/api/v1/accounts/search?q={username}",
        "mastodon_search": f"/api/v2/search?q={username}",
        "mastodon_account": f"/api/v1/accounts/{world.author}",
        "mastodon_account_statuses": f"/api/v1/accounts/{world.author}/statuses",
        "mastodon_account_followers": f"/api/v1/accounts/{world.author}/followers",
        "mastodon_account_following": f"/api/v1/accounts/{world.reader}/following",
        "mastodon_status": f"/api/v1/statuses/{world.shown_status_id}",
        "mastodon_status_context": f"/api/v1/statuses/{world.shown_status_id}/context",
        "mastodon_status_favourited_by": (
            f"/api/v1/statuses/{world.shown_status_id}/favourited_by"
        ),
        "mastodon_notifications": "/api/v1/notifications?types[]=follow",
        "mastodon_notification": f"/api/v1/notifications/{notification_id}",
        "mastodon_media": f"/api/v1/media/{upload}",
        "settings_apps": "/settings/apps",
        "settings_blocks": "/settings/blocks",
        "settings_mutes": "/settings/mutes",
        "settings_export": "/settings/export",
        "settings_delete": "/settings/delete",
        "mastodon_blocks": "/api/v1/blocks",
        "mastodon_mutes": "/api/v1/mutes",
        "follow_requests": "/follow-requests",
        "mastodon_follow_requests": "/api/v1/follow_requests",
        "settings_tokens": "/settings/tokens",
        "oauth_authorize": f"/oauth/authorize?response_type=code&client_id={client_id}",
        "report_post": f"/p/{world.shown_post}/report",
        "report_comment": f"/comments/{reader_comment}/report",
        "report_account": f"/@{username}/report",
        "settings_reports": "/settings/reports",
        "admin_reports": "/admin/reports",
        "admin_report": f"/admin/reports/{report_id}",
        "admin_audit": "/admin/audit",
    }
    # What Mastodon apps ask for at start, answered without reading anything but the user.
    asked |= STARTUP_ENDPOINTS
    # Files and probes, the API's description, the stream, and forms whose only reads (the
    # session, the unread badge) every page here runs too.
    reads_no_statement = {
        "login", "signup_pending", "password_forgot", "password_reset", "confirm", "static",
        "media", "identicon", "healthz", "readyz", "metrics", "api_stream", "logout",
        "oauth_metadata", "api_openapi",
        # Bearer tokens only; its statements run in tests/test_oauth.py.
        "oauth_app_verify",
        # Streams for bearer tokens only, and a probe; what a stream reads runs in
        # tests/test_mastodon_streaming.py.
        "mastodon_streaming", "mastodon_streaming_user", "mastodon_streaming_user_notification",
        "mastodon_streaming_health",
        # One's own archive, a file (tests/test_leaving.py).
        "settings_export_download",
    }  # fmt: skip
    app = client.server.app
    routes = {
        route.name
        for route in app.router.routes()
        if route.method in {"GET", "HEAD"} and route.name is not None
    }
    assert routes - reads_no_statement - set(asked) == set(), "a GET route is not checked here"

    ran: list[str] = []
    pool = app[read_pool_key]
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    for connection in held:
        connection.add_query_logger(lambda query: ran.append(query.query))
    for connection in held:
        await pool.release(connection)
    for name, path in asked.items():
        response = await client.get(path)
        assert response.status == 200, (name, response.status)
    await asyncio.sleep(0)  # the driver calls its loggers soon after each statement
    registered = {statement.sql for statement in statements.REGISTRY.values()}
    ours = [query for query in ran if not _driver_introspection(query)]
    assert ours, "the read pool ran nothing"
    assert [query for query in ours if query not in registered] == []


def _driver_introspection(query: str) -> bool:
    """asyncpg's own look-ups of the types of a statement's columns, the first time it
    prepares one (with JIT turned off around them)."""
    return "pg_catalog." in query or "'jit'" in query


@dataclass(frozen=True)
class Suspension:
    """Someone nobody may see: suspended, leaving, or an applicant an admin has not approved
    yet (who could not have done all this, but whom the rule must hide all the same)."""

    kind: str  # "suspended", "leaving" or "applicant"
    suspended: str  # their username
    suspended_id: int
    session_hash: bytes  # a session of theirs that is still in the table
    token_hash: bytes  # and a bearer token of theirs
    post: int  # theirs, published
    comment: int  # theirs, under the author's post
    author: int  # wrote that post; the suspended user liked it and follows them
    author_post: int
    reader: int  # follows the suspended user
    post_status_id: int  # of their post
    comment_status_id: int  # of their comment
    author_notification: int  # the author's, of the suspended user's comment
    upload: int  # a photo of theirs not attached to a post yet
    blocker: int  # blocked and muted the suspended user before the suspension
    owner: int  # of a private account the suspended user asked to follow


@pytest.fixture(params=["suspended", "leaving", "applicant"])
async def suspension(request, db, factory) -> Suspension:
    """A suspended account, one whose owner asked to delete it (in its grace period), or an
    applicant waiting for approval: all are hidden from everyone by the same rule."""
    suspended, author, reader = await factory.user(), await factory.user(), await factory.user()
    blocker = await factory.user()
    async with db.begin() as session:
        await blocks.block(session, blocker.id, suspended.id)
        await blocks.mute(session, blocker.id, suspended.id)
    post = await factory.post(suspended, f"hidden with them #{SUSPENDED_TAG}")
    author_post = await factory.post(author)
    comment = await factory.comment(suspended, author_post)
    await factory.like(suspended, author_post)
    await factory.follow(suspended, author)
    await factory.follow(reader, suspended)
    await factory.follow(suspended, reader)
    owner = await factory.user()
    async with db.begin() as session:
        # The author (who does not follow them) and the reader follow the tag of their post:
        # it must not come into either's home that way.
        for follower in (author, reader):
            await tag_follows.follow(session, follower.id, SUSPENDED_TAG, SUSPENDED_TAG)
        await profiles.set_locked(session, owner.id, True)
        assert await follows.follow(session, suspended.id, owner.id)
    session_hash = secrets.token_bytes(32)
    async with db.begin() as session:
        if request.param == "suspended":
            await accounts.suspend(session, suspended.id)
        elif request.param == "leaving":
            await deletion.request_deletion(session, suspended.id, timedelta(days=30))
        else:
            await registration.apply(session, suspended.id, "Let me in.")
        # A session that outlived the suspension (it ends them all): the rule must hold
        # even so.
        await session.execute(
            text(
                "INSERT INTO auth_sessions (id_hash, user_id, expires_at)"
                " VALUES (:hash, :user, now() + interval '1 day')"
            ),
            {"hash": session_hash, "user": suspended.id},
        )
        post_status_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": post}
        )
        comment_status_id = await session.scalar(
            text("SELECT status_id FROM comments WHERE id = :id"), {"id": comment}
        )
        await oauth.personal_token(session, suspended.id, "bot", frozenset({"read"}))
        author_notification = await session.scalar(
            text("SELECT id FROM notifications WHERE comment_id = :id"), {"id": comment}
        )
        upload = await _unattached_photo(session, suspended.id)
        await make_trend(session, [post, author_post])
    token_hash = await _token_hash_of(db, suspended.id)
    return Suspension(
        request.param, suspended.username, suspended.id, session_hash, token_hash, post,
        comment, author.id, author_post, reader.id, post_status_id, comment_status_id,
        author_notification, upload, blocker.id, owner.id,
    )  # fmt: skip


async def _unattached_photo(session, owner_id: int) -> int:
    """A processed photo uploaded before its post, as the media worker leaves it."""
    return await session.scalar(
        text(
            "INSERT INTO photos (post_id, owner_id, position, key_prefix, extension, width,"
            " height, ready_at) VALUES (NULL, :owner, 0, :prefix, 'jpg', 10, 10, now())"
            " RETURNING id"
        ),
        {"owner": owner_id, "prefix": f"photos/{secrets.token_hex(16)}"},
    )


async def _token_hash_of(db, user_id: int) -> bytes:
    async with db() as session:
        return await session.scalar(
            text("SELECT token_hash FROM access_tokens WHERE user_id = :id"), {"id": user_id}
        )


# Every family but the admins' lists of accounts and of applications, which show suspended
# accounts and applicants on purpose: its arguments, with the suspended user's friends as
# viewers.
SUSPENSION_CASES: dict[str, Callable[[Suspension], tuple[Any, ...]]] = {
    "session_user": lambda s: (s.session_hash,),
    "user_id_by_name": lambda s: (s.suspended, s.reader),
    "profile": lambda s: (s.suspended, s.reader),
    "followers": lambda s: (s.reader, *START, s.reader),
    "following": lambda s: (s.reader, *START, s.reader),
    "home": lambda s: (s.reader, *START),
    # The author's: their own post, and the unread count of notifications all hidden.
    "home_first_page": lambda s: (s.author, *START),
    "explore": lambda s: (s.reader, *START),
    "trending": lambda s: (s.reader, *START),
    "trending_photos": lambda s: (s.reader, *START),
    "trending_statuses": lambda s: (s.reader, *START),
    "tag_trending": lambda s: (s.reader, *START, SUSPENDED_TAG),
    "trending_tags": lambda s: (s.reader, *START),
    "trend_removal": lambda s: (s.post,),
    "author": lambda s: (s.reader, *START, s.suspended_id),
    "posts_by_id": lambda s: (s.reader, [s.post]),
    "viewable_posts": lambda s: (s.reader, [s.post]),
    "pending_posts": lambda s: (s.suspended_id,),
    "comments": lambda s: (s.author, s.author_post, OLDEST_FIRST.at, OLDEST_FIRST.id),
    "comment": lambda s: (s.author, s.comment),
    "notifications": lambda s: (s.author, *START),
    "unread_notifications": lambda s: (s.author,),
    "profiles_by_id": lambda s: (s.reader, [s.suspended_id]),
    "search_people": lambda s: (s.reader, s.suspended, 0, False),
    "followers_oldest": lambda s: (s.reader, OLDEST_FIRST.at, OLDEST_FIRST.id, s.reader),
    "following_oldest": lambda s: (s.reader, OLDEST_FIRST.at, OLDEST_FIRST.id, s.reader),
    "blocks": lambda s: (s.blocker, *START, s.blocker),
    "blocks_oldest": lambda s: (s.blocker, OLDEST_FIRST.at, OLDEST_FIRST.id, s.blocker),
    "mutes": lambda s: (s.blocker, *START, s.blocker),
    "mutes_oldest": lambda s: (s.blocker, OLDEST_FIRST.at, OLDEST_FIRST.id, s.blocker),
    "follow_requests": lambda s: (s.owner, *START, s.owner),
    "follow_requests_oldest": lambda s: (s.owner, OLDEST_FIRST.at, OLDEST_FIRST.id, s.owner),
    "follow_request_count": lambda s: (s.owner,),
    "relationships_by_id": lambda s: (s.reader, [s.suspended_id]),
    "post_readers": lambda s: ([s.reader], s.post),
    "author_readers": lambda s: ([s.reader], s.suspended_id),
    "live_tokens": lambda s: ([s.token_hash],),
    "public_statuses": lambda s: (s.reader, *ANY_STATUS),
    "public_statuses_oldest": lambda s: (s.reader, *ANY_STATUS),
    "home_statuses": lambda s: (s.reader, *ANY_STATUS),
    "home_statuses_oldest": lambda s: (s.reader, *ANY_STATUS),
    "account_statuses": lambda s: (s.reader, *ANY_STATUS, s.suspended_id),
    "account_statuses_oldest": lambda s: (s.reader, *ANY_STATUS, s.suspended_id),
    "account_media_statuses": lambda s: (s.reader, *ANY_STATUS, s.suspended_id),
    "account_media_statuses_oldest": lambda s: (s.reader, *ANY_STATUS, s.suspended_id),
    "tag_statuses": lambda s: (s.reader, *ANY_STATUS, SUSPENDED_TAG, False),
    "tag_statuses_oldest": lambda s: (s.reader, *ANY_STATUS, SUSPENDED_TAG, False),
    "tag_by_name": lambda s: (SUSPENDED_TAG, s.reader),
    "followed_tags": lambda s: (s.reader, *START),
    "followed_tags_oldest": lambda s: (s.reader, OLDEST_FIRST.at, OLDEST_FIRST.id),
    "search_posts": lambda s: (s.reader, "hidden with them", 0, False, None),
    "search_tags": lambda s: (s.reader, SUSPENDED_TAG, 0),
    "post_by_status_id": lambda s: (s.reader, s.post_status_id),
    "comment_by_status_id": lambda s: (s.author, s.comment_status_id),
    "comment_replies": lambda s: (s.author, s.author_post),
    "likers": lambda s: (s.author, s.author_post, *ANY_STATUS),
    "likers_oldest": lambda s: (s.author, s.author_post, *ANY_STATUS),
    "instance_counts": lambda s: (),
    "token_grant": lambda s: (s.token_hash,),
    "own_tokens": lambda s: (s.suspended_id,),
    "oauth_app": lambda s: ("no-such-client",),
    "oauth_app_by_id": lambda s: (0,),
    "comments_by_id": lambda s: (s.author, [s.comment]),
    "notification_events": lambda s: (s.author, *ANY_STATUS, KINDS),
    "notification_events_oldest": lambda s: (s.author, *ANY_STATUS, KINDS),
    "notification_event": lambda s: (s.author, s.author_notification),
    "unattached_media": lambda s: (s.suspended_id, s.upload),
    # Whether /media/ must see a signature: a flag, never a person or their photo.
    "restricted_prefix": lambda s: ("photos/" + "0" * 32,),
    "instance": lambda s: (),
    "instance_admins": lambda s: (s.reader,),
    "usable_invite": lambda s: ("no-such-invite",),
    "own_invites": lambda s: (s.suspended_id,),
    # The viewer's own warnings from the moderators.
    "unacknowledged_warnings": lambda s: (s.reader,),
}


# Families that show suspended people on purpose: the admin's lists of accounts and of
# applications, the moderators' reports and audit log (they decide about the suspended, and lift
# suspensions), and a reporter's own reports (what they reported, whatever became of it).
SHOW_THE_SUSPENDED = {
    "accounts", "applications", "report_queue", "report", "reports_about", "open_report_count",
    "report_history", "audit_log", "own_reports",
}  # fmt: skip


async def test_no_statement_shows_a_suspended_person_or_anything_of_theirs(
    suspension, database_url
):
    every = statements.every_statement(SAMPLE_ROWS)
    assert {_family(s) for s in every} - SHOW_THE_SUSPENDED == set(SUSPENSION_CASES)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        for statement in every:
            if _family(statement) in SHOW_THE_SUSPENDED:
                continue
            rows = await connection.fetch(
                statement.sql, *SUSPENSION_CASES[_family(statement)](suspension)
            )
            # Every row of a person, a post, a comment or a notification names its person.
            values = [value for row in rows for value in row.values()]
            assert suspension.suspended not in values, statement.name
            if _family(statement) in {
                "session_user", "user_id_by_name", "profile", "profiles_by_id",
                "post_by_status_id", "comment_by_status_id", "token_grant",
                "comments_by_id", "notification_events", "notification_events_oldest",
                "notification_event", "unattached_media", "relationships_by_id", "post_readers",
                "blocks", "blocks_oldest", "mutes", "mutes_oldest", "author_readers",
                "live_tokens", "follow_requests", "follow_requests_oldest",
                "tag_statuses", "tag_statuses_oldest", "search_posts", "search_tags",
                "viewable_posts", "tag_trending",
            }:  # fmt: skip
                assert rows == [], statement.name
            if _family(statement) == "trending_tags":
                # The suspended person's tag trends only through their post.
                assert SUSPENDED_TAG not in {row["name"] for row in rows}, statement.name
            if statement.name == "follow_request_count":
                assert rows[0][0] == 0  # the owner's only request is the suspended user's
            if statement.name == "unread_notifications":
                # The author's only notifications are the suspended user's: a comment, a
                # like and a follow, all hidden with them.
                assert rows[0][0] == 0
            if _family(statement) == "home_first_page":
                assert [row["unread"] for row in rows] == [0], statement.name
        accounts_page = statements.PAGED["accounts"].rows(SAMPLE_ROWS)
        listed = await connection.fetch(accounts_page.sql, *START)
        assert suspension.suspended in [row["username"] for row in listed]
        # The admins' queue, from just before where the applicant would stand in it.
        queue = statements.PAGED["applications"].rows(SAMPLE_ROWS)
        asked_at = await connection.fetchval(
            "SELECT created_at FROM account_applications WHERE user_id = $1",
            suspension.suspended_id,
        )
        waiting = await connection.fetch(
            queue.sql, asked_at or NEWEST_FIRST.at, suspension.suspended_id + 1
        )
        shown = suspension.suspended in [row["username"] for row in waiting]
        assert shown is (suspension.kind == "applicant")
    finally:
        await connection.close()


def test_the_statements_command_prints_what_runs(database_url):
    """`python -m service statements NAME` shows the very text a request sends."""
    result = run_command("statements", "home/21", env=service_env(database_url))
    assert result.returncode == 0, result.stderr
    assert result.stdout == textwrap.dedent(statements.PAGED["home"].rows(21).sql).strip() + ";\n"
    listing = run_command("statements", env=service_env(database_url))
    names = re.findall(r"^-- (\S+)", listing.stdout, re.M)
    assert set(names) >= {"home/21", "session_user", "posts_by_id", "comments/21"}
    unknown = run_command("statements", "nope", env=service_env(database_url))
    assert unknown.returncode == 2 and "home/N" in unknown.stderr


# Every family, as the viewer of tests/blocking.py asks for it: the arguments of each run
# (one or more), and whose things must not come through ("content": the blocker's, the
# blocked person's and the muted person's; "people": the blocker's and the blocked
# person's; "lookup": the blocker's; None: nothing of a person is shown to a viewer, or
# the list is the viewer's own and is checked below).
Runs = Callable[[Blocking], list[tuple[Any, ...]]]


def _each(make: Callable[[Blocking, str], tuple[Any, ...]]) -> Runs:
    return lambda b: [make(b, role) for role in ROLES]


def _lists(at: Any) -> Runs:
    """A list of follows, the third's and the viewer's own, from position ``at``."""
    return lambda b: [(user.id, at.at, at.id, b.viewer.id) for user in (b.third, b.viewer)]


START_ROWS = (NEWEST_FIRST.at, NEWEST_FIRST.id)
OLDEST_ROWS = (OLDEST_FIRST.at, OLDEST_FIRST.id)
BLOCK_CASES: dict[str, tuple[Runs, str | None]] = {
    "session_user": (lambda b: [(b.session_hash,)], "content"),
    "user_id_by_name": (_each(lambda b, role: (b.people[role].username, b.viewer.id)), "lookup"),
    "profile": (_each(lambda b, role: (b.people[role].username, b.viewer.id)), "lookup"),
    "profiles_by_id": (lambda b: [(b.viewer.id, [p.id for p in b.people.values()])], "lookup"),
    "search_people": (
        _each(lambda b, role: (b.viewer.id, b.people[role].username, 0, False)),
        "people",
    ),
    "followers": (_lists(NEWEST_FIRST), "people"),
    "following": (_lists(NEWEST_FIRST), "people"),
    "followers_oldest": (_lists(OLDEST_FIRST), "people"),
    "following_oldest": (_lists(OLDEST_FIRST), "people"),
    "likers": (lambda b: [(b.viewer.id, b.third_post, *ANY_STATUS)], "people"),
    "likers_oldest": (lambda b: [(b.viewer.id, b.viewer_post, *ANY_STATUS)], "people"),
    "home": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "home_first_page": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "explore": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "trending": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "trending_photos": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "trending_statuses": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "tag_trending": (lambda b: [(b.viewer.id, *START_ROWS, BLOCKING_TAG)], "content"),
    "trending_tags": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "trend_removal": (lambda b: [(post,) for post in b.posts.values()], None),
    "author": (_each(lambda b, role: (b.viewer.id, *START_ROWS, b.people[role].id)), "content"),
    "posts_by_id": (lambda b: [(b.viewer.id, list(b.posts.values()))], "content"),
    "viewable_posts": (lambda b: [(b.viewer.id, list(b.posts.values()))], "content"),
    "pending_posts": (lambda b: [(b.viewer.id,)], "content"),
    "comments": (
        lambda b: [(b.viewer.id, post, *OLDEST_ROWS) for post in (b.third_post, b.viewer_post)],
        "content",
    ),
    "comment": (
        lambda b: [(b.viewer.id, c) for c in (*b.comments.values(), *b.viewer_comments.values())],
        "content",
    ),
    "comment_replies": (
        lambda b: [(b.viewer.id, post) for post in (b.third_post, b.viewer_post)],
        "content",
    ),
    "notifications": (lambda b: [(b.viewer.id, *START_ROWS)], "content"),
    "unread_notifications": (lambda b: [(b.viewer.id,)], "content"),
    "public_statuses": (lambda b: [(b.viewer.id, *ANY_STATUS)], "content"),
    "public_statuses_oldest": (lambda b: [(b.viewer.id, *ANY_STATUS)], "content"),
    "home_statuses": (lambda b: [(b.viewer.id, *ANY_STATUS)], "content"),
    "home_statuses_oldest": (lambda b: [(b.viewer.id, *ANY_STATUS)], "content"),
    "account_statuses": (
        _each(lambda b, role: (b.viewer.id, *ANY_STATUS, b.people[role].id)),
        "content",
    ),
    "account_statuses_oldest": (
        _each(lambda b, role: (b.viewer.id, *ANY_STATUS, b.people[role].id)),
        "content",
    ),
    "account_media_statuses": (
        _each(lambda b, role: (b.viewer.id, *ANY_STATUS, b.people[role].id)),
        "content",
    ),
    "account_media_statuses_oldest": (
        _each(lambda b, role: (b.viewer.id, *ANY_STATUS, b.people[role].id)),
        "content",
    ),
    "post_by_status_id": (
        _each(lambda b, role: (b.viewer.id, b.post_status_ids[role])),
        "content",
    ),
    "comment_by_status_id": (
        _each(lambda b, role: (b.viewer.id, b.comment_status_ids[role])),
        "content",
    ),
    "post_readers": (_each(lambda b, role: ([b.viewer.id], b.posts[role])), "content"),
    "author_readers": (_each(lambda b, role: ([b.viewer.id], b.people[role].id)), "content"),
    "comments_by_id": (
        lambda b: [(b.viewer.id, [*b.comments.values(), *b.viewer_comments.values()])],
        "content",
    ),
    "tag_statuses": (lambda b: [(b.viewer.id, *ANY_STATUS, BLOCKING_TAG, False)], "content"),
    "tag_statuses_oldest": (
        lambda b: [(b.viewer.id, *ANY_STATUS, BLOCKING_TAG, False)],
        "content",
    ),
    "tag_by_name": (lambda b: [(BLOCKING_TAG, b.viewer.id)], None),  # names nobody
    # One's own followed tags: a tag names nobody.
    "followed_tags": (lambda b: [(b.viewer.id, *START_ROWS)], None),
    "followed_tags_oldest": (lambda b: [(b.viewer.id, *OLDEST_ROWS)], None),
    # Each one's post by its words, and all of them by their tag.
    "search_posts": (
        lambda b: [
            *((b.viewer.id, b.words[role], 0, False, None) for role in ROLES),
            (b.viewer.id, BLOCKING_TAG, 0, False, None),
        ],
        "content",
    ),
    "search_tags": (lambda b: [(b.viewer.id, BLOCKING_TAG, 0)], None),  # names nobody
    # Rows of ids alone: their actors are checked below, and each one by id too.
    "notification_events": (lambda b: [(b.viewer.id, *ANY_STATUS, KINDS)], "content"),
    "notification_events_oldest": (lambda b: [(b.viewer.id, *ANY_STATUS, KINDS)], "content"),
    "notification_event": (lambda b: [(b.viewer.id, 0)], None),
    "unattached_media": (lambda b: [(b.viewer.id, 0)], None),  # one's own uploads alone
    "restricted_prefix": (lambda b: [("photos/" + "0" * 32,)], None),  # a flag, no person
    "relationships_by_id": (
        lambda b: [(b.viewer.id, [p.id for p in b.people.values()])],
        None,
    ),
    "blocks": (lambda b: [(b.viewer.id, *START_ROWS, b.viewer.id)], None),
    "blocks_oldest": (lambda b: [(b.viewer.id, *OLDEST_ROWS, b.viewer.id)], None),
    "mutes": (lambda b: [(b.viewer.id, *START_ROWS, b.viewer.id)], None),
    "mutes_oldest": (lambda b: [(b.viewer.id, *OLDEST_ROWS, b.viewer.id)], None),
    # One's own requests: a block ends those between the two (tests/test_follow_requests.py).
    "follow_requests": (lambda b: [(b.viewer.id, *START_ROWS, b.viewer.id)], None),
    "follow_requests_oldest": (lambda b: [(b.viewer.id, *OLDEST_ROWS, b.viewer.id)], None),
    "follow_request_count": (lambda b: [(b.viewer.id,)], None),
    "instance_counts": (lambda b: [()], None),
    "accounts": (lambda b: [START_ROWS], None),
    "token_grant": (lambda b: [(b"\0" * 32,)], None),
    "live_tokens": (lambda b: [([b"\0" * 32],)], None),
    "own_tokens": (lambda b: [(b.viewer.id,)], None),
    "oauth_app": (lambda b: [("no-such-client",)], None),
    "oauth_app_by_id": (lambda b: [(0,)], None),
    # Reports: for moderators, who see every account on purpose, and the viewer's own.
    "report_queue": (lambda b: [()], None),
    "report": (lambda b: [(0,)], None),
    "reports_about": (lambda b: [(b.viewer.id, 0)], None),
    "open_report_count": (lambda b: [()], None),
    "report_history": (lambda b: [(0,)], None),
    "audit_log": (lambda b: [START_ROWS], None),
    "own_reports": (lambda b: [(b.viewer.id, *START_ROWS)], None),
    "instance": (lambda b: [()], None),
    "instance_admins": (lambda b: [(b.viewer.id,)], "people"),
    "applications": (lambda b: [START_ROWS], None),
    "usable_invite": (lambda b: [("no-such-invite",)], None),
    "own_invites": (lambda b: [(b.viewer.id,)], None),
    "unacknowledged_warnings": (lambda b: [(b.viewer.id,)], None),
}


@pytest.fixture
async def blocked_world(db, factory) -> Blocking:
    return await blocking_world(db, factory)


async def test_no_statement_shows_a_viewer_what_blocks_and_mutes_hide(blocked_world, database_url):
    """Every statement, as the viewer asks for it, with the people they blocked, who blocked
    them and whom they muted all present in it (posts, comments, likes, follows both ways,
    notifications): none of theirs comes through where the rule hides it, and what an
    expired mute no longer hides does."""
    world = blocked_world
    every = statements.every_statement(SAMPLE_ROWS)
    assert {_family(s) for s in every} == set(BLOCK_CASES), "a statement has no line here"
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    ran: dict[str, list[list[asyncpg.Record]]] = {}
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        for statement in every:
            runs, hides = BLOCK_CASES[_family(statement)]
            ran[statement.name] = results = []
            for arguments in runs(world):
                rows = await connection.fetch(statement.sql, *arguments)
                results.append(rows)
                if hides is None:
                    continue
                # Every row of a person, a post, a comment or a notification names its person.
                names = {value for row in rows for value in row.values() if isinstance(value, str)}
                assert not names & world.names(hides), (statement.name, arguments)
    finally:
        await connection.close()
    people, viewer = world.people, world.viewer

    def usernames(name: str, run: int = 0) -> set[str]:
        return {row["username"] for row in ran[name][run]}

    # Looked up by name, the blocker is nobody; whom the viewer blocked is there, to unblock.
    by_name = [rows[0][0] if rows else None for rows in ran["user_id_by_name"]]
    assert by_name == [None, *(people[role].id for role in ROLES[1:])]
    # What an expired mute hid is back: their post in home and explore, their comment,
    # their notification; the muted person's place in lists of people stays.
    for name in (
        f"home/{SAMPLE_ROWS}", f"explore/{SAMPLE_ROWS}", f"comments/{SAMPLE_ROWS}",
        f"tag_statuses/{SAMPLE_ROWS}",
    ):  # fmt: skip
        assert people[EXPIRED].username in usernames(name), name
    assert people[EXPIRED].username in usernames(f"notifications/{SAMPLE_ROWS}")
    assert people[EXPIRED].username in usernames(f"search_posts/{SAMPLE_ROWS}", len(ROLES))
    assert usernames(f"followers/{SAMPLE_ROWS}") >= {people[MUTED].username}
    # The badge counts the notifications the page shows: the third's none, the muted and
    # the expired person's follow, like and comment, of which only the expired one's show.
    assert ran["unread_notifications"][0][0][0] == 3
    # The Mastodon API's notifications come from nobody the rule hides, listed or by id.
    hidden_ids = {person.id for person in world.hidden("content")}
    listed = {row["actor_id"] for row in ran[f"notification_events/{SAMPLE_ROWS}"][0]}
    assert listed and not listed & hidden_ids
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        every_notification = await connection.fetch(
            "SELECT id, actor_id FROM notifications WHERE user_id = $1", viewer.id
        )
        by_id = statements.REGISTRY["notification_event"]
        for notification_id, actor_id in every_notification:
            rows = await connection.fetch(by_id.sql, viewer.id, notification_id)
            assert bool(rows) == (actor_id not in hidden_ids), (notification_id, actor_id)
    finally:
        await connection.close()
    # A live event of each one's post reaches the viewer only from the expired mute.
    assert [[row[0] for row in rows] for rows in ran["post_readers"]] == [[], [], [], [viewer.id]]
    # And that one of theirs was deleted, the same.
    assert [[row[0] for row in rows] for rows in ran["author_readers"]] == [
        [], [], [], [viewer.id]
    ]  # fmt: skip
    # The viewer's own lists and relationships.
    assert usernames(f"blocks/{SAMPLE_ROWS}") == {people[BLOCKED_ROLE].username}
    assert usernames(f"mutes/{SAMPLE_ROWS}") == {people[MUTED].username}
    flags = {row["id"]: row for row in ran["relationships_by_id"][0]}
    assert flags[people[BLOCKER].id]["blocked_by"] and not flags[people[BLOCKER].id]["blocking"]
    assert flags[people[BLOCKED_ROLE].id]["blocking"]
    assert flags[people[MUTED].id]["muting"] and flags[people[MUTED].id]["following"]
    assert not flags[people[EXPIRED].id]["muting"]
