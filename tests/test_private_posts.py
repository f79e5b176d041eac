"""A private account's posts are never public: made private, its default audience becomes
followers only (unlisted stays unlisted), the composer and the settings offer it no public
audience, and a post asked public anyway (a crafted form, Snapline's API, a Mastodon app) is
refused 422; its posts from before keep their audience and may stay public, but none is made
public again while the account is private."""

from __future__ import annotations

from sqlalchemy import text

from tests.api import Api
from tests.oauth import bearer, user_token
from tests.support import submit

PROFILE = {"display_name": "", "location": "", "bio": ""}


async def audience_of(db, post_id: int) -> str:
    async with db() as session:
        return await session.scalar(
            text("SELECT audience FROM posts WHERE id = :id"), {"id": post_id}
        )


async def default_of(db, user_id: int) -> str:
    async with db() as session:
        return await session.scalar(
            text("SELECT default_audience FROM users WHERE id = :id"), {"id": user_id}
        )


async def post_form(client, audience: str | None, body: str = "words"):
    form = {"body": body} | ({"audience": audience} if audience else {})
    return await submit(client, "/posts", form)


async def test_made_private_an_account_posts_to_followers_and_is_offered_no_public(
    client, factory, login, db
):
    me = await factory.user()
    await login(client, me)
    before = await factory.post(me, "from when I was public")
    assert await audience_of(db, before) == "public"
    saved = await submit(
        client, "/settings/profile", {**PROFILE, "locked": "on"}, page="/settings/profile"
    )
    assert saved.status == 303
    assert await default_of(db, me.id) == "followers"
    # At once, in this very session: no public choice, and why.
    for path in ("/", "/settings/profile"):
        page = await (await client.get(path)).text()
        assert '<option value="public"' not in page, path
        assert "Your account is private: your posts are for your followers" in page, path
    made = await post_form(client, None)
    assert made.status == 303
    assert await audience_of(db, int(made.headers["Location"].rsplit("/", 1)[1])) == "followers"
    refused = await post_form(client, "public", "for everyone?")
    assert refused.status == 422 and "Your account is private" in await refused.text()
    unlisted = await post_form(client, "unlisted")
    assert await audience_of(db, int(unlisted.headers["Location"].rsplit("/", 1)[1])) == "unlisted"

    # The older public post stays public, and its page offers to keep it so...
    assert await audience_of(db, before) == "public"
    page = await (await client.get(f"/p/{before}")).text()
    assert '<option value="public" selected>' in page
    kept = await submit(
        client, f"/p/{before}/audience", {"audience": "public"}, page=f"/p/{before}"
    )
    assert kept.status == 303 and await audience_of(db, before) == "public"
    # ...but once narrowed it is not made public again while the account is private.
    narrowed = await submit(
        client, f"/p/{before}/audience", {"audience": "followers"}, page=f"/p/{before}"
    )
    assert narrowed.status == 303 and await audience_of(db, before) == "followers"
    page = await (await client.get(f"/p/{before}")).text()
    assert '<option value="public"' not in page
    again = await submit(
        client, f"/p/{before}/audience", {"audience": "public"}, page=f"/p/{before}"
    )
    assert again.status == 422 and await audience_of(db, before) == "followers"

    # A public default cannot be chosen while private; made public again, it can.
    saved = await submit(
        client,
        "/settings/profile",
        {**PROFILE, "locked": "on", "default_audience": "public"},
        page="/settings/profile",
    )
    assert saved.status == 303 and await default_of(db, me.id) == "followers"
    saved = await submit(
        client,
        "/settings/profile",
        {**PROFILE, "default_audience": "public"},
        page="/settings/profile",
    )
    assert saved.status == 303 and await default_of(db, me.id) == "public"
    home = await (await client.get("/")).text()
    assert '<option value="public" selected>' in home


async def test_an_unlisted_default_stays_when_the_account_is_made_private(
    client, factory, login, db
):
    me = await factory.user()
    await login(client, me)
    for form in (
        {"default_audience": "unlisted"},
        {"default_audience": "unlisted", "locked": "on"},
    ):
        saved = await submit(
            client, "/settings/profile", {**PROFILE, **form}, page="/settings/profile"
        )
        assert saved.status == 303
    assert await default_of(db, me.id) == "unlisted"


async def test_the_apis_refuse_a_private_accounts_public_post(client, factory, login, db):
    me = await factory.user()
    await login(client, me)
    token = await user_token(client, "read write")
    locked = await client.patch(
        "/api/v1/accounts/update_credentials", data={"locked": "true"}, headers=bearer(token)
    )
    assert locked.status == 200
    account = await locked.json()
    assert account["locked"] is True and account["source"]["privacy"] == "private"
    # A Mastodon app: public refused, no visibility is followers only.
    refused = await client.post(
        "/api/v1/statuses", data={"status": "hi", "visibility": "public"}, headers=bearer(token)
    )
    assert refused.status == 422 and "private" in (await refused.json())["error"]
    made = await client.post("/api/v1/statuses", data={"status": "hi"}, headers=bearer(token))
    assert made.status == 200 and (await made.json())["visibility"] == "private"
    public_default = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"source[privacy]": "public"},
        headers=bearer(token),
    )
    assert public_default.status == 422
    assert await default_of(db, me.id) == "followers"
    # Snapline's own API.
    answer = await Api(client).call(
        "POST", "/api/snapline/v1/posts", {"body": "hello", "audience": "public"}
    )
    assert answer.status == 422
    # Unlocking and asking public in one request is fine.
    both = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"locked": "false", "source[privacy]": "public"},
        headers=bearer(token),
    )
    assert both.status == 200 and (await both.json())["source"]["privacy"] == "public"
    assert await default_of(db, me.id) == "public"
