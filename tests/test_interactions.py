"""Comments, likes and notifications through pages and the API."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.api import Api
from tests.support import submit


async def browser_for(make_client, client, login, account) -> Api:
    browser = await make_client(client)
    await login(browser, account)
    return Api(browser)


async def test_comment_flow_html_and_api(client, make_client, factory, login):
    author, reader = await factory.user(), await factory.user()
    author_api = await browser_for(make_client, client, login, author)
    post_id = (await author_api.post_text("a post to discuss"))["id"]
    await login(client, reader)

    page = await submit(
        client, f"/p/{post_id}/comments", {"body": "First! <b>bold</b>"}, page=f"/p/{post_id}"
    )
    assert page.status == 303
    assert page.headers["Location"].startswith(f"/p/{post_id}#comment-")
    html = await (await client.get(f"/p/{post_id}")).text()
    assert "First! &lt;b&gt;bold&lt;/b&gt;" in html
    assert "1 comment" in html

    api = Api(client)
    created = await (
        await api.call(
            "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "second"}, expect=201
        )
    ).json()
    assert set(created) == {"id", "post_id", "author", "body", "created_at", "tags", "mentions"}
    assert created["author"]["username"] == reader.username and created["post_id"] == post_id
    listed = await api.get(f"/api/snapline/v1/posts/{post_id}/comments", limit=1)
    assert [c["body"] for c in listed["items"]] == ["First! <b>bold</b>"]
    rest = await api.get(
        f"/api/snapline/v1/posts/{post_id}/comments", limit=1, cursor=listed["next_cursor"]
    )
    assert [c["body"] for c in rest["items"]] == ["second"]
    assert (await api.get(f"/api/snapline/v1/posts/{post_id}"))["comment_count"] == 2


async def test_comment_validation_and_errors(client, make_client, factory, login):
    author = await factory.user()
    author_api = await browser_for(make_client, client, login, author)
    post_id = (await author_api.post_text("post"))["id"]
    for body in ("", "   ", "x" * 1001):
        response = await author_api.call(
            "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": body}
        )
        assert response.status == 422
    form = await submit(
        author_api.client, f"/p/{post_id}/comments", {"body": "y" * 1001}, page=f"/p/{post_id}"
    )
    assert form.status == 422
    assert "at most 1,000 characters" in await form.text()
    assert (
        await author_api.call("POST", "/api/snapline/v1/posts/999999999/comments", {"body": "hi"})
    ).status == 404
    assert (
        await client.post(f"/api/snapline/v1/posts/{post_id}/comments", json={"body": "anon"})
    ).status == 403
    anonymous = await Api(client).call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "anon"}
    )
    assert anonymous.status == 401
    no_csrf = await author_api.client.post(
        f"/p/{post_id}/comments", data={"body": "no token"}, allow_redirects=False
    )
    assert no_csrf.status == 403
    assert (await author_api.get(f"/api/snapline/v1/posts/{post_id}"))["comment_count"] == 0


async def test_who_may_delete_a_comment(client, make_client, factory, login):
    author, commenter, stranger, moderator = (
        await factory.user(),
        await factory.user(),
        await factory.user(),
        await factory.user(role="moderator"),
    )
    author_api = await browser_for(make_client, client, login, author)
    commenter_api = await browser_for(make_client, client, login, commenter)
    stranger_api = await browser_for(make_client, client, login, stranger)
    moderator_api = await browser_for(make_client, client, login, moderator)
    post_id = await factory.post(author)
    first, second, third = [await factory.comment(commenter, post_id) for _ in range(3)]
    assert (await author_api.get(f"/api/snapline/v1/posts/{post_id}"))["comment_count"] == 3
    assert (await stranger_api.call("DELETE", f"/api/snapline/v1/comments/{first}")).status == 403
    refused = await submit(stranger_api.client, f"/comments/{first}/delete", page=f"/p/{post_id}")
    assert refused.status == 403
    await commenter_api.call("DELETE", f"/api/snapline/v1/comments/{first}", expect=204)
    await author_api.call("DELETE", f"/api/snapline/v1/comments/{second}", expect=204)
    removed = await submit(moderator_api.client, f"/comments/{third}/delete", page=f"/p/{post_id}")
    assert removed.status == 303
    assert (await author_api.call("DELETE", f"/api/snapline/v1/comments/{third}")).status == 404
    assert (await author_api.get(f"/api/snapline/v1/posts/{post_id}"))["comment_count"] == 0


async def test_likes_are_idempotent_and_show_on_posts(client, make_client, factory, login):
    author, fan = await factory.user(), await factory.user()
    author_api = await browser_for(make_client, client, login, author)
    post_id = (await author_api.post_text("likeable"))["id"]
    fan_api = await browser_for(make_client, client, login, fan)
    for _ in range(2):
        answer = await (
            await fan_api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
        ).json()
        assert answer == {"liked": True, "like_count": 1}
    post = await fan_api.get(f"/api/snapline/v1/posts/{post_id}")
    assert post["liked"] is True and post["like_count"] == 1
    assert (await author_api.get(f"/api/snapline/v1/posts/{post_id}"))["liked"] is False
    html = await (await fan_api.client.get(f"/p/{post_id}")).text()
    assert 'aria-pressed="true"' in html and f'action="/p/{post_id}/unlike"' in html

    page = await submit(fan_api.client, f"/p/{post_id}/unlike", page=f"/p/{post_id}")
    assert page.status == 303
    assert (await fan_api.get(f"/api/snapline/v1/posts/{post_id}"))["like_count"] == 0
    answer = await (
        await fan_api.call("DELETE", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
    ).json()
    assert answer == {"liked": False, "like_count": 0}
    assert (await fan_api.call("POST", "/api/snapline/v1/posts/999999999/like")).status == 404
    assert (await Api(client).call("POST", f"/api/snapline/v1/posts/{post_id}/like")).status == 401


async def test_notifications_created_once_withdrawn_and_marked_read(
    client, make_client, factory, login
):
    star, fan = await factory.user(), await factory.user()
    star_api = await browser_for(make_client, client, login, star)
    fan_api = await browser_for(make_client, client, login, fan)
    post_id = (await star_api.post_text("notify me"))["id"]

    await fan_api.follow(star.username)
    await fan_api.follow(star.username)
    await fan_api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
    await fan_api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
    await fan_api.call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "nice"}, expect=201
    )
    await star_api.call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "thanks"}, expect=201
    )
    await star_api.call("POST", f"/api/snapline/v1/posts/{post_id}/like", expect=200)

    items = (await star_api.get("/api/snapline/v1/notifications"))["items"]
    assert [item["kind"] for item in items] == ["comment", "like", "follow"]
    assert all(item["actor"]["username"] == fan.username and not item["read"] for item in items)
    assert items[0]["post_id"] == post_id and items[2]["post_id"] is None
    assert (await fan_api.get("/api/snapline/v1/notifications"))["items"] == []
    html = await (await star_api.client.get("/")).text()
    assert 'data-unread="3"' in html

    await fan_api.call("DELETE", f"/api/snapline/v1/posts/{post_id}/like", expect=200)
    await fan_api.unfollow(star.username)
    items = (await star_api.get("/api/snapline/v1/notifications"))["items"]
    assert [item["kind"] for item in items] == ["comment"]

    page = await (await star_api.client.get("/notifications")).text()
    assert "commented on" in page and fan.username in page
    await star_api.call("POST", "/api/snapline/v1/notifications/read", expect=200)
    assert all(
        item["read"] for item in (await star_api.get("/api/snapline/v1/notifications"))["items"]
    )
    assert 'data-unread="0"' in await (await star_api.client.get("/")).text()
    # The page's own button does the same, and comes back to the list.
    await fan_api.call(
        "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": "again"}, expect=201
    )
    assert 'data-unread="1"' in await (await star_api.client.get("/")).text()
    marked = await submit(star_api.client, "/notifications/read", page="/notifications")
    assert marked.status == 303 and marked.headers["Location"] == "/notifications"
    assert 'data-unread="0"' in await (await star_api.client.get("/")).text()
    assert (await client.get("/api/snapline/v1/notifications")).status == 401


async def test_counters_equal_row_counts_under_concurrency(client, make_client, factory, login, db):
    author = await factory.user()
    post_id = await factory.post(author, "busy post")
    fans = [await browser_for(make_client, client, login, await factory.user()) for _ in range(10)]

    async def like_unlike(api: Api, index: int) -> None:
        method = "POST" if index % 3 else "DELETE"
        await api.call(method, f"/api/snapline/v1/posts/{post_id}/like", expect=200)

    async def comment(api: Api, index: int) -> None:
        await api.call(
            "POST", f"/api/snapline/v1/posts/{post_id}/comments", {"body": f"c{index}"}, expect=201
        )

    await asyncio.gather(
        *(like_unlike(fans[i % 10], i) for i in range(50)),
        *(comment(fans[i % 10], i) for i in range(50)),
        *(fans[i].follow(author.username) for i in range(10)),
        *(fans[i].unfollow(author.username) for i in range(0, 10, 2)),
    )
    async with db() as session:
        row = (
            await session.execute(
                text(
                    "SELECT p.like_count, (SELECT count(*) FROM likes WHERE post_id = p.id),"
                    " p.comment_count, (SELECT count(*) FROM comments WHERE post_id = p.id),"
                    " u.followers_count, (SELECT count(*) FROM follows WHERE followed_id = u.id)"
                    " FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = :id"
                ),
                {"id": post_id},
            )
        ).one()
    likes, like_rows, comments, comment_rows, followers, follow_rows = row
    assert (likes, comments, followers) == (like_rows, comment_rows, follow_rows)
    assert comment_rows == 50


async def test_admin_changes_roles_and_others_are_refused(client, make_client, factory, login):
    admin, user = await factory.user(role="admin"), await factory.user()
    admin_browser = await make_client(client)
    await login(admin_browser, admin)
    page = await admin_browser.get("/admin/users")
    assert page.status == 200 and user.username in await page.text()
    changed = await submit(
        admin_browser,
        f"/admin/users/{user.username}/role",
        {"role": "moderator"},
        page="/admin/users",
    )
    assert changed.status == 303
    bad = await submit(
        admin_browser,
        f"/admin/users/{user.username}/role",
        {"role": "emperor"},
        page="/admin/users",
    )
    assert bad.status == 422

    await login(client, user)
    assert (await client.get("/admin/users")).status == 403
    refused = await submit(client, f"/admin/users/{user.username}/role", {"role": "admin"})
    assert refused.status == 403
    profile = await (await admin_browser.get("/admin/users")).text()
    assert 'value="moderator" selected' in profile
