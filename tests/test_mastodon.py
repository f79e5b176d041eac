"""The Mastodon client API as Mastodon apps use it: the real Mastodon.py library against the
app on a real port, and an aiohttp client for what needs a signed-in user (the session
cookie here; bearer tokens set the same user). Status ids follow the timelines' order, so
paging by the last status's id never skips or repeats a post."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient
from mastodon import Mastodon
from sqlalchemy import text

from service.domain import accounts
from tests.test_uploads import photo_post, release

MASTODON_PY_TIMEOUT_SECONDS = 60.0
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

Result = TypeVar("Result")


async def in_thread(call: Callable[[], Result]) -> Result:
    """Mastodon.py is synchronous: it runs on a thread while the loop serves it."""
    return await asyncio.wait_for(asyncio.to_thread(call), MASTODON_PY_TIMEOUT_SECONDS)


def mastodon_for(client: TestClient) -> Mastodon:
    return Mastodon(api_base_url=str(client.make_url("")).rstrip("/"), request_timeout=30)


async def get_json(client: TestClient, path: str, status: int = 200, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status == status, (path, response.status, await response.text())
    assert response.content_type == "application/json"
    return await response.json()


def by(author, statuses: list[dict]) -> list[dict]:
    return [status for status in statuses if status["account"]["id"] == str(author.id)]


async def walk(client: TestClient, path: str, limit: int, **params: Any) -> list[dict]:
    """Every status of a list, page after page by the last status's id, as apps page."""
    seen: list[dict] = []
    max_id = None
    while True:
        query = {"limit": str(limit), **params}
        if max_id is not None:
            query["max_id"] = max_id
        page = await get_json(client, path, **query)
        if not page:
            return seen
        seen.extend(page)
        max_id = page[-1]["id"]


def ids_of(statuses: list[dict]) -> list[str]:
    return [status["id"] for status in statuses]


async def status_id_of(db, post_id: int) -> str:
    async with db() as session:
        found = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": post_id}
        )
    assert found is not None, "the post is not published"
    return str(found)


async def test_status_ids_follow_publication_so_paging_by_max_id_never_skips_or_repeats(
    client, factory, db, tmp_path
):
    """A photo post made first but published last takes an id above every post published
    before it: a reader who paged before it was published finds it as a new status above
    what they hold (``min_id``), and paging down by ``max_id`` skips and repeats nothing."""
    author = await factory.user()
    late = await photo_post(db, author.id, tmp_path, body="made first", held=True)
    early = [await factory.post(author, f"post {n}") for n in range(7)]

    before = by(author, await walk(client, "/api/v1/timelines/public", limit=3))
    assert ids_of(before) == [await status_id_of(db, post) for post in reversed(early)]
    newest_held = before[0]["id"]

    await release(db, late)
    late_id = await status_id_of(db, late)
    assert int(late_id) > max(int(i) for i in ids_of(before))
    newer = await get_json(client, "/api/v1/timelines/public", min_id=newest_held, limit="3")
    assert ids_of(by(author, newer)) == [late_id]
    assert newer[0]["content"] == "<p>made first</p>"

    public = await walk(client, "/api/v1/timelines/public", limit=2)
    assert ids_of(by(author, public)) == [late_id, *ids_of(before)]
    assert [int(i) for i in ids_of(public)] == sorted(
        (int(i) for i in ids_of(public)), reverse=True
    )
    assert len(set(ids_of(public))) == len(public)


