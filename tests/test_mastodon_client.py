"""The real Mastodon.py client signs in to Snapline: it registers an app, the person
consents on the page, the client exchanges the code, checks its app, reads Snapline's own
API with its token, and revokes it; then two people signed in that way upload a photo, post
it, reply, favourite, read their notifications and delete, and one streams their home
timeline. The client is synchronous: it runs in a thread, each call bounded in time, against
the app served on a real port."""

from __future__ import annotations

import asyncio
import io
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mastodon import Mastodon, StreamListener

from service.app import create_app
from tests.oauth import OOB, bearer, code_on_page, consent
from tests.test_uploads import camera_jpeg

CALL_TIMEOUT_SECONDS = 20.0
SCOPES = ["read", "write"]


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.wait_for(
        asyncio.to_thread(function, *args, **kwargs), CALL_TIMEOUT_SECONDS
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_mastodon_py_registers_signs_in_reads_and_revokes(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    # The app must know its own address: the OAuth metadata the client reads names it.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served = settings.replace(app={"public_url": base})
    server = await aiohttp_server(create_app(served), port=port)
    browser = await aiohttp_client(server)
    account = await factory.user()
    await factory.post(account, "hello from the timeline")
    api = await signed_in(aiohttp_client, server, base, account, login)
    token = api.access_token

    app = await in_thread(api.app_verify_credentials)
    assert app["name"] == "Snapline test client"
    timeline = await browser.get("/api/snapline/v1/timeline", headers=bearer(token))
    assert timeline.status == 200
    assert (await timeline.json())["items"][0]["body"] == "hello from the timeline"
    # The Mastodon endpoints with the same token, as the app calls them.
    me = await in_thread(api.account_verify_credentials)
    assert me["username"] == account.username and "source" in me
    [status] = await in_thread(api.timeline_home)
    assert status["account"]["id"] == me["id"]
    assert "hello from the timeline" in status["content"]

    await in_thread(api.revoke_access_token, allow_http=True)
    after = await browser.get("/api/snapline/v1/timeline", headers=bearer(token))
    assert after.status == 401
    assert await after.json() == {"error": "The access token is invalid"}


async def signed_in(aiohttp_client, server, base: str, account, login) -> Mastodon:
    """Mastodon.py signed in as ``account``: the app registers, is sent to Snapline's
    consent page, the person consents there in a browser of their own, the client exchanges
    the code."""
    browser = await aiohttp_client(server)
    await login(browser, account)
    client_id, client_secret = await in_thread(
        Mastodon.create_app, "Snapline test client", scopes=SCOPES,
        redirect_uris=OOB, api_base_url=base, request_timeout=10,
    )  # fmt: skip
    api = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=base,
        mastodon_version="4.3.0", request_timeout=10,
    )  # fmt: skip
    url = await in_thread(api.auth_request_url, scopes=SCOPES, allow_http=True)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{base}/oauth/authorize"
    status, _, page = await consent(browser, dict(parse_qsl(parts.query)))
    assert status == 200
    await in_thread(api.log_in, code=code_on_page(page), scopes=SCOPES, allow_http=True)
    return api


async def test_mastodon_py_posts_replies_favourites_and_deletes(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    author, friend = await factory.user(), await factory.user()
    api = await signed_in(aiohttp_client, server, base, author, login)
    friend_api = await signed_in(aiohttp_client, server, base, friend, login)

    # Mastodon.py forgets the version it was given when it logs in; it asks the server
    # (the instance's version string) before choosing /api/v2/media over /api/v1/media.
    assert await in_thread(api.retrieve_mastodon_version, fail_hard=True) == "4.3.0"
    uploaded = await in_thread(
        api.media_post, io.BytesIO(camera_jpeg(1200, 900, 1)), mime_type="image/jpeg",
        description="the river at dusk",
    )  # fmt: skip
    assert uploaded["url"] is None  # 202: still processed
    ready = await in_thread(api.media, uploaded["id"])
    for _ in range(200):
        if ready["url"] is not None:
            break
        await asyncio.sleep(0.05)
        ready = await in_thread(api.media, uploaded["id"])
    assert ready["url"].endswith("/display.jpg") and ready["meta"]["original"]["width"] == 1080

    posted = await in_thread(api.status_post, "a walk by the river", media_ids=[ready["id"]])
    assert "a walk by the river" in posted["content"]
    [attached] = posted["media_attachments"]
    assert attached["id"] == ready["id"] and attached["description"] == "the river at dusk"
    favourited = await in_thread(friend_api.status_favourite, posted["id"])
    assert favourited["favourited"] is True and favourited["favourites_count"] == 1
    reply = await in_thread(friend_api.status_post, "lovely light", in_reply_to_id=posted["id"])
    assert reply["in_reply_to_id"] == posted["id"]
    context = await in_thread(api.status_context, posted["id"])
    assert [status["id"] for status in context["descendants"]] == [reply["id"]]
    assert str(context["descendants"][0]["account"]["id"]) == str(friend.id)

    notified = await in_thread(api.notifications)
    assert [(n["type"], n["status"]["id"]) for n in notified] == [
        ("mention", reply["id"]),
        ("favourite", posted["id"]),
    ]
    assert all(str(n["account"]["id"]) == str(friend.id) for n in notified)

    deleted = await in_thread(api.status_delete, posted["id"])
    assert deleted["id"] == posted["id"]
    home = await in_thread(friend_api.timeline_home)
    assert posted["id"] not in [status["id"] for status in home]


async def test_mastodon_py_reads_hashtags_mentions_and_their_notifications(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    author, friend = await factory.user(), await factory.user()
    api = await signed_in(aiohttp_client, server, base, author, login)
    friend_api = await signed_in(aiohttp_client, server, base, friend, login)
    tag = factory.unique("Coffee")  # unique across the test session's posts
    name = tag.lower()

    posted = await in_thread(api.status_post, f"Morning #{tag} with @{friend.username} #咖啡")
    assert posted["tags"] == [
        {"name": name, "url": f"{base}/tags/{name}"},
        {"name": "咖啡", "url": f"{base}/tags/%E5%92%96%E5%95%A1"},
    ]
    assert [(m["id"], m["username"], m["acct"], m["url"]) for m in posted["mentions"]] == [
        (str(friend.id), friend.username, friend.username, f"{base}/@{friend.username}")
    ]
    assert (
        f'<a href="{base}/tags/{name}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'
        in posted["content"]
    )
    assert f'<a href="{base}/@{friend.username}" class="u-url mention">' in posted["content"]
    more = [await in_thread(api.status_post, f"cup {n} #{name}") for n in range(3)]

    # The tag's timeline by any spelling, paged by the Link header as other timelines are.
    first = await in_thread(friend_api.timeline_hashtag, tag.upper(), limit=2)
    assert [s["id"] for s in first] == [more[2]["id"], more[1]["id"]]
    second = await in_thread(friend_api.fetch_next, first)
    assert [s["id"] for s in second] == [more[0]["id"], posted["id"]]
    assert not await in_thread(friend_api.fetch_next, second)
    local = await in_thread(friend_api.timeline_hashtag, name, local=True)
    assert len(local) == 4
    assert await in_thread(friend_api.timeline_hashtag, name, only_media=True) == []
    found = await in_thread(friend_api.tag, tag)
    assert (found["name"], found["url"], found["history"], found["following"]) == (
        name, f"{base}/tags/{name}", [], False,
    )  # fmt: skip

    # A reply that mentions them too: the mention notification carries the reply.
    reply = await in_thread(
        api.status_post, f"@{friend.username} and more", in_reply_to_id=posted["id"]
    )
    assert [m["username"] for m in reply["mentions"]] == [friend.username]
    notified = await in_thread(friend_api.notifications, types=["mention"])
    assert [(n["type"], n["status"]["id"]) for n in notified] == [
        ("mention", reply["id"]),
        ("mention", posted["id"]),
    ]
    assert all(str(n["account"]["id"]) == str(author.id) for n in notified)


class Listener(StreamListener):
    """What the stream told, handed from the client's thread to the test."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.updates: queue.Queue[dict] = queue.Queue()

    def handle_heartbeat(self) -> None:
        self.opened.set()  # the stream's opening comment: it hears every event from here

    def on_update(self, status) -> None:
        self.updates.put(status)


async def test_mastodon_py_streams_the_home_timeline(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    reader, author = await factory.user(), await factory.user()
    await factory.follow(reader, author)
    api = await signed_in(aiohttp_client, server, base, reader, login)

    listener = Listener()
    # The client finds the stream at the instance's streaming URL, then reads it in a
    # thread of its own.
    handle = await in_thread(
        api.stream_user, listener, run_async=True, timeout=CALL_TIMEOUT_SECONDS
    )
    try:
        assert await in_thread(listener.opened.wait, CALL_TIMEOUT_SECONDS)
        await factory.post(author, "streamed to the app")
        status = await in_thread(listener.updates.get, timeout=CALL_TIMEOUT_SECONDS)
        assert "streamed to the app" in status["content"]
        assert str(status["account"]["id"]) == str(author.id)
        [listed] = await in_thread(api.timeline_home)
        assert listed["id"] == status["id"]
    finally:
        # Revoking the token ends the stream on the server; the client's thread then stops.
        await in_thread(api.revoke_access_token, allow_http=True)
        await in_thread(handle._thread.join, CALL_TIMEOUT_SECONDS)
        handle.close()
    assert not handle.is_alive()


async def test_mastodon_py_posts_with_a_visibility_and_reads_it_back(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    """Followers-only ("private") and unlisted statuses from the client: the author reads
    them back as posted, a follower sees the private one, a stranger only the unlisted one,
    and the public timeline neither; "direct" is refused."""
    from mastodon import MastodonAPIError

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    author, fan, stranger = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(fan, author)
    api = await signed_in(aiohttp_client, server, base, author, login)
    fan_api = await signed_in(aiohttp_client, server, base, fan, login)
    stranger_api = await signed_in(aiohttp_client, server, base, stranger, login)

    private = await in_thread(api.status_post, "for my followers", visibility="private")
    unlisted = await in_thread(api.status_post, "off the lists", visibility="unlisted")
    assert (private["visibility"], unlisted["visibility"]) == ("private", "unlisted")
    assert (await in_thread(api.status, private["id"]))["visibility"] == "private"
    assert (await in_thread(fan_api.status, private["id"]))["visibility"] == "private"
    try:
        await in_thread(stranger_api.status, private["id"])
        raise AssertionError("a stranger read a followers-only status")
    except MastodonAPIError as error:
        assert error.args[1] == 404
    shown = await in_thread(stranger_api.account_statuses, author.id)
    assert [status["id"] for status in shown] == [unlisted["id"]]
    public = await in_thread(stranger_api.timeline_public)
    assert {private["id"], unlisted["id"]} & {status["id"] for status in public} == set()
    try:
        await in_thread(api.status_post, "psst", visibility="direct")
        raise AssertionError("a direct message was posted")
    except MastodonAPIError as error:
        assert error.args[1] == 422
    # The default, as the client reads and sets it.
    assert (await in_thread(api.account_verify_credentials))["source"]["privacy"] == "public"
    assert (await in_thread(api.preferences))["posting:default:visibility"] == "public"


async def test_mastodon_py_follows_a_locked_account_through_its_request(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    """A private account made so by the app, followed (asked), listed, authorized and
    rejected as Mastodon.py does it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    owner, fan, other = await factory.user(), await factory.user(), await factory.user()
    owner_api = await signed_in(aiohttp_client, server, base, owner, login)
    fan_api = await signed_in(aiohttp_client, server, base, fan, login)
    other_api = await signed_in(aiohttp_client, server, base, other, login)

    me = await in_thread(owner_api.account_update_credentials, locked=True)
    assert me["locked"] is True
    asked = await in_thread(fan_api.account_follow, owner.id)
    assert (asked["following"], asked["requested"]) == (False, True)
    await in_thread(other_api.account_follow, owner.id)
    [relationship] = await in_thread(fan_api.account_relationships, owner.id)
    assert relationship["requested"] is True and relationship["following"] is False

    pending = await in_thread(owner_api.follow_requests, limit=1)
    assert [account["username"] for account in pending] == [other.username]
    older = await in_thread(owner_api.fetch_next, pending)
    assert [account["username"] for account in older] == [fan.username]
    [notification, _] = await in_thread(owner_api.notifications)
    assert notification["type"] == "follow_request"

    authorized = await in_thread(owner_api.follow_request_authorize, fan.id)
    assert authorized["followed_by"] is True
    rejected = await in_thread(owner_api.follow_request_reject, other.id)
    assert rejected["followed_by"] is False and rejected["requested_by"] is False
    assert await in_thread(owner_api.follow_requests) == []
    [relationship] = await in_thread(fan_api.account_relationships, owner.id)
    assert (relationship["following"], relationship["requested"]) == (True, False)
    [relationship] = await in_thread(other_api.account_relationships, owner.id)
    assert (relationship["following"], relationship["requested"]) == (False, False)


async def test_mastodon_py_follows_tags_and_reads_them_in_home(
    aiohttp_server, aiohttp_client, settings, factory, login
):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    reader, stranger = await factory.user(), await factory.user()
    api = await signed_in(aiohttp_client, server, base, reader, login)
    tea, fresh = factory.unique("Tea"), factory.unique("Fresh")
    await factory.post(stranger, f"green #{tea}")
    await factory.post(stranger, f"unlisted #{tea}", "unlisted")

    assert (await in_thread(api.tag, tea))["following"] is False
    followed = await in_thread(api.tag_follow, tea.upper())
    assert (followed["name"], followed["url"], followed["following"]) == (
        tea.lower(), f"{base}/tags/{tea.lower()}", True,
    )  # fmt: skip
    # A tag nobody has used yet can be followed, as in Mastodon.
    assert (await in_thread(api.tag_follow, fresh))["following"] is True
    assert (await in_thread(api.tag, fresh))["name"] == fresh.lower()
    first = await in_thread(api.followed_tags, limit=1)
    assert [t["name"] for t in first] == [fresh.lower()]
    second = await in_thread(api.fetch_next, first)
    assert [t["name"] for t in second] == [tea.lower()]
    assert not await in_thread(api.fetch_next, second)

    # The followed tag's public post is in home; the unlisted one is not.
    home = await in_thread(api.timeline_home)
    assert [(s["account"]["username"], s["tags"]) for s in home] == [
        (stranger.username, [{"name": tea.lower(), "url": f"{base}/tags/{tea.lower()}"}])
    ]
    assert "green" in home[0]["content"]

    unfollowed = await in_thread(api.tag_unfollow, tea)
    assert unfollowed["following"] is False
    assert [t["name"] for t in await in_thread(api.followed_tags)] == [fresh.lower()]
    assert await in_thread(api.timeline_home) == []
