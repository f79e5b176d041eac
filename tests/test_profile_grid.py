"""A profile's photos as a grid: a tile per post with photos (its first photo, marked when it
holds more), text posts left out, a "Photos" and a "Posts" tab as links, paging like the
feed, and nothing of a person the viewer blocked or muted, or who blocked the viewer."""

from __future__ import annotations

import html
import re
from pathlib import Path

from sqlalchemy import text

from service.domain import blocks
from tests.support import submit, untimed
from tests.test_uploads import photo_post

FRAGMENT = {"X-Snapline-Fragment": "1"}
TILE = re.compile(r'<li><a class="tile" id="tile-(\d+)" href="([^"]+)">(.*?)</a></li>', re.S)
GRID = re.compile(r'<ol class="photo-grid"[^>]*>(.*?)</ol>', re.S)
MORE_PHOTOS = re.compile(r'class="button button-secondary load-more" href="([^"]+)">More photos')


def tiles(page: str) -> list[tuple[int, str, str]]:
    """Each tile of a page or fragment: its post id, its link and its insides."""
    return [(int(post_id), href, inside) for post_id, href, inside in TILE.findall(page)]


def grid_items(page: str) -> str:
    match = GRID.search(page)
    assert match, "no grid on the page"
    return untimed(match.group(1).strip())


def current_tab(page: str) -> str:
    [tab] = re.findall(r'<a href="[^"]*\?tab=(\w+)" aria-current="page">', page)
    return tab


async def test_a_profile_shows_its_photo_posts_as_a_grid_of_square_tiles(
    client, factory, login, db, tmp_path: Path
) -> None:
    author = await factory.user()
    single = await photo_post(db, author.id, tmp_path, "A day out", ["A beach at noon"])
    text_post = await factory.post(author, "Words alone, never a tile")
    album = await photo_post(db, author.id, tmp_path, "", ["Sand", "Sea <&> sky", "Dunes"])
    untitled = await photo_post(db, author.id, tmp_path, "Caption <b>as typed</b>", [""])
    await login(client, await factory.user())

    response = await client.get(f"/@{author.username}")
    assert response.status == 200
    page = await response.text()
    assert current_tab(page) == "photos"
    found = tiles(page)
    # Newest first, photo posts only, each linking to its post.
    assert [post_id for post_id, _, _ in found] == [untitled, album, single]
    assert all(href == f"/p/{post_id}" for post_id, href, _ in found)
    assert "Words alone" not in page and f"post-{text_post}" not in page
    inside = {post_id: tile for post_id, _, tile in found}
    # Only the post of several photos is marked, and says how many to a screen reader.
    assert 'class="tile-more"' in inside[album] and "(3 photos)" in inside[album]
    assert all('class="tile-more"' not in inside[post] for post in (single, untitled))
    # The first photo alone, named by its alt text; without one, by the post's own text.
    assert 'alt="Sand"' in inside[album] and "Dunes" not in inside[album]
    assert 'alt="A beach at noon"' in inside[single]
    assert "Caption &lt;b&gt;as typed&lt;/b&gt;" in inside[untitled]
    # Square, with its widths for a third of the content column.
    for tile in inside.values():
        assert 'viewBox="0 0 1000 1000"' in tile
        sizes = html.unescape(re.search(r'sizes="([^"]+)"', tile).group(1))
        assert sizes.startswith("(max-width: 480px) calc((100vw - 28px) * ")
        assert sizes.endswith("px") and "(max-width: 720px) calc((100vw - 40px) * " in sizes
    # The first tile is the top of the page: fetched at once.
    assert 'fetchpriority="high"' in inside[untitled] and 'loading="lazy"' in inside[single]

    # The "Posts" tab is today's cards, the text post among them.
    posts_tab = await (await client.get(f"/@{author.username}?tab=posts")).text()
    assert current_tab(posts_tab) == "posts"
    assert f'id="post-{text_post}"' in posts_tab and 'class="photo-grid"' not in posts_tab
    assert f'id="post-{album}"' in posts_tab
    # Both tabs are links to each other, from either.
    for shown in (page, posts_tab):
        assert f'href="/@{author.username}?tab=photos"' in shown
        assert f'href="/@{author.username}?tab=posts"' in shown


async def test_a_profile_without_photos_opens_on_its_posts(client, factory, login) -> None:
    author = await factory.user()
    await factory.post(author, "Only words here")
    await login(client, await factory.user())
    page = await (await client.get(f"/@{author.username}")).text()
    assert current_tab(page) == "posts" and "Only words here" in page
    photos = await (await client.get(f"/@{author.username}?tab=photos")).text()
    assert current_tab(photos) == "photos"
    assert tiles(photos) == [] and "No photos yet." in photos and "Only words here" not in photos
    for bad in ("grid", "", "PHOTOS"):
        answer = await client.get(f"/@{author.username}", params={"tab": bad})
        assert answer.status == 400, bad
        assert "tab must be photos or posts" in await answer.text()


