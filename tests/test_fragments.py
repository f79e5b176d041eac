"""Fragments: what the pages' script inserts is rendered by the server, with the same
templates and card functions as the page, under the same visibility, headers and CSP;
bad cursors and ids are a clear 4xx."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from service.web.headers import CONTENT_SECURITY_POLICY
from tests.support import csrf_for, untimed
from tests.test_uploads import photo_post, release

FRAGMENT = {"X-Snapline-Fragment": "1"}
LISTS = {
    "posts": '<ol class="feed"',
    "comments": '<ol class="comment-list"',
    "people": '<ol class="people"',
}


def page_list(html: str, kind: str) -> str:
    """The items of a page's list of ``kind``, as the page has them."""
    match = re.search(re.escape(LISTS[kind]) + r"[^>]*>(.*?)</ol>", html, re.S)
    assert match, f"no list of {kind}"
    return untimed(match.group(1).strip())


def next_link(html: str) -> str | None:
    """The cursor of the page's "Older posts" / "More" link."""
    match = re.search(
        r'class="button button-secondary load-more" href="\?(?:[^"#]*&amp;)?cursor=([^"#&]+)', html
    )
    return match.group(1) if match else None


async def fragment(client: TestClient, path: str, kind: str) -> tuple[str, str | None]:
    """A list fragment's items and the cursor of the page after them; checks it is a
    fragment (no page around it) with a page's headers."""
    response = await client.get(path, headers=FRAGMENT)
    html = await response.text()
    assert response.status == 200, html
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "X-Snapline-Fragment" in response.headers["Vary"]
    match = re.fullmatch(
        r'<ol data-fragment="(\w+)"(?: data-next-cursor="([^"]+)")?>(.*)</ol>\s*', html, re.S
    )
    assert match, html[:300]
    assert match.group(1) == kind
    assert "<script" not in html and "<html" not in html
    return untimed(match.group(3).strip()), match.group(2)


def card(html: str, post_id: int) -> str:
    """One post's card."""
    match = re.search(rf'<article class="post[^"]*" id="post-{post_id}".*?</article>', html, re.S)
    assert match, f"no card of post {post_id}"
    return untimed(match.group(0))


async def test_every_list_answers_its_pages_as_fragments_of_the_same_markup(client, factory, login):
    author, reader = await factory.user(), await factory.user()
    commented = await factory.post(author, "a post with many comments")
    for n in range(22):
        await factory.comment(reader if n % 2 else author, commented, f"comment {n}")
    for n in range(22):
        await factory.post(author, f"fragment post {n}")
    await factory.follow(reader, author)
    for _ in range(21):
        await factory.follow(await factory.user(), author)
    await factory.like(reader, commented)
    await login(client, reader)

    lists = {
        "/": "posts",
        "/explore?sort=latest": "posts",
        f"/@{author.username}": "posts",
        f"/@{author.username}/followers": "people",
        f"/p/{commented}": "comments",
    }
    for path, kind in lists.items():
        first = await (await client.get(path)).text()
        cursor = next_link(first)
        assert cursor, f"{path} has one page only"
        # The first page too: the fragment of a URL is that page's list.
        items, first_next = await fragment(client, path, kind)
        assert items == page_list(first, kind) and first_next == cursor, path
        # "Load more" asks for the URL of the "Older posts" link (explore holds every
        # test's posts: three pages of it are enough).
        for _ in range(3):
            if not cursor:
                break
            url = f"{path}{'&' if '?' in path else '?'}cursor={cursor}"
            response = await client.get(url)
            assert "X-Snapline-Fragment" in response.headers["Vary"]
            page = await response.text()
            items, cursor = await fragment(client, url, kind)
            assert items and items == page_list(page, kind), url
            assert cursor == next_link(page), url


async def test_a_fragment_carries_the_viewers_forms(client, make_client, factory, login):
    author, reader = await factory.user(), await factory.user()
    post_id = await factory.post(author, "like me")
    await factory.like(reader, post_id)
    await login(client, reader)
    token = await csrf_for(client, "/explore?sort=latest")
    items, _ = await fragment(client, "/explore?sort=latest", "posts")
    shown = card(items, post_id)
    assert f'action="/p/{post_id}/unlike"' in shown and f'value="{token}"' in shown
    assert f"/p/{post_id}/delete" not in shown
    items, _ = await fragment(await make_client(client), "/explore?sort=latest", "posts")
    assert "like-form" not in card(items, post_id)
    anonymous_likes = r'<span class="post-stat"><svg [^>]*>.*?</svg>1 like</span>'
    assert re.search(anonymous_likes, card(items, post_id))


async def test_bad_cursors_and_limits_are_a_400_fragment_not_a_page(client, factory, login):
    author = await factory.user()
    await login(client, author)
    for path in (
        "/?cursor=not-a-cursor",
        "/explore?cursor=%00",
        f"/@{author.username}?cursor=abc",
        f"/@{author.username}/followers?limit=0",
        "/explore?limit=99999999999999999999999",
    ):
        response = await client.get(path, headers=FRAGMENT)
        html = await response.text()
        assert response.status == 400, path
        assert re.fullmatch(r'<p class="problem" data-fragment="problem"[^>]*>[^<]+</p>\s*', html)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        # Without the header the same mistake is the error page.
        plain = await client.get(path)
        assert plain.status == 400 and "<html" in await plain.text()
    for path in ("/@nobody-by-that-name", "/@nobody-by-that-name/followers", "/p/999999999"):
        missing = await client.get(path, headers=FRAGMENT)
        assert missing.status == 404, path
        assert 'data-fragment="problem"' in await missing.text()


