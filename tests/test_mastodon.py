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
    assert media["blurhash"] is None
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
