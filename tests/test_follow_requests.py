"""Private accounts and follow requests, end to end over HTTP: asking, withdrawing,
approving, rejecting, making the account public again, blocks and deleted accounts, in the
pages (forms that work without JavaScript), Snapline's API and the Mastodon API; and every
answer to a request that is not there (docs/privacy.md)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from service.domain import deletion, follows, profiles
from tests.api import Api
from tests.support import Account, csrf_for, submit
from tests.test_blocks import follow_counts_hold
from tests.test_mastodon_writes import call, token_for

ROUNDS = 6


async def _lock(db, account: Account, locked: bool = True) -> None:
    async with db.begin() as session:
        await profiles.set_locked(session, account.id, locked)


async def _requests_of(db, owner: Account) -> set[int]:
    async with db() as session:
        rows = await session.scalars(
            text("SELECT requester_id FROM follow_requests WHERE target_id = :id"),
            {"id": owner.id},
        )
        return set(rows)


async def _follows(db, follower: Account, followed: Account) -> bool:
    async with db() as session:
        found = await session.scalar(
            text("SELECT 1 FROM follows WHERE follower_id = :a AND followed_id = :b"),
            {"a": follower.id, "b": followed.id},
        )
    return found is not None


async def _notifications(db, account: Account) -> list[tuple[str, int]]:
    """(kind, actor) of each of the account's notifications, oldest first."""
    async with db() as session:
        rows = await session.execute(
            text("SELECT kind, actor_id FROM notifications WHERE user_id = :id ORDER BY id"),
            {"id": account.id},
        )
        return [tuple(row) for row in rows]


async def _counts_hold(db, *people: Account) -> None:
    """Each one's follower and following counts are the COUNT(*) of their follows, and no
    pair of them both follows and still asks."""
    await follow_counts_hold(db, *people)
    async with db() as session:
        both = await session.scalar(
            text(
                "SELECT count(*) FROM follow_requests r JOIN follows f"
                " ON f.follower_id = r.requester_id AND f.followed_id = r.target_id"
                " WHERE r.target_id = ANY(:ids)"
            ),
            {"ids": [person.id for person in people]},
        )
    assert both == 0


async def _signed_in(make_client, client, login, account: Account) -> TestClient:
    other = await make_client(client)
    await login(other, account)
    return other


async def test_a_private_account_is_asked_and_its_owner_approves_in_the_pages(
    client, make_client, factory, login, db
):
    owner, fan = await factory.user(), await factory.user()
    await factory.post(owner, "only for the approved")
    await login(client, owner)
    # The settings page explains the choice, and saving it marks the profile.
    settings_page = await (await client.get("/settings/profile")).text()
    assert "Private account" in settings_page
    assert "existing posts keep the audience" in settings_page
    saved = await submit(
        client,
        "/settings/profile",
        {"display_name": "Owner", "locked": "on"},
        page="/settings/profile",
    )
    assert saved.status == 303
    assert (
        'name="locked" type="checkbox" value="on" checked'
        in await (await client.get("/settings/profile")).text()
    )
    profile_path = f"/@{owner.username}"

    # Anyone sees the header and the counts of a private profile, with its mark.
    anonymous = await make_client(client)
    public_view = await (await anonymous.get(profile_path)).text()
    assert "Private account" in public_view and "1</strong> post" in public_view

    fans = await _signed_in(make_client, client, login, fan)
    page = await (await fans.get(profile_path)).text()
    assert ">Request<" in page and ">Follow<" not in page
    asked = await submit(fans, f"{profile_path}/follow", page=profile_path)
    assert asked.status == 303 and asked.headers["Location"] == profile_path
    page = await (await fans.get(profile_path)).text()
    assert f"Your request to follow @{owner.username} was sent." in page
    assert ">Requested<" in page and "0</strong> followers" in page
    # Asking again is the same request, and one notification.
    assert (await submit(fans, f"{profile_path}/follow", page=profile_path)).status == 303
    assert await _requests_of(db, owner) == {fan.id}
    assert await _notifications(db, owner) == [("follow_request", fan.id)]
    assert not await _follows(db, fan, owner)

    # The owner is told, and finds the request from the notifications page.
    assert 'data-unread="1"' in await (await client.get("/")).text()
    notes = await (await client.get("/notifications")).text()
    assert "requested to follow you." in notes
    assert 'href="/follow-requests"' in notes and '<span class="count-badge">1<' in notes
    listed = await (await client.get("/follow-requests")).text()
    assert f"@{fan.username}" in listed
    assert f'action="/follow-requests/{fan.username}/approve"' in listed
    assert f'action="/follow-requests/{fan.username}/reject"' in listed

    approved = await submit(
        client, f"/follow-requests/{fan.username}/approve", page="/follow-requests"
    )
    assert approved.status == 303 and approved.headers["Location"] == "/follow-requests"
    listed = await (await client.get("/follow-requests")).text()
    assert f"@{fan.username} now follows you." in listed
    assert "Nobody is asking to follow you." in listed
    assert await _follows(db, fan, owner) and await _requests_of(db, owner) == set()
    # The request's notification goes with it; the requester hears of the approval.
    assert await _notifications(db, owner) == []
    assert await _notifications(db, fan) == [("follow_accepted", owner.id)]
    fan_notes = await (await fans.get("/notifications")).text()
    assert "accepted your follow request." in fan_notes
    page = await (await fans.get(profile_path)).text()
    assert ">Unfollow<" in page and "1</strong> follower" in page
    await _counts_hold(db, owner, fan)


