"""Trending (docs/trending.md): ranked by likes, comments and views with time decay, as the
formula says; recomputed for changed posts alone; never a new account's post nor one a
moderator removed (which the audit log records); on Explore, the front page, a tag's "Top",
Snapline's API and Mastodon's, through Mastodon.py."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from sqlalchemy import select, text

from service.domain import trending as formula
from service.keys import view_counter_key
from service.models import ModerationAction, PostTrend
from service.workers import trends
from tests.api import Api
from tests.support import submit
from tests.test_mastodon import get_json, mastodon_for
from tests.test_mastodon_client import in_thread
from tests.test_uploads import photo_post


async def aged(db, *accounts) -> None:
    """Past the day an account waits before its posts trend."""
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET created_at = now() - interval '3 days' WHERE id = ANY(:ids)"),
            {"ids": [account.id for account in accounts]},
        )


async def published_ago(db, post_id: int, hours: float) -> None:
    async with db.begin() as session:
        await session.execute(
            text(
                "UPDATE posts SET created_at = now() - make_interval(secs => :s),"
                " published_at = now() - make_interval(secs => :s) WHERE id = :id"
            ),
            {"s": hours * 3600, "id": post_id},
        )


async def engage(factory, post_id: int, likes: int = 0, comments: int = 0) -> None:
    for _ in range(likes):
        await factory.like(await factory.user(), post_id)
    for _ in range(comments):
        await factory.comment(await factory.user(), post_id)


def expected_score(likes: int, comments: int, views: int, age_hours: float) -> float:
    """The formula of docs/trending.md, at one moment."""
    engagement = likes + formula.COMMENT_WEIGHT * comments + views / formula.VIEWS_PER_LIKE
    return engagement * math.exp(-age_hours * 3600 / formula.TAU.total_seconds())


async def trending_ids(api: Api, path: str = "/api/snapline/v1/trending", **params) -> list[int]:
    return [post["id"] for post in await api.all_pages(path, **params)]


async def test_a_recent_liked_and_commented_post_outranks_an_older_more_liked_one(
    client, factory, db
):
    author = await factory.user()
    await aged(db, author)
    # (likes, comments, hours ago): the formula's order is recent, older, oldest.
    shapes = {"older": (8, 0, 20.0), "recent": (3, 2, 1.0), "oldest": (12, 1, 40.0)}
    ids = {}
    for name, (likes, comments, hours) in shapes.items():
        ids[name] = await factory.post(author, f"{name} post")
        await engage(factory, ids[name], likes, comments)
        await published_ago(db, ids[name], hours)
    await trends.recompute(client.app)
    scores = {name: expected_score(lk, cm, 0, hours) for name, (lk, cm, hours) in shapes.items()}
    by_formula = [ids[name] for name in sorted(scores, key=scores.get, reverse=True)]
    assert by_formula == [ids["recent"], ids["older"], ids["oldest"]]
    shown = [i for i in await trending_ids(Api(client)) if i in ids.values()]
    assert shown == by_formula
    # The stored rank is the score as a time: published_at + TAU * ln(engagement).
    async with db() as session:
        rank = await session.scalar(
            select(PostTrend.rank_at).where(PostTrend.post_id == ids["recent"])
        )
        published = await session.scalar(
            text("SELECT published_at FROM posts WHERE id = :id"), {"id": ids["recent"]}
        )
    assert abs((rank - published).total_seconds() - formula.TAU.total_seconds() * math.log(7)) < 1
    # Explore shows the same list, trending by default.
    page = await (await client.get("/explore")).text()
    first = await Api(client).get("/api/snapline/v1/trending")
    shown_on_page = [int(i) for i in re.findall(r'<article class="post" id="post-(\d+)"', page)]
    assert shown_on_page == [post["id"] for post in first["items"]]
    assert ids["recent"] in shown_on_page


async def test_views_count_toward_the_rank_and_only_changed_posts_are_recomputed(
    client, make_client, factory, db
):
    author = await factory.user()
    await aged(db, author)
    liked, viewed = await factory.post(author), await factory.post(author)
    await engage(factory, liked, likes=1)
    await trends.recompute(client.app)
    async with db() as session:
        before = await session.scalar(select(PostTrend.rank_at).where(PostTrend.post_id == liked))
        assert (
            await session.scalar(select(PostTrend.post_id).where(PostTrend.post_id == viewed))
            is None
        )
    # Twenty views by twenty signed-out browsers weigh two likes.
    for n in range(20):
        visitor = await make_client(client)
        response = await visitor.get(f"/p/{viewed}", headers={"User-Agent": f"Browser/{n}"})
        assert response.status == 200
    await client.app[view_counter_key].flush(client.app)
    async with db() as session:
        changed = await session.scalar(text("SELECT array_agg(post_id) FROM trend_changes"))
    assert viewed in changed and liked not in changed
    await trends.recompute(client.app)
    async with db() as session:
        after = await session.scalar(select(PostTrend.rank_at).where(PostTrend.post_id == liked))
        ranked = await session.scalar(select(PostTrend.rank_at).where(PostTrend.post_id == viewed))
        left = await session.scalar(text("SELECT count(*) FROM trend_changes"))
    assert after == before and left == 0
    shown = [i for i in await trending_ids(Api(client)) if i in (liked, viewed)]
    assert shown == [viewed, liked] and ranked > before


async def test_new_accounts_and_posts_removed_by_a_moderator_do_not_trend(
    client, make_client, factory, login, db
):
    newcomer, author = await factory.user(), await factory.user()
    await aged(db, author)
    fresh = await factory.post(newcomer, "from a new account")
    removed = await factory.post(author, "spam that got likes")
    kept = await factory.post(author, "liked for real")
    for post_id in (fresh, removed, kept):
        await engage(factory, post_id, likes=3)
    await trends.recompute(client.app)
    shown = set(await trending_ids(Api(client)))
    assert kept in shown and removed in shown and fresh not in shown

    # Someone who is not a moderator cannot; a moderator can, from the post's page.
    await login(client, await factory.user())
    refused = await submit(client, f"/admin/posts/{removed}/trends/remove", page=f"/p/{removed}")
    assert refused.status == 403
    moderator = await make_client(client)
    await login(moderator, await factory.user(role="moderator"))
    page = await (await moderator.get(f"/p/{removed}")).text()
    assert "Remove from trends" in page
    done = await submit(moderator, f"/admin/posts/{removed}/trends/remove", page=f"/p/{removed}")
    assert done.status == 303 and done.headers["Location"] == f"/p/{removed}"
    assert "Restore to trends" in await (await moderator.get(f"/p/{removed}")).text()
    again = await submit(moderator, f"/admin/posts/{removed}/trends/remove", page=f"/p/{removed}")
    assert again.status == 303  # refused with a message: it is removed already
    await engage(factory, removed, likes=2)  # more engagement does not bring it back
    await trends.recompute(client.app)
    shown = set(await trending_ids(Api(client)))
    assert kept in shown and removed not in shown
    missing = await submit(moderator, "/admin/posts/999999999/trends/remove", page=f"/p/{kept}")
    assert missing.status == 404
    async with db() as session:
        logged = (
            await session.execute(
                select(ModerationAction.action, ModerationAction.account_id)
                .where(ModerationAction.account_id == author.id)
                .order_by(ModerationAction.id)
            )
        ).all()
    assert logged == [("remove_from_trends", author.id)]
    await submit(moderator, f"/admin/posts/{removed}/trends/restore", page=f"/p/{removed}")
    await trends.recompute(client.app)
    assert removed in set(await trending_ids(Api(client)))


async def test_a_tags_top_and_the_apis_list_what_trends(
    aiohttp_server, aiohttp_client, settings, client, factory, db
):
    author, other = await factory.user(), await factory.user()
    await aged(db, author, other)
    tag = factory.unique("trend")
    quiet = await factory.post(author, f"quiet #{tag}")
    loud = await factory.post(other, f"loud #{tag}")
    untagged = await factory.post(author, "no tag")
    await engage(factory, quiet, likes=1)
    await engage(factory, loud, likes=5, comments=2)
    await engage(factory, untagged, likes=9)
    await trends.recompute(client.app)

    # The tag's page: latest first by default, its top on "Top".
    latest = await (await client.get(f"/tags/{tag}")).text()
    assert latest.index(f'id="post-{loud}"') < latest.index(f'id="post-{quiet}"')
    top = await (await client.get(f"/tags/{tag}?sort=top")).text()
    assert 'aria-current="page">Top</a>' in top
    assert top.index(f'id="post-{loud}"') < top.index(f'id="post-{quiet}"')
    assert f'id="post-{untagged}"' not in top
    api = Api(client)
    listed = await api.get(f"/api/snapline/v1/tags/{tag}/posts", sort="top")
    assert [post["id"] for post in listed["items"]] == [loud, quiet]
    await api.get(f"/api/snapline/v1/tags/{tag}/posts", expect=400, sort="best")
    await api.get("/api/snapline/v1/trending", expect=400, photos="maybe")
    assert (await client.get("/explore?sort=oldest")).status == 400
    # The trending tags are those of the top trending posts: these are put above whatever
    # else this database's tests have made trend, in the same order (a thousand times the
    # engagement moves each one's rank by the same time).
    async with db.begin() as session:
        await session.execute(
            text(
                "UPDATE posts SET like_count = like_count * 1000,"
                " comment_count = comment_count * 1000 WHERE id = ANY(:ids)"
            ),
            {"ids": [quiet, loud, untagged]},
        )
    await trends.recompute(client.app)
    tags = (await api.get("/api/snapline/v1/trending/tags", limit=20))["items"]
    [found] = [item for item in tags if item["name"] == tag]
    assert (found["uses"], found["accounts"], found["url"]) == (2, 2, f"/tags/{tag}")

    # Mastodon's trends, through Mastodon.py, with offset paging.
    mastodon = mastodon_for(client)
    statuses = await in_thread(mastodon.trending_statuses, limit=40)
    ids = [int(status["id"]) for status in statuses]
    async with db() as session:
        status_ids = dict(
            (await session.execute(
                text("SELECT id, status_id FROM posts WHERE id = ANY(:ids)"),
                {"ids": [quiet, loud, untagged]},
            )).all()
        )  # fmt: skip
    mine = [i for i in ids if i in status_ids.values()]
    assert mine == [status_ids[untagged], status_ids[loud], status_ids[quiet]]
    second = await in_thread(mastodon.trending_statuses, limit=1, offset=1)
    assert [status["id"] for status in second] == [statuses[1]["id"]]
    trending_tags = await in_thread(mastodon.trending_tags, limit=20)
    [entity] = [item for item in trending_tags if item["name"] == tag]
    assert entity["url"].endswith(f"/tags/{tag}")
    assert [(day["uses"], day["accounts"]) for day in entity["history"]] == [("2", "2")]
    assert entity["history"][0]["day"] <= datetime.now(UTC)
    assert await get_json(client, "/api/v1/trends/statuses", offset=100000) == []
    assert (await client.get("/api/v1/trends/statuses?limit=x")).status == 422


async def test_the_signed_out_front_page_shows_trending_photos_as_a_grid(
    client, make_client, factory, db, tmp_path
):
    author = await factory.user()
    await aged(db, author)
    photo = await photo_post(db, author.id, tmp_path, "a trending photo")
    text_only = await factory.post(author, "words alone")
    for post_id in (photo, text_only):
        await engage(factory, post_id, likes=4)
    await trends.recompute(client.app)
    visitor = await make_client(client)
    page = await (await visitor.get("/")).text()
    assert "Trending photos" in page and 'class="photo-grid"' in page
    assert f'id="tile-{photo}"' in page and f"/p/{text_only}" not in page
    photos = await Api(visitor).get("/api/snapline/v1/trending", photos="true", limit=50)
    assert photo in [post["id"] for post in photos["items"]]


async def test_a_trending_post_made_unlisted_leaves_trending_at_once(
    client, make_client, factory, login, db
):
    """The trending walk reads its post's audience from the trending index (a copy): a
    change of audience reaches it with the change, not with the next recomputation."""
    author = await factory.user()
    await aged(db, author)
    post_id = await factory.post(author, "liked, then unlisted")
    await engage(factory, post_id, likes=2)
    await trends.recompute(client.app)
    visitor = await make_client(client)
    assert post_id in await trending_ids(Api(visitor))

    await login(client, author)
    await submit(client, f"/p/{post_id}/audience", {"audience": "unlisted"}, page=f"/p/{post_id}")
    assert post_id not in await trending_ids(Api(visitor))
    front = await (await visitor.get("/explore")).text()
    assert f'id="post-{post_id}"' not in front
    await submit(client, f"/p/{post_id}/audience", {"audience": "public"}, page=f"/p/{post_id}")
    assert post_id in await trending_ids(Api(visitor))
