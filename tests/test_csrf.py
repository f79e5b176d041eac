"""Every state-changing request needs the CSRF token of the same browser session."""

from __future__ import annotations

from sqlalchemy import func, select

from service.models import User
from tests.support import csrf_for, submit
from tests.test_login import is_logged_in


async def users_named(db, username: str) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).where(User.username == username))


async def test_missing_stale_or_foreign_token_is_refused_and_changes_nothing(
    client, make_client, factory, db
):
    username = factory.unique()
    form = {"username": username, "email": f"{username}@example.com", "password": "plum-kettle-41"}
    await client.get("/signup")

    missing = await client.post("/signup", data=form, allow_redirects=False)
    assert missing.status == 403
    assert "did not come from this site" in await missing.text()

    other_browser = await make_client(client)
    foreign = await submit(client, "/signup", form, token=await csrf_for(other_browser, "/signup"))
    assert foreign.status == 403

    wrong = await submit(client, "/signup", form, token="x" * 43)
    assert wrong.status == 403
    assert await users_named(db, username) == 0


async def test_token_from_before_login_is_stale_after_it(client, factory, login):
    account = await factory.user()
    before = await csrf_for(client, "/login")
    await login(client, account)
    response = await submit(client, "/logout", token=before)
    assert response.status == 403
    assert await is_logged_in(client)


async def test_header_token_works_for_scripts_and_json_gets_json_error(client, factory, login):
    account = await factory.user()
    await login(client, account)
    refused = await client.post(
        "/logout", headers={"Accept": "application/json"}, allow_redirects=False
    )
    assert refused.status == 403
    assert refused.content_type == "application/json"
    assert (await refused.json())["error"]["code"] == "csrf_failed"
    token = await csrf_for(client)
    accepted = await client.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert accepted.status == 303
    assert not await is_logged_in(client)


async def test_every_form_on_a_page_carries_the_token(client, factory, login):
    account = await factory.user(confirmed=False)
    await login(client, account)
    html = await (await client.get("/settings/password")).text()
    token = await csrf_for(client, "/settings/password")
    assert html.count('method="post"') == html.count(f'name="csrf_token" value="{token}"')