async def test_rejecting_is_silent_and_withdrawing_takes_the_notification_back(
    client, make_client, factory, login, db
):
    owner, fan, other = await factory.user(), await factory.user(), await factory.user()
    await _lock(db, owner)
    fans = await _signed_in(make_client, client, login, fan)
    others = await _signed_in(make_client, client, login, other)
    profile_path = f"/@{owner.username}"
    await submit(fans, f"{profile_path}/follow", page=profile_path)
    await submit(others, f"{profile_path}/follow", page=profile_path)

    # Withdrawn with the "Requested" button (the unfollow form): gone, with its notice.
    withdrawn = await submit(others, f"{profile_path}/unfollow", page=profile_path)
    assert withdrawn.status == 303
    assert await _requests_of(db, owner) == {fan.id}
    assert await _notifications(db, owner) == [("follow_request", fan.id)]
    assert ">Request<" in await (await others.get(profile_path)).text()

    await login(client, owner)
    rejected = await submit(
        client, f"/follow-requests/{fan.username}/reject", page="/follow-requests"
    )
    assert rejected.status == 303
    assert (
        f"You rejected the request of @{fan.username}."
        in await (await client.get("/follow-requests")).text()
    )
    assert await _requests_of(db, owner) == set() and not await _follows(db, fan, owner)
    # Silently: the requester is told nothing, and may ask again.
    assert await _notifications(db, fan) == []
    assert ">Request<" in await (await fans.get(profile_path)).text()
    assert (await submit(fans, f"{profile_path}/follow", page=profile_path)).status == 303
    assert await _requests_of(db, owner) == {fan.id}
    await _counts_hold(db, owner, fan, other)


async def test_answers_to_requests_that_are_not_there(client, make_client, factory, login, db):
    owner, fan, stranger, third = [await factory.user() for _ in range(4)]
    await _lock(db, owner)
    await _lock(db, third)
    fans = await _signed_in(make_client, client, login, fan)
    await submit(fans, f"/@{owner.username}/follow", page="/")
    # The stranger asked the third, not the owner.
    strangers = await _signed_in(make_client, client, login, stranger)
    await submit(strangers, f"/@{third.username}/follow", page="/")
    await login(client, owner)
    token = await csrf_for(client, "/follow-requests")
    for path, message in (
        # Nobody by that name; someone who asked the owner nothing (but asked the third:
        # that request is not the owner's to answer); the owner themselves.
        ("/follow-requests/nobody_here/approve", "There is no user by that name."),
        (f"/follow-requests/{stranger.username}/approve", "no pending follow request"),
        (f"/follow-requests/{stranger.username}/reject", "no pending follow request"),
        (f"/follow-requests/{owner.username}/approve", "no pending follow request"),
        ("/follow-requests/bad%00name/reject", "There is no user by that name."),
    ):
        answer = await submit(client, path, token=token)
        assert answer.status == 404, path
        assert message in await answer.text(), path
    assert await _requests_of(db, third) == {stranger.id}
    # Without the CSRF token nothing happens; without a session neither.
    forged = await client.post(f"/follow-requests/{fan.username}/approve", allow_redirects=False)
    assert forged.status == 403
    anonymous = await make_client(client)
    anonymous_answer = await submit(
        anonymous, f"/follow-requests/{fan.username}/approve", page="/login"
    )
    assert anonymous_answer.status in {303, 401}
    assert (await anonymous.get("/follow-requests", allow_redirects=False)).status in {303, 401}
    assert await _requests_of(db, owner) == {fan.id} and not await _follows(db, fan, owner)
    # Asking oneself is refused, as following oneself is.
    own = await submit(client, f"/@{owner.username}/follow", token=token)
    assert own.status == 422