async def test_mastodon_py_reads_the_instance_and_pages_the_public_timeline(client, factory):
    author = await factory.user()
    made = [await factory.post(author, f"number {n}") for n in range(200)]
    api = mastodon_for(client)

    instance = await in_thread(api.instance)
    assert instance.version.startswith("4.3.0 (compatible; Snapline ")
    assert instance.configuration.statuses.max_characters == 2000
    assert instance.configuration.statuses.max_media_attachments == 4
    assert "image/webp" in instance.configuration.media_attachments.supported_mime_types

    def page_everything() -> list:
        page = api.timeline_public(limit=40)
        statuses = list(page)
        while page:
            page = api.timeline_public(max_id=page[-1].id, limit=40)
            statuses.extend(page)
        return statuses

    statuses = await in_thread(page_everything)
    ours = [status for status in statuses if status.account.username == author.username]
    assert [status.content for status in ours] == [
        f"<p>number {n}</p>" for n in reversed(range(len(made)))
    ]
    assert len({status.id for status in statuses}) == len(statuses)

    def follow_links() -> list:
        page = api.timeline_public(limit=40)
        statuses = list(page)
        while (page := api.fetch_next(page)) is not None and len(page):
            statuses.extend(page)
        return statuses

    linked = await in_thread(follow_links)
    assert [status.id for status in linked] == [status.id for status in statuses]


async def test_instance_and_nodeinfo_describe_the_service(client, factory):
    await factory.user()
    v1 = await get_json(client, "/api/v1/instance")
    v2 = await get_json(client, "/api/v2/instance")
    for instance in (v1, v2):
        assert re.fullmatch(r"4\.3\.0 \(compatible; Snapline \d+\.\d+\S*\)", instance["version"])
        limits = instance["configuration"]["media_attachments"]
        assert limits["image_size_limit"] == 20 * 1024 * 1024
        assert set(limits["supported_mime_types"]) == {
            "image/jpeg", "image/png", "image/webp", "image/gif",
        }  # fmt: skip
    assert v1["uri"] == v2["domain"] == "snapline.test"
    assert v1["stats"]["user_count"] >= 1
    assert v2["configuration"]["statuses"]["max_characters"] == 2000

    discovery = await get_json(client, "/.well-known/nodeinfo")
    [link] = discovery["links"]
    assert link["href"] == "http://snapline.test/nodeinfo/2.0"
    nodeinfo = await get_json(client, "/nodeinfo/2.0")
    assert nodeinfo["version"] == "2.0" and nodeinfo["software"]["name"] == "snapline"
    assert nodeinfo["usage"]["users"]["total"] >= 1


async def test_a_status_has_mastodons_shape(client, factory, db, tmp_path):
    author = await factory.user()
    body = "Look <b>here</b> & https://example.com/a?b=1\nsecond line\n\nnext paragraph"
    text_post = await factory.post(author, body)
    photo = await photo_post(db, author.id, tmp_path, body="", alts=("A red square",))

    [with_photo, with_text] = by(author, await get_json(client, "/api/v1/timelines/public"))
    assert with_text["id"] == await status_id_of(db, text_post)
    assert with_text["content"] == (
        '<p>Look &lt;b&gt;here&lt;/b&gt; &amp; <a href="https://example.com/a?b=1"'
        ' rel="nofollow noopener noreferrer" target="_blank">https://example.com/a?b=1</a>'
        "<br>second line</p><p>next paragraph</p>"
    )
    assert ISO_MILLIS.match(with_text["created_at"])
    assert with_text["visibility"] == "public"
    assert with_text["url"] == f"http://snapline.test/p/{text_post}"
    assert with_text["emojis"] == [] and with_text["media_attachments"] == []
    account = with_text["account"]
    assert account["id"] == str(author.id) and account["acct"] == author.username
    assert account["url"] == f"http://snapline.test/@{author.username}"
    assert account["avatar"].startswith("http://snapline.test/")
    assert account["header"].startswith("http://snapline.test/")
    assert account["fields"] == [] and account["emojis"] == []
    assert ISO_MILLIS.match(account["created_at"])

    assert with_photo["id"] == await status_id_of(db, photo)
    [media] = with_photo["media_attachments"]
    assert media["type"] == "image" and media["description"] == "A red square"
    # Computed when the photo was processed: a BlurHash of 4 x 3 components.
    assert isinstance(media["blurhash"], str) and len(media["blurhash"]) == 4 + 2 * 4 * 3
    # The 400x300 camera picture, turned upright by its EXIF orientation.
    assert media["meta"]["original"] == {
        "width": 300, "height": 400, "size": "300x400", "aspect": 300 / 400,
    }  # fmt: skip
    assert media["meta"]["small"]["size"] == "320x320"
    for url in (media["url"], media["preview_url"]):
        assert url.startswith("http://snapline.test/media/")
        served = await client.get(url.removeprefix("http://snapline.test"))
        assert served.status == 200


