"""Suggestions of people to mention, as the composer asks for them while a username is typed
after "@": the person whose username it is, then people the viewer follows, then anyone,
at most six; never the viewer, nor anyone a block (either way) or a suspension hides; for
signed-in people only, and a clear 400 for anything that cannot begin a username."""

from __future__ import annotations

from sqlalchemy import text

from service.domain import blocks, follows
from service.reads.people import MAX_SUGGESTIONS
from tests.oauth import bearer, user_token
from tests.test_search import named

SUGGESTIONS = "/api/snapline/v1/people/suggestions"


async def suggested(client, typed: str, **extra: str) -> list[str]:
    response = await client.get(SUGGESTIONS, params={"q": typed, **extra})
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert set(answer) == {"items"}
    return [person["username"] for person in answer["items"]]


async def test_the_named_person_comes_first_then_those_followed_then_anyone(
    client, factory, db, login
):
    tag = factory.unique("s")[-6:].lower()
    me = await factory.user(username=f"me{tag}")
    exact = await factory.user(username=f"ali{tag}")
    stranger = await factory.user(username=f"ali{tag}b")
    friend = await factory.user(username=f"ali{tag}zz")
    by_name = await factory.user(username=f"x{tag}")
    await named(db, by_name, f"Ali {tag}")
    async with db.begin() as session:
        await follows.follow(session, me.id, friend.id)
    await login(client, me)

    found = await suggested(client, f"ali{tag}")
    assert found[:3] == [exact.username, friend.username, stranger.username]
    assert by_name.username in found
    # Any case; the person followed ahead of a closer match.
    assert (await suggested(client, f"ALI{tag}B"))[0] == stranger.username
    assert (await suggested(client, f"ali{tag}"[:-1]))[0] == friend.username
    # Never oneself, even by one's own username.
    assert me.username not in await suggested(client, f"me{tag}")
    # At most six, fewer when asked.
    await factory.user(username=f"ali{tag}c")
    await factory.user(username=f"ali{tag}d")
    await factory.user(username=f"ali{tag}e")
    assert len(await suggested(client, f"ali{tag}")) == MAX_SUGGESTIONS
    assert await suggested(client, f"ali{tag}", limit="2") == [exact.username, friend.username]
    # The person answers with what the composer shows: name, display name, avatar.
    response = await client.get(SUGGESTIONS, params={"q": f"x{tag}"})
    person = (await response.json())["items"][0]
    assert person["username"] == by_name.username
    assert person["display_name"] == f"Ali {tag}"
    assert person["avatar_url"] and person["url"] == f"/@{by_name.username}"


async def test_blocks_both_ways_and_suspension_hide_people_a_mute_does_not(
    client, factory, db, login
):
    tag = factory.unique("h")[-6:].lower()
    me = await factory.user()
    blocked, blocker, muted, suspended, plain = [
        await factory.user(username=f"{role}{tag}")
        for role in ("blocked", "blocker", "muted", "suspended", "plain")
    ]
    for account in (blocked, blocker, muted, suspended, plain):
        await named(db, account, f"Common {tag}")
    async with db.begin() as session:
        await blocks.block(session, me.id, blocked.id)
        await blocks.block(session, blocker.id, me.id)
        await blocks.mute(session, me.id, muted.id)
        await session.execute(
            text("UPDATE users SET suspended_at = now() WHERE id = :id"), {"id": suspended.id}
        )
    await login(client, me)
    assert set(await suggested(client, tag)) == {muted.username, plain.username}
    for hidden in (blocked, blocker, suspended):
        assert hidden.username not in await suggested(client, hidden.username)


async def test_signed_out_is_401_and_bad_input_400(client, make_client, factory, login):
    anonymous = await make_client(client)
    refused = await anonymous.get(SUGGESTIONS, params={"q": "ali"})
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "login_required"
    await login(client, await factory.user())
    bad = [
        {},
        {"q": ""},
        {"q": "a" * 31},
        {"q": "ali ce"},
        {"q": "@ali"},
        {"q": "a-b"},
        {"q": "ali\n"},
        {"q": "\0"},
        {"q": "ålice"},
        {"q": "%"},
        {"q": "ali", "limit": "0"},
        {"q": "ali", "limit": str(MAX_SUGGESTIONS + 1)},
        {"q": "ali", "limit": "x"},
    ]
    for params in bad:
        response = await client.get(SUGGESTIONS, params=params)
        assert response.status == 400, params
        assert "error" in await response.json()
    # One character is enough, and a whole username's length too.
    assert (await client.get(SUGGESTIONS, params={"q": "a"})).status == 200
    assert (await client.get(SUGGESTIONS, params={"q": "_" * 30})).status == 200


async def test_apps_need_read_accounts(client, factory, login):
    tag = factory.unique("t")[-6:].lower()
    wanted = await factory.user(username=f"token{tag}")
    await login(client, await factory.user())
    token = await user_token(client, "read:accounts")
    answer = await client.get(SUGGESTIONS, params={"q": f"token{tag}"}, headers=bearer(token))
    assert answer.status == 200
    assert [p["username"] for p in (await answer.json())["items"]] == [wanted.username]
    other = await user_token(client, "read:statuses")
    refused = await client.get(SUGGESTIONS, params={"q": "token"}, headers=bearer(other))
    assert refused.status == 403