async def test_making_the_account_public_approves_every_pending_request(client, factory, login, db):
    owner = await factory.user()
    fans = [await factory.user() for _ in range(3)]
    await _lock(db, owner)
    for fan in fans:
        async with db.begin() as session:
            assert await follows.follow(session, fan.id, owner.id)
    await login(client, owner)
    settings_page = await (await client.get("/settings/profile")).text()
    assert '<span class="count-badge">3<' in settings_page
    saved = await submit(
        client, "/settings/profile", {"display_name": ""}, page="/settings/profile"
    )
    assert saved.status == 303
    page = await (await client.get("/settings/profile")).text()
    assert "Your account is public: 3 pending follow requests were approved." in page
    assert await _requests_of(db, owner) == set()
    for fan in fans:
        assert await _follows(db, fan, owner)
        assert await _notifications(db, fan) == [("follow_accepted", owner.id)]
    assert "Private account" not in await (await client.get(f"/@{owner.username}")).text()
    await _counts_hold(db, owner, *fans)


async def test_blocking_drops_pending_requests_both_ways_and_refuses_new_ones(
    client, make_client, factory, login, db
):
    owner, fan = await factory.user(), await factory.user()
    await _lock(db, owner)
    await _lock(db, fan)
    fans = await _signed_in(make_client, client, login, fan)
    await login(client, owner)
    # Each asked to follow the other.
    await submit(fans, f"/@{owner.username}/follow", page="/")
    await submit(client, f"/@{fan.username}/follow", page="/")
    assert await _requests_of(db, owner) == {fan.id} and await _requests_of(db, fan) == {owner.id}
    blocked = await submit(client, f"/@{fan.username}/block", page="/")
    assert blocked.status == 303
    assert await _requests_of(db, owner) == set() and await _requests_of(db, fan) == set()
    assert await _notifications(db, owner) == [] and await _notifications(db, fan) == []
    # No request across the block, from either side.
    refused = await submit(fans, f"/@{owner.username}/follow", page="/")
    assert refused.status == 403
    mine = await Api(client).call("POST", f"/api/snapline/v1/users/{fan.username}/follow")
    assert mine.status == 403 and (await mine.json())["error"]["code"] == "blocking"
    assert await _requests_of(db, owner) == set() and await _requests_of(db, fan) == set()


async def test_deleting_an_account_removes_its_requests(client, factory, login, db):
    owner, leaving, staying = await factory.user(), await factory.user(), await factory.user()
    await _lock(db, owner)
    await _lock(db, leaving)
    async with db.begin() as session:
        await follows.follow(session, leaving.id, owner.id)
        await follows.follow(session, staying.id, owner.id)
        await follows.follow(session, owner.id, leaving.id)
        await deletion.request_deletion(session, leaving.id, timedelta(0))
    await login(client, owner)
    # In its grace period the account is hidden: not in the list, nor counted.
    listed = await (await client.get("/follow-requests")).text()
    assert f"@{staying.username}" in listed and f"@{leaving.username}" not in listed
    assert '<span class="count-badge">1<' in await (await client.get("/notifications")).text()
    async with db.begin() as session:
        assert await deletion.remove_if_due(session, leaving.id) is not None
    async with db() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM follow_requests WHERE :id IN (requester_id, target_id)"),
            {"id": leaving.id},
        )
    assert left == 0 and await _requests_of(db, owner) == {staying.id}


async def test_snapline_api_answers_that_a_follow_is_requested(
    client, make_client, factory, login, db
):
    owner, fan = await factory.user(), await factory.user()
    await _lock(db, owner)
    await login(client, fan)
    api = Api(client)
    user = await api.get(f"/api/snapline/v1/users/{owner.username}")
    assert (user["locked"], user["requested"], user["following"]) == (True, False, False)
    assert await api.follow(owner.username) == {
        "following": False,
        "followers_count": 0,
        "requested": True,
    }
    user = await api.get(f"/api/snapline/v1/users/{owner.username}")
    assert (user["requested"], user["following"]) == (True, False)
    notes = await api.get("/api/snapline/v1/notifications")
    assert notes["items"] == []
    # DELETE withdraws the request.
    assert await api.unfollow(owner.username) == {
        "following": False,
        "followers_count": 0,
        "requested": False,
    }
    assert await _requests_of(db, owner) == set()
    # A public account is followed at once, as before.
    await _lock(db, owner, False)
    assert await api.follow(owner.username) == {
        "following": True,
        "followers_count": 1,
        "requested": False,
    }
    owners = await _signed_in(make_client, client, login, owner)
    kinds = [
        item["kind"] for item in (await Api(owners).get("/api/snapline/v1/notifications"))["items"]
    ]
    assert kinds == ["follow"]


