"""The notifications page: who did what, to which photo, with what words; likes of one post
grouped; opening it reads what it shows."""

from __future__ import annotations

import re
from html import unescape

from tests.test_uploads import photo_post


def lines(page: str) -> list[str]:
    """Each notification's text as a person reads it, newest first."""
    items = re.findall(r'<li class="notification[^"]*">(.*?)</li>', page, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in items]


def unread_marks(page: str) -> list[bool]:
    return [" unread" in found for found in re.findall(r'<li class="(notification[^"]*)">', page)]


async def test_notifications_show_the_photo_the_comment_and_group_likes(
    client, make_client, factory, login, db, tmp_path
):
    star = await factory.user()
    fans = [await factory.user() for _ in range(4)]
    name = [fan.username for fan in fans]
    photo = await photo_post(db, star.id, tmp_path, "sunset", ["A red sky"])
    text_post = await factory.post(star, "words only")
    await factory.follow(fans[0], star)
    for fan in fans[:3]:
        await factory.like(fan, photo)
    await factory.comment(fans[3], text_post, "First line here\nand a second one")
    await factory.like(fans[3], text_post)
    await login(client, star)

    home = await (await client.get("/")).text()
    assert 'data-unread="6"' in home
    page = await (await client.get("/notifications")).text()
    assert [re.sub(r" \S+ ago| just now", "", line) for line in lines(page)] == [
        f"{name[3]} liked your post. (new)",
        f"{name[3]} commented on your post: First line here (new)",
        f"{name[2]} and 2 others liked your post. (new)",
        f"{name[0]} followed you. (new)",
    ]
    assert "a second one" not in page
    thumbs = re.findall(r'class="notification-thumb" href="/p/(\d+)"[^>]*><img src="([^"]+)"', page)
    assert [int(post_id) for post_id, _ in thumbs] == [photo]
    photo_page = await (await client.get(f"/p/{photo}")).text()
    assert thumbs[0][1].rsplit("/", 1)[0] in photo_page  # the post's own photo
    # Opening the page read them: they looked new on it, and the badge is clear.
    assert unread_marks(page) == [True] * 4
    assert 'data-unread="0"' in page
    assert 'data-unread="0"' in await (await client.get("/")).text()
    again = await (await client.get("/notifications")).text()
    assert unread_marks(again) == [False] * 4

    # What comes after stays new until it is shown.
    latecomer = await factory.user()
    await factory.like(latecomer, photo)
    assert 'data-unread="1"' in await (await client.get("/")).text()
    page = await (await client.get("/notifications")).text()
    assert lines(page)[0].startswith(f"{latecomer.username} and 3 others liked your post.")
    assert unread_marks(page) == [True, False, False, False]


async def test_a_later_page_marks_nothing_read(client, factory, login):
    star, fan = await factory.user(), await factory.user()
    posts = [await factory.post(star, f"post {n}") for n in range(3)]
    for post_id in posts:
        await factory.like(fan, post_id)
    await login(client, star)
    first = await (await client.get("/notifications", params={"limit": 1})).text()
    cursor = re.search(r'href="\?cursor=([^"]+)"', first).group(1)
    # Reading page one marked everything up to its newest notification: all three.
    assert 'data-unread="0"' in first
    await factory.comment(fan, posts[0], "new")
    later = await (await client.get("/notifications", params={"cursor": cursor})).text()
    assert 'data-unread="1"' in later  # the comment, newer than anything shown
