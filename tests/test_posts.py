"""Writing, reading and deleting posts, through pages and the API."""

from __future__ import annotations

from sqlalchemy import func, select

from service.models import Post
from tests.api import Api
from tests.support import submit


async def posts_by(db, body: str) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).where(Post.body == body))


async def test_form_post_redirects_to_the_new_post_page(client, factory, login):
    await login(client, await factory.user())
    response = await submit(client, "/posts", {"body": "Hello, Snapline!"})
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/p/")
    page = await client.get(location)
    assert "Hello, Snapline!" in await page.text()


async def test_body_limits(client, factory, login, db):
    await login(client, await factory.user())
    api = Api(client)
    too_long = "x" * 2001
    response = await api.call("POST", "/api/snapline/v1/posts", {"body": too_long}, expect=422)
    assert (await response.json())["error"]["code"] == "invalid_body"
    assert await posts_by(db, too_long) == 0
    page = await submit(client, "/posts", {"body": too_long})
    assert page.status == 422
    assert "at most 2,000 characters" in await page.text()
    assert too_long in await page.text()  # the draft is kept
    assert await posts_by(db, too_long) == 0
    await api.call("POST", "/api/snapline/v1/posts", {"body": "   "}, expect=422)
    await api.call("POST", "/api/snapline/v1/posts", {"body": 12}, expect=422)
    await api.call("POST", "/api/snapline/v1/posts", {"body": "nul \x00 byte"}, expect=422)
    exact = "y" * 2000
    created = await (
        await api.call("POST", "/api/snapline/v1/posts", {"body": exact}, expect=201)
    ).json()
    assert created["status"] == "published" and created["body"] == exact
    assert created["created_at"].endswith("Z")


async def test_malformed_json_and_wrong_media_type(client, factory, login):
    await login(client, await factory.user())
    token = await Api(client).token()
    bad_json = await client.post(
        "/api/snapline/v1/posts",
        data=b"{not json",
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
    )
    assert bad_json.status == 400
    bad_utf8 = await client.post(
        "/api/snapline/v1/posts",
        data=b'{"body": "\xff\xfe"}',
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
    )
    assert bad_utf8.status == 400
    text = await client.post(
        "/api/snapline/v1/posts",
        data=b"body",
        headers={"Content-Type": "text/plain", "X-CSRF-Token": token},
    )
    assert text.status == 415


async def test_unconfirmed_and_anonymous_users_cannot_post(client, factory, login, db):
    anonymous = await Api(client).call("POST", "/api/snapline/v1/posts", {"body": "anon"})
    assert anonymous.status == 401
    await login(client, await factory.user(confirmed=False))
    refused = await Api(client).call("POST", "/api/snapline/v1/posts", {"body": "unconfirmed"})
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "email_unconfirmed"
    page = await submit(client, "/posts", {"body": "unconfirmed"})
    assert page.status == 403
    assert await posts_by(db, "unconfirmed") == 0


async def test_only_the_author_or_a_moderator_deletes(client, make_client, factory, login):
    author, other, moderator = (
        await factory.user(),
        await factory.user(),
        await factory.user(role="moderator"),
    )
    await login(client, author)
    first = (await Api(client).post_text("first"))["id"]
    second = (await Api(client).post_text("second"))["id"]

    other_browser = await make_client(client)
    await login(other_browser, other)
    refused = await Api(other_browser).call("DELETE", f"/api/snapline/v1/posts/{first}")
    assert refused.status == 403
    page = await submit(other_browser, f"/p/{first}/delete")
    assert page.status == 403
    assert (await client.get(f"/p/{first}")).status == 200

    await Api(client).call("DELETE", f"/api/snapline/v1/posts/{first}", expect=204)
    assert (await client.get(f"/p/{first}")).status == 404
    assert (await Api(client).call("DELETE", f"/api/snapline/v1/posts/{first}")).status == 404

    mod_browser = await make_client(client)
    await login(mod_browser, moderator)
    html = await (await mod_browser.get(f"/p/{second}")).text()
    assert f'action="/p/{second}/delete"' in html
    removed = await submit(mod_browser, f"/p/{second}/delete", page=f"/p/{second}")
    assert removed.status == 303
    profile = await Api(client).get(f"/api/snapline/v1/users/{author.username}")
    assert profile["post_count"] == 0


async def test_unknown_posts_are_404(client):
    for path in ("/p/999999999", "/p/abc", "/p/99999999999999999999999"):
        assert (await client.get(path)).status == 404
    api = await client.get("/api/snapline/v1/posts/999999999")
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"


async def test_explore_shows_everyones_posts_to_anyone(client, make_client, factory, login):
    author = await factory.user()
    await login(client, author)
    body = f"explore me {factory.unique()}"
    await Api(client).post_text(body)
    visitor = await make_client(client)
    # The front page shows what trends; a new post is in Explore's latest.
    assert "Create an account" in await (await visitor.get("/")).text()
    assert body in await (await visitor.get("/explore?sort=latest")).text()
    items = (await Api(visitor).get("/api/snapline/v1/explore"))["items"]
    assert items[0]["body"] == body
    assert items[0]["author"]["username"] == author.username


async def test_user_text_is_escaped_in_pages(client, factory, login):
    account = await factory.user()
    await login(client, account)
    await submit(
        client,
        "/settings/profile",
        {"display_name": "<b>bold</b>", "location": "", "bio": "<script>alert(1)</script>"},
        page="/settings/profile",
    )
    post = await Api(client).post_text('<img src=x onerror="alert(2)">')
    for path in ("/", f"/p/{post['id']}", f"/@{account.username}"):
        html = await (await client.get(path)).text()
        assert (
            "<img src=x" not in html and "<b>bold</b>" not in html and "<script>alert" not in html
        )
        assert "&lt;img src=x onerror=" in html or "&lt;b&gt;bold&lt;/b&gt;" in html