async def test_home_timeline_needs_a_user_and_pages_by_id(client, factory, login):
    anonymous = await get_json(client, "/api/v1/timelines/home", status=401)
    assert set(anonymous) == {"error"} and isinstance(anonymous["error"], str)

    reader, followed, stranger = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(reader, followed)
    mine = await factory.post(reader, "mine")
    theirs = [await factory.post(followed, f"theirs {n}") for n in range(5)]
    await factory.post(stranger, "not followed")
    await login(client, reader)

    home = await walk(client, "/api/v1/timelines/home", limit=2)
    assert [s["content"] for s in home] == [
        *(f"<p>theirs {n}</p>" for n in reversed(range(len(theirs)))),
        "<p>mine</p>",
    ]
    assert mine
    first = await client.get("/api/v1/timelines/home", params={"limit": "2"})
    link = first.headers["Link"]
    page = await first.json()
    assert f"max_id={page[-1]['id']}" in link and 'rel="next"' in link
    assert f"min_id={page[0]['id']}" in link and 'rel="prev"' in link
    assert link.startswith("<http://snapline.test/api/v1/timelines/home?")
    since = await get_json(client, "/api/v1/timelines/home", since_id=page[1]["id"])
    assert ids_of(since) == [page[0]["id"]]


@pytest.mark.parametrize(
    "query",
    [{"max_id": "abc"}, {"since_id": "-1"}, {"min_id": "1e5"}, {"limit": "many"}],
)
async def test_bad_paging_parameters_are_mastodon_errors(client, query):
    answer = await get_json(client, "/api/v1/timelines/public", status=422, **query)
    assert set(answer) == {"error"}


async def test_limits_are_clamped_as_mastodon_does(client, factory):
    author = await factory.user()
    for n in range(3):
        await factory.post(author, f"p{n}")
    assert len(await get_json(client, "/api/v1/timelines/public", limit="0")) == 1
    assert len(await get_json(client, "/api/v1/timelines/public", limit="500")) <= 40
    assert await get_json(client, "/api/v1/timelines/public", remote="true") == []


async def test_suspended_authors_and_unpublished_posts_are_not_statuses(
    client, factory, login, db, tmp_path
):
    reader, suspended, author = await factory.user(), await factory.user(), await factory.user()
    await factory.follow(reader, suspended)
    await factory.follow(reader, author)
    hidden = await factory.post(suspended, "from a suspended account")
    held = await photo_post(db, author.id, tmp_path, body="still processing", held=True)
    shown = await factory.post(author, "shown")
    async with db.begin() as session:
        await accounts.suspend(session, suspended.id)
    await login(client, reader)

    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public"):
        contents = [s["content"] for s in await walk(client, path, limit=40)]
        assert "<p>shown</p>" in contents
        assert "<p>from a suspended account</p>" not in contents
        assert "<p>still processing</p>" not in contents
    assert hidden and held and shown
    await release(db, held)  # leaves no upload waiting for the tests after this one


async def comment_status_id(db, comment_id: int) -> str:
    async with db() as session:
        found = await session.scalar(
            text("SELECT status_id FROM comments WHERE id = :id"), {"id": comment_id}
        )
    return str(found)