async def test_mastodon_api_follow_requests(client, factory, db):
    owner, fan, other = await factory.user(), await factory.user(), await factory.user()
    mine, fans, others = [await token_for(db, person) for person in (owner, fan, other)]

    updated = await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", mine, data={"locked": "true"}
    )
    assert updated["locked"] is True and updated["source"]["follow_requests_count"] == 0
    account = await call(client, "GET", f"/api/v1/accounts/{owner.id}", fans)
    assert account["locked"] is True

    asked = await call(client, "POST", f"/api/v1/accounts/{owner.id}/follow", fans)
    assert (asked["following"], asked["requested"]) == (False, True)
    await call(client, "POST", f"/api/v1/accounts/{owner.id}/follow", others)
    [relationship] = await call(
        client, "GET", f"/api/v1/accounts/relationships?id[]={owner.id}", fans
    )
    assert (relationship["requested"], relationship["following"]) == (True, False)
    [theirs] = await call(client, "GET", f"/api/v1/accounts/relationships?id[]={fan.id}", mine)
    assert theirs["requested_by"] is True
    me = await call(client, "GET", "/api/v1/accounts/verify_credentials", mine)
    assert me["source"]["follow_requests_count"] == 2

    # The list pages with Link headers, newest first.
    response = await client.get("/api/v1/follow_requests?limit=1", headers=mine)
    assert response.status == 200
    [newest] = await response.json()
    assert newest["id"] == str(other.id)
    next_url = response.links["next"]["url"]
    older = await client.get(next_url.path_qs, headers=mine)
    assert [item["id"] for item in await older.json()] == [str(fan.id)]
    # The owner is told with Mastodon's follow_request type.
    notes = await call(client, "GET", "/api/v1/notifications", mine)
    assert [(n["type"], n["account"]["id"]) for n in notes] == [
        ("follow_request", str(other.id)),
        ("follow_request", str(fan.id)),
    ]

    authorized = await call(client, "POST", f"/api/v1/follow_requests/{fan.id}/authorize", mine)
    assert authorized["id"] == str(fan.id) and authorized["followed_by"] is True
    assert authorized["requested_by"] is False
    rejected = await call(client, "POST", f"/api/v1/follow_requests/{other.id}/reject", mine)
    assert (rejected["followed_by"], rejected["requested_by"]) == (False, False)
    assert await call(client, "GET", "/api/v1/follow_requests", mine) == []
    # Answered already, never asked, or nobody: 404.
    for path in (
        f"/api/v1/follow_requests/{fan.id}/authorize",
        f"/api/v1/follow_requests/{other.id}/reject",
        "/api/v1/follow_requests/999999999/authorize",
        f"/api/v1/follow_requests/{owner.id}/authorize",
    ):
        await call(client, "POST", path, mine, status=404)
    await call(client, "POST", "/api/v1/follow_requests/abc/authorize", mine, status=404)

    [relationship] = await call(
        client, "GET", f"/api/v1/accounts/relationships?id[]={owner.id}", fans
    )
    assert (relationship["following"], relationship["requested"]) == (True, False)
    # The owner's statuses carry the account as locked too.
    await factory.post(owner, "for those I let in")
    [status] = await call(client, "GET", f"/api/v1/accounts/{owner.id}/statuses", fans)
    assert status["account"]["locked"] is True
    # The approval reaches the web only: Mastodon has no type for it.
    assert await call(client, "GET", "/api/v1/notifications", fans) == []
    assert await _notifications(db, fan) == [("follow_accepted", owner.id)]
    async with db() as session:
        accepted = await session.scalar(
            text("SELECT id FROM notifications WHERE user_id = :id"), {"id": fan.id}
        )
    await call(client, "GET", f"/api/v1/notifications/{accepted}", fans, status=404)

    # Unfollow withdraws a pending request.
    await call(client, "POST", f"/api/v1/accounts/{owner.id}/follow", others)
    withdrawn = await call(client, "POST", f"/api/v1/accounts/{owner.id}/unfollow", others)
    assert (withdrawn["requested"], withdrawn["following"]) == (False, False)
    assert await _requests_of(db, owner) == set()

    # Scopes: the list needs read:follows, answering write:follows.
    readonly = await token_for(db, owner, "read:accounts")
    await call(client, "GET", "/api/v1/follow_requests", readonly, status=403)
    follows_reader = await token_for(db, owner, "read:follows")
    assert await call(client, "GET", "/api/v1/follow_requests", follows_reader) == []
    await call(
        client, "POST", f"/api/v1/follow_requests/{fan.id}/authorize", follows_reader, status=403
    )
    # Public again: update_credentials locked=false.
    await call(client, "POST", f"/api/v1/accounts/{owner.id}/follow", others)
    unlocked = await call(
        client, "PATCH", "/api/v1/accounts/update_credentials", mine, json={"locked": False}
    )
    assert unlocked["locked"] is False and await _follows(db, other, owner)
    await _counts_hold(db, owner, fan, other)


