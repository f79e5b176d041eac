"""Profiles, following and relationship lists."""

from __future__ import annotations

import asyncio

from tests.api import Api
from tests.support import submit


async def test_follow_and_unfollow_update_counts_and_follows_you_badge(
    client, make_client, factory, login
):
    ann, bob = await factory.user(), await factory.user()
    await login(client, ann)
    bob_browser = await make_client(client)
    await login(bob_browser, bob)

    followed = await submit(client, f"/@{bob.username}/follow", page=f"/@{bob.username}")
    assert followed.status == 303 and followed.headers["Location"] == f"/@{bob.username}"
    bob_profile = await (await client.get(f"/@{bob.username}")).text()
    assert "Unfollow" in bob_profile and "<strong>1</strong> follower" in bob_profile
    ann_seen_by_bob = await (await bob_browser.get(f"/@{ann.username}")).text()
    assert "Follows you" in ann_seen_by_bob
    assert "<strong>1</strong> following" in ann_seen_by_bob

    user = await Api(bob_browser).get(f"/api/snapline/v1/users/{ann.username}")
    assert user["follows_you"] is True and user["following"] is False
    assert user["following_count"] == 1 and user["followers_count"] == 0
    assert "email" not in user and "password_hash" not in user

    await submit(client, f"/@{bob.username}/unfollow", page=f"/@{bob.username}")
    assert "Follows you" not in await (await bob_browser.get(f"/@{ann.username}")).text()
    assert (await Api(client).get(f"/api/snapline/v1/users/{bob.username}"))["followers_count"] == 0


async def test_follow_is_idempotent_even_under_concurrency(client, factory, login):
    ann, bob = await factory.user(), await factory.user()
    await login(client, ann)
    api = Api(client)
    answers = await asyncio.gather(*(api.follow(bob.username) for _ in range(20)))
    following = {"following": True, "followers_count": 1, "requested": False}
    assert all(answer == following for answer in answers)
    assert (await api.get(f"/api/snapline/v1/users/{ann.username}"))["following_count"] == 1
    twice = await asyncio.gather(*(api.unfollow(bob.username) for _ in range(5)))
    not_following = {"following": False, "followers_count": 0, "requested": False}
    assert all(answer == not_following for answer in twice)


async def test_mutual_follows_at_the_same_moment_do_not_deadlock(
    client, make_client, factory, login
):
    pairs = []
    for _ in range(5):
        a, b = await factory.user(), await factory.user()
        a_browser, b_browser = await make_client(client), await make_client(client)
        await login(a_browser, a)
        await login(b_browser, b)
        pairs.append((Api(a_browser).follow(b.username), Api(b_browser).follow(a.username)))
    results = await asyncio.gather(*(call for pair in pairs for call in pair))
    assert all(result["followers_count"] == 1 for result in results)


async def test_cannot_follow_yourself_or_follow_unconfirmed(client, make_client, factory, login):
    ann = await factory.user()
    await login(client, ann)
    refused = await Api(client).call("POST", f"/api/snapline/v1/users/{ann.username}/follow")
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "cannot_follow_self"

    pending = await factory.user(confirmed=False)
    browser = await make_client(client)
    await login(browser, pending)
    page = await submit(browser, f"/@{ann.username}/follow", page=f"/@{ann.username}")
    assert page.status == 403
    assert "Confirm your email" in await page.text()
    assert (await Api(browser).get(f"/api/snapline/v1/users/{ann.username}"))[
        "followers_count"
    ] == 0


async def test_followers_list_is_newest_first_with_since(client, make_client, factory, login):
    star = await factory.user()
    fans = [await factory.user() for _ in range(3)]
    for fan in fans:
        browser = await make_client(client)
        await login(browser, fan)
        await Api(browser).follow(star.username)
    api = Api(client)
    page = await api.get(f"/api/snapline/v1/users/{star.username}/followers", limit=2)
    assert [item["user"]["username"] for item in page["items"]] == [
        fans[2].username,
        fans[1].username,
    ]
    assert page["items"][0]["since"] >= page["items"][1]["since"]
    rest = await api.get(
        f"/api/snapline/v1/users/{star.username}/followers", limit=2, cursor=page["next_cursor"]
    )
    assert [item["user"]["username"] for item in rest["items"]] == [fans[0].username]
    assert rest["next_cursor"] is None
    following = await api.get(f"/api/snapline/v1/users/{fans[0].username}/following")
    assert [item["user"]["username"] for item in following["items"]] == [star.username]
    html = await (await client.get(f"/@{star.username}/followers")).text()
    assert html.index(fans[2].username) < html.index(fans[0].username)
    assert "since" in html


async def test_unknown_users_are_404_in_pages_and_api(client):
    for path in ("/@nobody_at_all", "/@nobody_at_all/followers", "/@" + "x" * 40, "/@bad%00name"):
        assert (await client.get(path)).status == 404
    for path in (
        "/api/snapline/v1/users/nobody_at_all",
        "/api/snapline/v1/users/nobody_at_all/posts",
        "/api/snapline/v1/users/nobody_at_all/following",
        "/api/snapline/v1/users/bad%00name/posts",
    ):
        response = await client.get(path)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_profile_page_shows_posts_counts_and_member_since(client, factory, login):
    ann = await factory.user()
    await login(client, ann)
    await Api(client).post_text("my first post")
    html = await (await client.get(f"/@{ann.username}")).text()
    assert "my first post" in html
    assert "Member since" in html
    assert "<strong>1</strong> post" in html
    assert "/identicons/" in html
    avatar = html.split('class="avatar avatar-large" src="')[1].split('"')[0]
    image = await client.get(avatar)
    assert image.status == 200 and image.content_type == "image/svg+xml"


async def test_profile_settings_save_and_validate(client, factory, login):
    ann = await factory.user()
    await login(client, ann)
    too_long = await submit(
        client,
        "/settings/profile",
        {"display_name": "n" * 51, "location": "Lisbon", "bio": "hi"},
        page="/settings/profile",
    )
    assert too_long.status == 422
    assert 'value="Lisbon"' in await too_long.text()
    saved = await submit(
        client,
        "/settings/profile",
        {"display_name": "Ann Example", "location": "Lisbon", "bio": "Line one\nline two"},
        page="/settings/profile",
    )
    assert saved.status == 303
    user = await Api(client).get(f"/api/snapline/v1/users/{ann.username}")
    assert user["display_name"] == "Ann Example"
    assert user["location"] == "Lisbon" and user["bio"] == "Line one\nline two"
