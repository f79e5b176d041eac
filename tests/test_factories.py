"""The test factories act as the domain does: counters, notifications and pages agree with
what they made, as if people had done it."""

from __future__ import annotations

from sqlalchemy import text

from tests.api import Api


async def test_factory_posts_follows_comments_and_likes_keep_every_counter_exact(
    client, factory, login, db
):
    author, fan = await factory.user(), await factory.user()
    post_id = await factory.post(author, "made by the factory")
    await factory.follow(fan, author)
    comment_id = await factory.comment(fan, post_id, "a factory comment")
    assert await factory.like(fan, post_id) == 1

    async with db() as session:
        counters = (
            await session.execute(
                text(
                    "SELECT u.post_count, (SELECT count(*) FROM posts WHERE author_id = u.id),"
                    " u.followers_count, (SELECT count(*) FROM follows WHERE followed_id = u.id),"
                    " p.like_count, (SELECT count(*) FROM likes WHERE post_id = p.id),"
                    " p.comment_count, (SELECT count(*) FROM comments WHERE post_id = p.id)"
                    " FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = :id"
                ),
                {"id": post_id},
            )
        ).one()
    assert tuple(counters) == (1, 1, 1, 1, 1, 1, 1, 1)

    await login(client, author)
    api = Api(client)
    post = await api.get(f"/api/snapline/v1/posts/{post_id}")
    assert post["body"] == "made by the factory" and post["status"] == "published"
    comments = (await api.get(f"/api/snapline/v1/posts/{post_id}/comments"))["items"]
    assert [(c["id"], c["body"]) for c in comments] == [(comment_id, "a factory comment")]
    notifications = (await api.get("/api/snapline/v1/notifications"))["items"]
    assert [item["kind"] for item in notifications] == ["like", "comment", "follow"]
    profile = await api.get(f"/api/snapline/v1/users/{fan.username}")
    assert profile["following_count"] == 1 and profile["follows_you"] is True