async def test_approving_and_withdrawing_at_once_leave_one_consistent_outcome(
    client, make_client, factory, login, db
):
    """The owner approves while the requester withdraws, from the pages and the APIs at
    once: whichever lands first, the other finds nothing to do (a 404 for the approval) or
    undoes it (a withdrawal after the approval is an unfollow); never a 5xx, never both a
    follow and a request, and the counters and notifications match what is left."""
    owner = await factory.user()
    await _lock(db, owner)
    owners = await _signed_in(make_client, client, login, owner)
    owner_token = await csrf_for(owners, "/follow-requests")
    seen = [owner]
    for round_number in range(ROUNDS):
        fan = await factory.user()
        seen.append(fan)
        fans = await _signed_in(make_client, client, login, fan)
        fan_token = await csrf_for(fans)
        await submit(fans, f"/@{owner.username}/follow", token=fan_token)
        if round_number % 2:
            approving = owners.post(
                f"/follow-requests/{fan.username}/approve",
                data={"csrf_token": owner_token},
                allow_redirects=False,
            )
            withdrawing = fans.post(
                f"/@{owner.username}/unfollow",
                data={"csrf_token": fan_token},
                allow_redirects=False,
            )
        else:
            approving = owners.post(
                f"/api/v1/follow_requests/{fan.id}/authorize",
                headers={"X-CSRF-Token": owner_token},
            )
            withdrawing = fans.delete(
                f"/api/snapline/v1/users/{owner.username}/follow",
                headers={"X-CSRF-Token": fan_token},
            )
        approved, withdrawn = await asyncio.gather(approving, withdrawing)
        assert approved.status in {200, 303, 404}, await approved.text()
        assert withdrawn.status in {200, 303}, await withdrawn.text()
        following = await _follows(db, fan, owner)
        assert await _requests_of(db, owner) == set()
        # The withdrawal always lands (before the approval, or after it as an unfollow).
        assert not following
        owner_notes = [n for n in await _notifications(db, owner) if n[1] == fan.id]
        assert owner_notes == []
        assert await _notifications(db, fan) in ([], [("follow_accepted", owner.id)])
    await _counts_hold(db, *seen)


async def test_requests_racing_the_switch_to_public_are_all_answered(
    client, make_client, factory, login, db
):
    """People ask while the owner makes the account public: each request either lands
    before (and is approved with the others) or finds the account public (a follow); none
    is left pending on a public account."""
    for _ in range(ROUNDS // 2):
        owner = await factory.user()
        await _lock(db, owner)
        owners = await _signed_in(make_client, client, login, owner)
        owner_token = await csrf_for(owners, "/settings/profile")
        fans = [await factory.user() for _ in range(4)]
        clients = [await _signed_in(make_client, client, login, fan) for fan in fans]
        tokens = [await csrf_for(c) for c in clients]
        answers = await asyncio.gather(
            owners.post(
                "/settings/profile",
                data={"csrf_token": owner_token, "display_name": ""},
                allow_redirects=False,
            ),
            *(
                c.post(
                    f"/@{owner.username}/follow",
                    data={"csrf_token": token},
                    allow_redirects=False,
                )
                for c, token in zip(clients, tokens, strict=True)
            ),
        )
        assert [a.status for a in answers] == [303] * 5
        assert await _requests_of(db, owner) == set()
        for fan in fans:
            assert await _follows(db, fan, owner)
        await _counts_hold(db, owner, *fans)