async def test_mastodon_py_reads_accounts_statuses_and_their_context(client, factory, db):
    author, commenter = await factory.user(), await factory.user()
    posts = [await factory.post(author, f"post {n}") for n in range(3)]
    first_comment = await factory.comment(commenter, posts[-1], "first!")
    await factory.comment(author, posts[-1], "thanks")
    await factory.like(commenter, posts[-1])
    api = mastodon_for(client)

    found = await in_thread(lambda: api.account_lookup(author.username))
    assert found.id == author.id or str(found.id) == str(author.id)
    assert found.acct == author.username and found.statuses_count == 3
    account = await in_thread(lambda: api.account(found.id))
    assert account.username == author.username

    statuses = await in_thread(lambda: api.account_statuses(found.id, limit=2))
    assert [s.content for s in statuses] == ["<p>post 2</p>", "<p>post 1</p>"]
    older = await in_thread(lambda: api.fetch_next(statuses))
    assert [s.content for s in older] == ["<p>post 0</p>"]

    newest = statuses[0]
    assert str(newest.id) == await status_id_of(db, posts[-1])
    status = await in_thread(lambda: api.status(newest.id))
    assert status.replies_count == 2 and status.favourites_count == 1

    context = await in_thread(lambda: api.status_context(newest.id))
    assert context.ancestors == []
    assert [reply.content for reply in context.descendants] == ["<p>first!</p>", "<p>thanks</p>"]
    first = context.descendants[0]
    assert str(first.id) == await comment_status_id(db, first_comment)
    assert str(first.in_reply_to_id) == str(newest.id)
    assert str(first.in_reply_to_account_id) == str(author.id)
    assert first.account.username == commenter.username
    # A comment is a status of its own, whose ancestor is its post.
    reply = await in_thread(lambda: api.status(first.id))
    assert reply.content == "<p>first!</p>"
    replied = await in_thread(lambda: api.status_context(first.id))
    assert [s.id for s in replied.ancestors] == [newest.id] and replied.descendants == []

    likers = await in_thread(lambda: api.status_favourited_by(newest.id))
    assert [liker.username for liker in likers] == [commenter.username]


async def test_post_and_comment_ids_never_clash(client, factory, db):
    author = await factory.user()
    post = await factory.post(author)
    comment = await factory.comment(author, post)
    post_id, comment_id = await status_id_of(db, post), await comment_status_id(db, comment)
    assert int(post_id) % 2 == 0 and int(comment_id) % 2 == 1
    assert (await get_json(client, f"/api/v1/statuses/{post_id}"))["in_reply_to_id"] is None
    answer = await get_json(client, f"/api/v1/statuses/{comment_id}")
    assert answer["in_reply_to_id"] == post_id
    assert await get_json(client, f"/api/v1/statuses/{comment_id}/favourited_by") == []


async def test_account_lists_filters_and_lookups(client, factory, db, tmp_path):
    author, fan, other = await factory.user(), await factory.user(), await factory.user()
    await factory.post(author, "words only")
    await photo_post(db, author.id, tmp_path, body="with a photo")
    await factory.follow(fan, author)
    await factory.follow(other, author)
    await factory.follow(author, fan)

    media = await get_json(client, f"/api/v1/accounts/{author.id}/statuses", only_media="true")
    assert [s["content"] for s in media] == ["<p>with a photo</p>"]
    both = await get_json(client, f"/api/v1/accounts/{author.id}/statuses", exclude_replies="true")
    assert len(both) == 2
    pinned = await get_json(client, f"/api/v1/accounts/{author.id}/statuses", pinned="true")
    assert pinned == []

    response = await client.get(f"/api/v1/accounts/{author.id}/followers", params={"limit": "1"})
    [newest] = await response.json()
    assert newest["username"] == other.username
    next_url = re.search(r"<([^>]+)>; rel=\"next\"", response.headers["Link"]).group(1)
    rest = await client.get(next_url.removeprefix("http://snapline.test"))
    assert [a["username"] for a in await rest.json()] == [fan.username]
    following = await get_json(client, f"/api/v1/accounts/{author.id}/following")
    assert [a["username"] for a in following] == [fan.username]

    for acct in (author.username, f"@{author.username}", f"{author.username}@snapline.test"):
        found = await get_json(client, "/api/v1/accounts/lookup", acct=acct)
        assert found["id"] == str(author.id)
    for acct in (f"{author.username}@elsewhere.example", "no_such_user", "", "a b"):
        assert await get_json(client, "/api/v1/accounts/lookup", status=404, acct=acct) == {
            "error": "Record not found"
        }
    for path in ("/api/v1/accounts/999999999", "/api/v1/accounts/x", "/api/v1/statuses/2"):
        assert await get_json(client, path, status=404) == {"error": "Record not found"}
    bad = await get_json(client, f"/api/v1/accounts/{author.id}/followers", 422, max_id="?")
    assert set(bad) == {"error"}


