"""Hashtags and mentions on pages: linked in cards and comments, and a tag's page of posts
with its count, paging, fragments and the one visibility rule (docs/discovery.md)."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import text

from service.discovery import MAX_TAGS_PER_POST
from service.domain import blocks
from service.domain import posts as post_commands
from tests.support import submit
from tests.test_fragments import card, fragment, next_link, page_list


def _ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', html)]


async def test_a_card_links_tags_and_known_mentions_and_escapes_the_rest(client, factory, login):
    author, alice = await factory.user(), await factory.user()
    body = (
        f"<b>bold</b> #Café @{alice.username.upper()} @nobody_here mail@{alice.username}.com"
        " https://example.com/a#frag \u202e#שלום"
    )
    post_id = await factory.post(author, body)
    await login(client, author)
    for path in (f"/p/{post_id}", "/", "/explore?sort=latest"):
        shown = card(await (await client.get(path)).text(), post_id)
        [paragraph] = re.findall(r'<p class="post-body" dir="auto">(.*?)</p>', shown, re.S)
        assert paragraph == (
            "&lt;b&gt;bold&lt;/b&gt; "
            f'<a class="hashtag" href="/tags/{quote("café")}">#Café</a> '
            f'<a class="mention" href="/@{alice.username}">@{alice.username.upper()}</a>'
            f" @nobody_here mail@{alice.username}.com https://example.com/a#frag \u202e"
            f'<a class="hashtag" href="/tags/{quote("שלום")}">#שלום</a>'
        ), path


async def test_a_comment_links_its_tags_and_mentions(client, factory, login):
    author, commenter, mentioned = await factory.user(), await factory.user(), await factory.user()
    post_id = await factory.post(author, "a photo walk")
    await factory.comment(commenter, post_id, f"<i>hi</i> @{mentioned.username} #咖啡 @ghost_x")
    await login(client, author)
    page = await (await client.get(f"/p/{post_id}")).text()
    [shown] = re.findall(r'<p class="comment-body" dir="auto">(.*?)</p>', page, re.S)
    assert shown == (
        f'&lt;i&gt;hi&lt;/i&gt; <a class="mention" href="/@{mentioned.username}">'
        f'@{mentioned.username}</a> <a class="hashtag" href="/tags/{quote("咖啡")}">#咖啡</a>'
        " @ghost_x"
    )


async def test_a_tag_page_lists_its_posts_newest_first_by_any_spelling(client, factory):
    author, n = await factory.user(), factory.unique("")
    first = await factory.post(author, f"first #Café{n}")
    await factory.post(author, f"no tag here: cafe{n}")
    second = await factory.post(author, f"second #CAFE\u0301{n} and #café{n} again")
    third = await factory.post(author, f"third ＃ｃａｆé{n}")
    for spelling in ("café", "CAFÉ", "#Café", "cafe\u0301", "ＣＡＦÉ"):
        path = f"/tags/{quote(spelling + n, safe='')}"
        response = await client.get(path)
        html = await response.text()
        assert response.status == 200, path
        assert _ids(html) == [third, second, first], path
        # The display form is the first one written, and the count is of published posts.
        assert f"<title>#Café{n}" in html
        assert f'<h1 class="section-title" dir="auto">#Café{n}</h1>' in html
        assert '<p class="tag-count">3 posts</p>' in html


async def test_a_tag_never_used_is_empty_and_a_name_that_cannot_be_one_is_404(client):
    never = await client.get("/tags/neverused")
    html = await never.text()
    assert never.status == 200
    assert "#neverused" in html and "No posts with this hashtag yet." in html
    assert '<p class="tag-count">0 posts</p>' in html
    for bad in ("12", "a%20b", "a.b", "%3Cb%3E", "a" * 101, "%CC%81a"):
        response = await client.get(f"/tags/{bad}")
        assert response.status == 404, bad
        assert "There is no such hashtag." in await response.text()


async def test_paging_a_tag_keeps_its_place_while_posts_arrive(client, factory):
    author, tag = await factory.user(), factory.unique("paged")
    made = [await factory.post(author, f"post {n} #{tag}") for n in range(5)]
    first = await (await client.get(f"/tags/{tag}?limit=2")).text()
    assert _ids(first) == [made[4], made[3]]
    cursor = next_link(first)
    newer = await factory.post(author, f"arrived meanwhile #{tag}")
    second = await (await client.get(f"/tags/{tag}?limit=2&cursor={cursor}")).text()
    assert _ids(second) == [made[2], made[1]]
    # The fragment of the same page holds the same cards, and the same next cursor.
    items, after = await fragment(client, f"/tags/{tag}?limit=2&cursor={cursor}", "posts")
    assert items == page_list(second, "posts") and after == next_link(second)
    last = await (await client.get(f"/tags/{tag}?limit=2&cursor={after}")).text()
    assert _ids(last) == [made[0]] and next_link(last) is None
    again = await (await client.get(f"/tags/{tag}?limit=2")).text()
    assert _ids(again)[0] == newer
    assert (await client.get(f"/tags/{tag}?cursor=nonsense")).status == 400


async def test_a_tag_page_hides_what_the_rule_hides_and_deleting_a_post_drops_it(
    client, make_client, factory, login, db
):
    viewer, blocker, muted, friend = [await factory.user() for _ in range(4)]
    tag = factory.unique("rule")
    hidden_by_block = await factory.post(blocker, f"blocked words #{tag}")
    hidden_by_mute = await factory.post(muted, f"muted words #{tag}")
    shown = await factory.post(friend, f"shown words #{tag}")
    async with db.begin() as session:
        await blocks.block(session, blocker.id, viewer.id)
        await blocks.mute(session, viewer.id, muted.id)
    await login(client, viewer)
    html = await (await client.get(f"/tags/{tag}")).text()
    assert _ids(html) == [shown]
    assert "blocked words" not in html and "muted words" not in html
    # The count is the tag's published posts, whoever looks.
    assert '<p class="tag-count">3 posts</p>' in html
    async with db.begin() as session:
        await post_commands.delete_post(session, hidden_by_mute)
        count = await session.scalar(
            text("SELECT post_count FROM tags WHERE name = :tag"), {"tag": tag}
        )
        left = await session.scalar(
            text("SELECT count(*) FROM post_tags WHERE post_id = :id"), {"id": hidden_by_mute}
        )
    assert count == 2 and left == 0
    anonymous = await make_client(client)
    signed_out = await (await anonymous.get(f"/tags/{tag}")).text()
    assert set(_ids(signed_out)) >= {shown, hidden_by_block}


async def test_too_many_hashtags_are_refused(client, factory, login):
    author = await factory.user()
    await login(client, author)
    body = " ".join(f"#t{n}" for n in range(MAX_TAGS_PER_POST + 1))
    response = await submit(client, "/posts", {"body": body})
    assert response.status == 422
    assert f"Use at most {MAX_TAGS_PER_POST} hashtags (this has 31)." in await response.text()
    tag = factory.unique("t")
    # Written again and again, a tag counts once (at 50 times the body stays within its
    # length whatever the unique name's length).
    fine = " ".join(f"#{tag}x{n}" for n in range(MAX_TAGS_PER_POST)) + f" #{tag}x0" * 50
    assert (await submit(client, "/posts", {"body": fine})).status == 303
    html = await (await client.get(f"/tags/{tag}x29")).text()
    assert '<p class="tag-count">1 post</p>' in html


async def test_the_api_lists_a_tags_posts_as_its_page_does(client, factory):
    author, tag = await factory.user(), factory.unique("Api")
    made = [await factory.post(author, f"post {n} #{tag}") for n in range(3)]
    first = await (await client.get(f"/api/snapline/v1/tags/{tag.upper()}/posts?limit=2")).json()
    assert [post["id"] for post in first["items"]] == [made[2], made[1]]
    assert first["items"][0]["tags"] == [{"name": tag.lower(), "url": f"/tags/{tag.lower()}"}]
    rest = await (
        await client.get(f"/api/snapline/v1/tags/{tag}/posts?cursor={first['next_cursor']}")
    ).json()
    assert [post["id"] for post in rest["items"]] == [made[0]] and rest["next_cursor"] is None
    never = await client.get("/api/snapline/v1/tags/nothing_tagged_yet/posts")
    assert never.status == 200 and (await never.json())["items"] == []
    bad = await client.get("/api/snapline/v1/tags/a.b/posts")
    assert bad.status == 404