def card_ids(items: str) -> list[int]:
    return [
        int(found) for found in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', items)
    ]


async def test_cards_by_id_show_only_what_the_viewer_may_see(
    client, make_client, factory, login, db, tmp_path
):
    author, stranger = await factory.user(), await factory.user()
    older = await factory.post(author, "older")
    processing = await photo_post(db, author.id, tmp_path, "processing", ["A beach"], held=True)
    newer = await factory.post(author, "newer")
    await login(client, stranger)
    author_client = await make_client(client)
    await login(author_client, author)
    anonymous = await make_client(client)

    # Any order in, newest first out, unknown ids left out, each post once.
    ids = f"{older},{processing},999999999,{newer},{older}"
    path = f"/fragments/posts?ids={ids}"
    for viewer in (client, anonymous):
        items, next_cursor = await fragment(viewer, path, "posts")
        assert card_ids(items) == [newer, older] and next_cursor is None
    items, _ = await fragment(client, f"/fragments/posts?ids={processing}", "posts")
    assert items == ""
    # To its author, the processing post is there, as their home page shows it.
    items, _ = await fragment(author_client, path, "posts")
    assert card_ids(items) == [newer, processing, older]
    home = await (await author_client.get("/")).text()
    assert card(items, processing) == card(home, processing)
    assert "Processing photos" in card(items, processing)

    await release(db, processing)
    items, _ = await fragment(client, path, "posts")
    assert card_ids(items) == [processing, newer, older]
    assert 'class="photos photos-1"' in items and 'alt="A beach"' in items


async def test_cards_by_id_refuse_what_are_not_ids(client, factory, login):
    await login(client, await factory.user())
    too_many = ",".join(str(n) for n in range(1, 52))
    for ids in ("", "abc", "1,,2", "0", "-1", "1.5", " 1", "9" * 20, too_many):
        response = await client.get("/fragments/posts", params={"ids": ids}, headers=FRAGMENT)
        assert response.status == 400, ids
        assert 'data-fragment="problem"' in await response.text()
    response = await client.get("/fragments/posts", headers=FRAGMENT)
    assert response.status == 400


async def test_liking_in_place_answers_the_like_button_the_card_shows(client, factory, login):
    author, reader = await factory.user(), await factory.user()
    post_id = await factory.post(author, "like me in place")
    await login(client, reader)
    token = await csrf_for(client, f"/p/{post_id}")

    def like_form(html: str) -> str:
        match = re.search(
            r'<form method="post" action="/p/\d+/(?:un)?like".*?</form>\n', html, re.S
        )
        assert match, html[:300]
        return match.group(0)

    for action, pressed in (("like", "true"), ("unlike", "false")):
        response = await client.post(
            f"/p/{post_id}/{action}", data={"csrf_token": token}, headers=FRAGMENT
        )
        html = await response.text()
        assert response.status == 200, html
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert html.startswith('<div data-fragment="like">')
        assert f'aria-pressed="{pressed}"' in html
        shown = await (await client.get(f"/p/{post_id}")).text()
        assert like_form(html) == like_form(shown)

    response = await client.post("/p/999999999/like", data={"csrf_token": token}, headers=FRAGMENT)
    assert response.status == 404
    assert 'data-fragment="problem"' in await response.text()
    # Without the header, the form comes back to where it was.
    plain = await client.post(
        f"/p/{post_id}/like", data={"csrf_token": token}, allow_redirects=False
    )
    assert plain.status == 303


async def test_a_comment_added_in_place_is_the_comment_the_page_shows(
    client, factory, login, db, tmp_path
):
    author, reader = await factory.user(), await factory.user()
    post_id = await factory.post(author, "comment on me")
    await login(client, reader)
    token = await csrf_for(client, f"/p/{post_id}")

    response = await client.post(
        f"/p/{post_id}/comments",
        data={"csrf_token": token, "body": "  <b>in place</b>  "},
        headers=FRAGMENT,
    )
    html = await response.text()
    assert response.status == 201, html
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    match = re.fullmatch(r'<ol data-fragment="comments">(.*)</ol>\s*', html, re.S)
    assert match and "&lt;b&gt;in place&lt;/b&gt;" in html
    shown = await (await client.get(f"/p/{post_id}")).text()
    assert untimed(match.group(1).strip()) == page_list(shown, "comments")

    # Refused: the reason as a fragment, and nothing added.
    for body, message in (("   ", "Write a comment first."), ("x" * 1001, "at most 1,000")):
        response = await client.post(
            f"/p/{post_id}/comments", data={"csrf_token": token, "body": body}, headers=FRAGMENT
        )
        assert response.status == 422
        assert message in await response.text()
        assert 'data-fragment="problem"' in await response.text()
    bad_token = await client.post(
        f"/p/{post_id}/comments", data={"csrf_token": "wrong", "body": "hi"}, headers=FRAGMENT
    )
    assert bad_token.status == 403
    assert "did not come from this site" in await bad_token.text()
    unseen = await photo_post(db, author.id, tmp_path, "not yet", held=True)
    hidden = await client.post(
        f"/p/{unseen}/comments", data={"csrf_token": token, "body": "hi"}, headers=FRAGMENT
    )
    assert hidden.status == 404
    await release(db, unseen)
    shown = await (await client.get(f"/p/{post_id}")).text()
    assert shown.count('class="comment"') == 1