async def test_signed_in_user_sees_their_credentials_and_relationships(client, factory, login):
    assert (await get_json(client, "/api/v1/accounts/verify_credentials", status=401)).keys() == {
        "error"
    }
    me, followed, follower, stranger = [await factory.user() for _ in range(4)]
    await factory.follow(me, followed)
    await factory.follow(follower, me)
    await login(client, me)

    own = await get_json(client, "/api/v1/accounts/verify_credentials")
    assert own["id"] == str(me.id) and own["source"]["privacy"] == "public"
    assert own["following_count"] == 1 and own["followers_count"] == 1

    asked = [followed.id, follower.id, stranger.id, 999999999]
    answer = await client.get(
        "/api/v1/accounts/relationships", params=[("id[]", str(i)) for i in asked]
    )
    relationships = {r["id"]: r for r in await answer.json()}
    assert set(relationships) == {str(followed.id), str(follower.id), str(stranger.id)}
    assert relationships[str(followed.id)]["following"] is True
    assert relationships[str(followed.id)]["followed_by"] is False
    assert relationships[str(follower.id)]["followed_by"] is True
    assert relationships[str(stranger.id)]["following"] is False


async def test_a_post_one_may_not_see_is_not_found(client, factory, login, db, tmp_path):
    author, reader = await factory.user(), await factory.user()
    held = await photo_post(db, author.id, tmp_path, body="processing", held=True)
    comment = await factory.comment(author, await factory.post(author, "shown"))
    comment_id = await comment_status_id(db, comment)
    async with db.begin() as session:
        await session.execute(
            text("UPDATE posts SET status_id = 4 * id WHERE id = :id"), {"id": held}
        )
        held_id = await session.scalar(
            text("SELECT status_id FROM posts WHERE id = :id"), {"id": held}
        )
        await accounts.suspend(session, author.id)
    await login(client, reader)
    for status_id in (held_id, comment_id):
        for suffix in ("", "/context", "/favourited_by"):
            answer = await get_json(client, f"/api/v1/statuses/{status_id}{suffix}", status=404)
            assert answer == {"error": "Record not found"}
    await get_json(client, f"/api/v1/accounts/{author.id}", status=404)
    await get_json(client, f"/api/v1/accounts/{author.id}/statuses", status=404)
    await release(db, held)  # leaves no upload waiting for the tests after this one


SIGNED_IN_STARTUP = {
    "/api/v1/preferences": {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    },
    "/api/v1/markers": {},
    "/api/v1/filters": [],
    "/api/v2/filters": [],
    "/api/v1/lists": [],
    "/api/v1/announcements": [],
    "/api/v1/followed_tags": [],
}
PUBLIC_STARTUP = ("/api/v1/custom_emojis", "/api/v1/trends/links")
# Real lists, of what trends (tests/test_trending.py).
PUBLIC_LISTS = ("/api/v1/trends/tags", "/api/v1/trends/statuses")


async def test_what_apps_ask_for_at_start_has_valid_empty_answers(client, factory, login):
    for path in SIGNED_IN_STARTUP:
        assert set(await get_json(client, path, status=401)) == {"error"}, path
    for path in PUBLIC_STARTUP:
        assert await get_json(client, path) == [], path
    for path in PUBLIC_LISTS:
        assert isinstance(await get_json(client, path), list), path
    await login(client, await factory.user())
    for path, answer in SIGNED_IN_STARTUP.items():
        assert await get_json(client, path) == answer, path

    api = mastodon_for(client)
    assert list(await in_thread(api.custom_emojis)) == []
    assert isinstance(await in_thread(api.trending_tags), list)
