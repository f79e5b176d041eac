"""Posting limits against floods: posts, comments, likes, follows and reports per account and per
address, stricter for accounts younger than a day, each answered 429 with Retry-After in
the way of where it was asked (a page, the JSON API's envelope, Mastodon's error), and
nothing done past the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from service.models import Comment, Follow, Like, Post, Report
from tests.api import Api
from tests.support import submit
from tests.test_mastodon_writes import token_for

WINDOW_SECONDS = 3600
# Small numbers, so that a test reaches each limit in a few requests.
LIMITS = {
    "window_seconds": WINDOW_SECONDS,
    "posts_per_account": 3,
    "posts_per_new_account": 1,
    "posts_per_address": 4,
    "comments_per_account": 5,
    "comments_per_new_account": 1,
    "comments_per_address": 50,
    "likes_per_account": 5,
    "likes_per_new_account": 1,
    "likes_per_address": 50,
    "follows_per_account": 5,
    "follows_per_new_account": 1,
    "follows_per_address": 50,
    "reports_per_account": 5,
    "reports_per_new_account": 1,
    "reports_per_address": 50,
}


@pytest.fixture
def settings(base_settings):
    return base_settings.replace(limits=LIMITS)


def assert_retry_after(response) -> None:
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW_SECONDS


async def count(db, *where) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).where(*where))


async def make_old(db, account) -> None:
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET created_at = now() - interval '2 days' WHERE id = :id"),
            {"id": account.id},
        )


async def test_a_new_account_posts_less_often_than_an_older_one(
    client, make_client, factory, login, db
):
    new, old = await factory.user(), await factory.user()
    await make_old(db, old)
    await login(client, new)
    api = Api(client)
    await api.post_text("my first post")
    refused = await api.call("POST", "/api/snapline/v1/posts", {"body": "and another"})
    assert_retry_after(refused)
    assert (await refused.json())["error"]["code"] == "rate_limited"
    assert "posting too fast" in (await refused.json())["error"]["message"]
    assert await count(db, Post.author_id == new.id) == 1

    older = await make_client(client)
    await login(older, old)
    for n in range(LIMITS["posts_per_account"]):
        await Api(older).post_text(f"post {n}")
    # From the page's form: an error page, with the same Retry-After.
    page = await submit(older, "/posts", {"body": "one too many"})
    assert_retry_after(page)
    assert "posting too fast" in await page.text()
    assert await count(db, Post.author_id == old.id) == LIMITS["posts_per_account"]


async def test_accounts_on_one_address_share_its_limit(client, make_client, factory, login, db):
    first, second = await factory.user(), await factory.user()
    await make_old(db, first)
    await make_old(db, second)
    await login(client, first)
    for n in range(3):
        await Api(client).post_text(f"first's {n}")
    other = await make_client(client)
    await login(other, second)
    await Api(other).post_text("second's one")  # the address's fourth
    refused = await Api(other).call("POST", "/api/snapline/v1/posts", {"body": "fifth"})
    assert_retry_after(refused)
    assert await count(db, Post.author_id == second.id) == 1


async def test_comments_likes_and_follows_are_limited_on_every_surface(
    client, make_client, factory, login, db
):
    me, author, friend = await factory.user(), await factory.user(), await factory.user()
    first, second = await factory.post(author), await factory.post(author)
    await login(client, me)

    # Comments, from the post page's form: an error page.
    await submit(client, f"/p/{first}/comments", {"body": "one"}, page=f"/p/{first}")
    page = await submit(client, f"/p/{first}/comments", {"body": "two"}, page=f"/p/{first}")
    assert_retry_after(page)
    assert "commenting too fast" in await page.text()
    assert await count(db, Comment.author_id == me.id) == 1

    # Likes, from a Mastodon app: Mastodon's {"error": ...}.
    auth = await token_for(db, me)
    statuses = {}
    async with db() as session:
        for post_id in (first, second):
            statuses[post_id] = await session.scalar(
                select(Post.status_id).where(Post.id == post_id)
            )
    liked = await client.post(f"/api/v1/statuses/{statuses[first]}/favourite", headers=auth)
    assert liked.status == 200
    refused = await client.post(f"/api/v1/statuses/{statuses[second]}/favourite", headers=auth)
    assert_retry_after(refused)
    assert "liking posts too fast" in (await refused.json())["error"]
    assert await count(db, Like.user_id == me.id) == 1
    # Undoing is never limited.
    unliked = await client.post(f"/api/v1/statuses/{statuses[first]}/unfavourite", headers=auth)
    assert unliked.status == 200

    # Follows, through Snapline's API: its error envelope.
    api = Api(client)
    await api.follow(author.username)
    refused = await api.call("POST", f"/api/snapline/v1/users/{friend.username}/follow")
    assert_retry_after(refused)
    assert (await refused.json())["error"]["code"] == "rate_limited"
    assert await count(db, Follow.follower_id == me.id) == 1
    # And from a Mastodon app, counted in the same window.
    refused = await client.post(f"/api/v1/accounts/{friend.id}/follow", headers=auth)
    assert_retry_after(refused)
    assert "following people too fast" in (await refused.json())["error"]
    # A Mastodon reply is a comment: refused with the page's count already spent.
    reply = await client.post(
        "/api/v1/statuses",
        headers=auth,
        data={"status": "a reply", "in_reply_to_id": str(statuses[second])},
    )
    assert_retry_after(reply)
    assert await count(db, Comment.author_id == me.id) == 1


async def test_reports_are_limited_on_every_surface_and_count_once_for_many_posts(
    client, factory, login, db
):
    me, author = await factory.user(), await factory.user()
    posts = [await factory.post(author, f"post {n}") for n in range(3)]
    await login(client, me)
    auth = await token_for(db, me)
    statuses = []
    async with db() as session:
        for post_id in posts:
            statuses.append(await session.scalar(select(Post.status_id).where(Post.id == post_id)))
    # A Mastodon app reports two posts at once: counted once, a new account's only one.
    made = await client.post(
        "/api/v1/reports",
        json={"account_id": str(author.id), "status_ids": [str(s) for s in statuses[:2]]},
        headers=auth,
    )
    assert made.status == 200
    assert await count(db, Report.reporter_id == me.id) == 2
    # Past the limit: the page's form, Snapline's API and a Mastodon app are all refused.
    page = await submit(
        client, f"/p/{posts[2]}/report", {"category": "spam"}, page=f"/p/{posts[2]}/report"
    )
    assert_retry_after(page)
    assert "reporting too fast" in await page.text()
    refused = await Api(client).call(
        "POST", "/api/snapline/v1/reports", {"post_id": posts[2], "category": "spam"}
    )
    assert_retry_after(refused)
    assert (await refused.json())["error"]["code"] == "rate_limited"
    refused = await client.post(
        "/api/v1/reports", json={"account_id": str(author.id)}, headers=auth
    )
    assert_retry_after(refused)
    assert await count(db, Report.reporter_id == me.id) == 2
    # An older account may report more.
    await make_old(db, me)
    again = await submit(
        client, f"/p/{posts[2]}/report", {"category": "spam"}, page=f"/p/{posts[2]}/report"
    )
    assert again.status in (200, 302, 303)
    assert await count(db, Report.reporter_id == me.id) == 3