async def test_older_posts_of_the_posts_tab_stay_posts_without_javascript(
    client, factory, login, db, tmp_path: Path
) -> None:
    author = await factory.user()
    await photo_post(db, author.id, tmp_path, "", ["The only photo"])
    for number in range(21):
        await factory.post(author, f"Words number {number}")
    await login(client, await factory.user())
    page = await (await client.get(f"/@{author.username}?tab=posts")).text()
    assert current_tab(page) == "posts" and "Words number 20" in page
    # "Older posts" is ?cursor= alone, as before there were tabs: a page of posts.
    link = re.search(r'class="button button-secondary load-more" href="(\?cursor=[^"]+)"', page)
    assert link, "no Older posts link"
    older = await (await client.get(f"/@{author.username}{link.group(1)}")).text()
    assert current_tab(older) == "posts"
    assert "Words number 0" in older and "Words number 20" not in older


async def test_the_grid_pages_like_the_feed_and_its_fragment_is_the_same_tiles(
    client, factory, login, db, tmp_path: Path
) -> None:
    author = await factory.user()
    made = [await photo_post(db, author.id, tmp_path, f"Photo {n}", [f"Alt {n}"]) for n in range(5)]
    await factory.post(author, "A text post in between")
    made.append(await photo_post(db, author.id, tmp_path, "Photo 5", ["Alt 5"]))
    await login(client, await factory.user())

    path, shown = f"/@{author.username}?tab=photos&limit=2", []
    pages = 0
    while path:
        page = await (await client.get(path)).text()
        page_tiles = [post_id for post_id, _, _ in tiles(page)]
        shown += page_tiles
        # The same URL asked for a fragment: the same tiles, byte for byte.
        response = await client.get(path, headers=FRAGMENT)
        assert response.status == 200 and "X-Snapline-Fragment" in response.headers["Vary"]
        piece = await response.text()
        match = re.fullmatch(
            r'<ol data-fragment="photos"(?: data-next-cursor="([^"]+)")?>(.*)</ol>\s*', piece, re.S
        )
        assert match, piece[:300]
        assert untimed(match.group(2).strip()) == grid_items(page)
        more = MORE_PHOTOS.search(page)
        if more:
            link = html.unescape(more.group(1))
            assert link.startswith("?tab=photos&cursor=")
            assert link.endswith(f"cursor={match.group(1)}")
            path = f"/@{author.username}{link}&limit=2"
        else:
            assert match.group(1) is None
            path = ""
        pages += 1
    assert shown == made[::-1] and pages == 3
    # Only the first page's first photo is fetched eagerly.
    first = await (await client.get(f"/@{author.username}?tab=photos&limit=2")).text()
    assert first.count('fetchpriority="high"') == 1
    later = await client.get(f"/@{author.username}{link}&limit=2", headers=FRAGMENT)
    assert 'fetchpriority="high"' not in await later.text()
    bad = await client.get(f"/@{author.username}?tab=photos&cursor=%%%", headers=FRAGMENT)
    assert bad.status == 400 and 'data-fragment="problem"' in await bad.text()


async def test_the_grid_shows_nothing_of_whom_the_viewer_blocked_or_muted_or_who_blocked_them(
    client, factory, login, db, tmp_path: Path
) -> None:
    viewer = await factory.user()
    muted, blocked, blocker, suspended = [await factory.user() for _ in range(4)]
    photo_of = {
        person.username: await photo_post(db, person.id, tmp_path, "", [f"By {person.username}"])
        for person in (muted, blocked, blocker, suspended)
    }
    await login(client, viewer)
    # Seen before: each one's grid holds their photo.
    for person in (muted, blocked, blocker, suspended):
        page = await (await client.get(f"/@{person.username}")).text()
        assert [tile[0] for tile in tiles(page)] == [photo_of[person.username]]

    profile = f"/@{muted.username}"
    assert (await submit(client, f"{profile}/mute", {"duration": "0"}, page=profile)).status == 303
    profile = f"/@{blocked.username}"
    assert (await submit(client, f"{profile}/block", page=profile)).status == 303
    async with db.begin() as session:
        await blocks.block(session, blocker.id, viewer.id)
        await session.execute(
            text("UPDATE users SET suspended_at = now() WHERE id = :id"), {"id": suspended.id}
        )

    for person in (muted, blocked):
        for path in (f"/@{person.username}", f"/@{person.username}?tab=photos"):
            page = await (await client.get(path)).text()
            assert tiles(page) == [], path
            assert f"By {person.username}" not in page
        # Their profile is still there, to undo it from.
        page = await (await client.get(f"/@{person.username}?tab=photos")).text()
        assert "No photos yet." in page
        fragment = await client.get(f"/@{person.username}?tab=photos", headers=FRAGMENT)
        assert tiles(await fragment.text()) == []
    # Whoever blocked the viewer, and the suspended, are nobody at all.
    for person in (blocker, suspended):
        for path in (f"/@{person.username}", f"/@{person.username}?tab=photos"):
            answer = await client.get(path)
            assert answer.status == 404, path
            assert f"By {person.username}" not in await answer.text()
