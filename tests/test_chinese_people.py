"""People in Simplified Chinese (docs/translating.md): a profile and its menu, following a
private account and answering the request, notifications, blocks and mutes, followers,
hashtags, search, and the messages of the actions and the APIs behind them. A reader of
Chinese meets Chinese words there and no English word outside what people wrote."""

from __future__ import annotations

import re

from sqlalchemy import text

from service import i18n
from service.domain import profiles
from service.handlers.flood import too_fast
from tests.chinese import CHINESE, english_words, reads_chinese
from tests.support import submit


def _between(html: str, start: str, end: str) -> str:
    """The markup from ``start`` to the first ``end`` after it."""
    begin = html.index(start)
    return html[begin : html.index(end, begin) + len(end)]


def _main(html: str) -> str:
    return _between(html, '<main id="main"', "</main>")


def _notice(html: str) -> str:
    """The flash message's text."""
    return " ".join(re.findall(r'<div class="notice notice-\w+" role="\w+">(.*?)</div>', html))


async def test_a_profile_and_asking_to_follow_a_private_account_read_in_chinese(
    client, make_client, factory, login, db
) -> None:
    me, them = await factory.user(), await factory.user()
    await reads_chinese(db, me, them)
    await factory.follow(them, me)
    async with db.begin() as session:
        await profiles.set_locked(session, them.id, True)
    await login(client, me)

    page = await (await client.get(f"/@{them.username}")).text()
    header = _between(page, '<section class="card profile">', "</section>")
    assert '<span class="badge badge-follows">关注了你</span>' in header
    assert "私密账号</p>" in header
    assert f'title="请求 @{them.username} 批准你成为关注者"' in header
    assert '请求<span class="visually-hidden">关注</span></button>' in header
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">\d{4}年\d{1,2}月</time> 加入', header)
    assert "<strong>0</strong> 条帖子" in header and "<strong>0</strong> 位关注者" in header
    assert "正在关注 <strong>1</strong> 人" in header
    # A large count in Chinese's compact form, as the cards show theirs.
    async with db.begin() as session:
        await session.execute(
            text("UPDATE users SET followers_count = 12345 WHERE id = :id"), {"id": them.id}
        )
    crowded = await (await client.get(f"/@{them.username}")).text()
    assert "<strong>1.2万</strong> 位关注者" in crowded
    assert f'aria-label="对 @{them.username} 的更多操作"' in header
    assert (
        "隐藏时长" in header and ">直到我取消隐藏</option>" in header and ">7 天</option>" in header
    )
    assert f">隐藏 @{them.username}</button>" in header and f">屏蔽 @{them.username}<" in header
    assert f">举报 @{them.username}</a>" in header
    assert english_words(header, them.username) == []
    tabs = _between(page, '<nav class="tabs profile-tabs"', "</nav>")
    assert f'aria-label="@{them.username} 的帖子"' in tabs and ">照片</a>" in tabs
    assert english_words(tabs, them.username) == []
    assert '<p class="empty">还没有帖子。</p>' in page

    asked = await submit(client, f"/@{them.username}/follow", page=f"/@{them.username}")
    assert asked.status == 303
    page = await (await client.get(asked.headers["Location"])).text()
    assert _notice(page) == f"已向 @{them.username} 发送关注请求，等待对方决定。"
    assert (
        'title="撤回你的关注请求">已请求<span class="visually-hidden">（撤回请求）</span>' in page
    )

    # They see the request where they look for it, and answer it, in Chinese.
    owner = await make_client(client)
    await login(owner, them)
    page = await (await owner.get("/notifications")).text()
    assert "<title>通知 &middot; Snapline</title>" in page
    assert (
        '>关注请求</a> <span class="count-badge">1<span class="visually-hidden"> 个待处理' in page
    )
    [line] = re.findall(r'<p class="notification-text">(.*?)</p>', page, re.S)
    assert f"{me.username}</a> 请求关注你。" in line and ">去处理</a>" in line
    assert english_words(_main(page), me.username) == []

    page = await (await owner.get("/follow-requests")).text()
    assert "你的账号是私密账号：每位新关注者都需要先提出请求。" in page
    assert (
        '批准<span class="visually-hidden"> @' in page
        and '拒绝<span class="visually-hidden">' in page
    )
    assert re.search(r"</time>请求</span>", page)
    assert english_words(_main(page), me.username) == []

    approved = await submit(
        owner, f"/follow-requests/{me.username}/approve", page="/follow-requests"
    )
    assert approved.status == 303
    page = await (await owner.get(approved.headers["Location"])).text()
    assert _notice(page) == f"@{me.username} 现在关注你了。"
    assert '<p class="empty">目前没有人请求关注你。</p>' in page

    page = await (await client.get("/notifications")).text()
    assert f"{them.username}</a> 接受了你的关注请求。" in page
    assert f"{them.username}</a> 关注了你。" in page  # before they made the account private
    assert english_words(_main(page), me.username, them.username) == []


async def test_notifications_are_whole_chinese_sentences(client, factory, login, db) -> None:
    star = await factory.user()
    fans = [await factory.user() for _ in range(4)]
    await reads_chinese(db, star)
    post = await factory.post(star, "words only")
    await factory.follow(fans[0], star)
    for fan in fans[:3]:
        await factory.like(fan, post)
    await factory.comment(fans[3], post, "nice light")
    elsewhere = await factory.post(fans[1], "elsewhere")
    await factory.comment(fans[2], elsewhere, f"look @{star.username}")
    await login(client, star)

    page = await (await client.get("/notifications")).text()
    lines = [
        " ".join(re.sub(r"<[^>]+>", "", line).split())
        for line in re.findall(r'<p class="notification-text">(.*?)</p>', page, re.S)
    ]
    names = [fan.username for fan in fans]
    assert [re.sub(r"刚刚 （新）$", "", line).strip() for line in lines] == [
        f"{names[2]} 在一条评论中提到了你：look @{star.username}",
        f"{names[3]} 评论了你的帖子：nice light",
        f"{names[2]} 等 2 人赞了你的帖子。",
        f"{names[0]} 关注了你。",
    ]
    assert f'<a href="/p/{elsewhere}#comment-' in page and ">一条评论</a>" in page
    notifications = _between(page, '<ol class="notifications">', "</ol>")
    content = (*names, star.username, "nice light", "look")
    assert english_words(notifications, *content) == []

    # One of them, then none.
    await factory.like(fans[3], elsewhere)
    await factory.like(fans[3], await factory.post(star))
    page = await (await client.get("/notifications")).text()
    assert f"{names[3]}</a> 赞了<a href=" in page and ">你的帖子</a>。" in page
    other = await factory.user()
    await reads_chinese(db, other)
    await login(client, other)
    page = await (await client.get("/notifications")).text()
    assert "还没有通知。有人关注你、赞或评论你的帖子、或提到你时，会显示在这里。" in page


async def test_blocks_mutes_and_their_settings_read_in_chinese(client, factory, login, db) -> None:
    me, them = await factory.user(), await factory.user()
    await reads_chinese(db, me)
    await login(client, me)
    profile = f"/@{them.username}"

    muted = await submit(client, f"{profile}/mute", {"duration": "86400"}, page=profile)
    assert muted.status == 303
    page = await (await client.get(profile)).text()
    assert _notice(page) == f"你已隐藏 @{them.username}。对方不会知道。"
    assert f"你已隐藏 @{them.username}，直到 <time datetime=" in page
    assert re.search(
        r"\d{4}年\d{1,2}月\d{1,2}日 [\d:]+ UTC</time>：对方的帖子和评论不会向你显示。", page
    )
    assert f">取消隐藏 @{them.username}</button>" in page
    page = await (await client.get("/settings/mutes")).text()
    assert "<title>已隐藏的账号" in page
    mutes = page[page.index("<h2>已隐藏的账号</h2>") : page.index("</section>")]
    assert "你不会看到这些人的帖子、评论或通知。对方不会收到提示，仍然可以看到和关注你。" in mutes
    assert 'aria-label="已隐藏的账号"' in mutes and "</time>起，至 <time datetime=" in mutes
    assert f">取消隐藏 @{them.username}</button>" in mutes
    assert english_words(mutes, them.username) == []
    unmuted = await submit(
        client, f"{profile}/unmute", {"next": "/settings/mutes"}, page="/settings/mutes"
    )
    page = await (await client.get(unmuted.headers["Location"])).text()
    assert _notice(page) == f"你已取消隐藏 @{them.username}。"
    assert '<p class="empty">你还没有隐藏任何人。</p>' in page

    blocked = await submit(client, f"{profile}/block", page=profile)
    page = await (await client.get(blocked.headers["Location"])).text()
    assert _notice(page) == f"你已屏蔽 @{them.username}。现在你们互不关注。"
    assert f"你已屏蔽 @{them.username}：你看不到对方的任何内容，对方也看不到你的。" in page
    assert f">取消屏蔽 @{them.username}</button>" in page
    header = _between(page, '<section class="card profile">', "</section>")
    assert english_words(header, them.username) == []
    page = await (await client.get("/settings/blocks")).text()
    blocks = page[page.index("<h2>已屏蔽的账号</h2>") : page.index("</section>")]
    assert "双方都不能关注对方。取消屏蔽不会恢复因屏蔽而解除的关注关系。" in blocks
    assert "</time>起</span>" in blocks and f">取消屏蔽 @{them.username}</button>" in blocks
    assert english_words(blocks, them.username) == []
    unblocked = await submit(
        client, f"{profile}/unblock", {"next": "/settings/blocks"}, page="/settings/blocks"
    )
    page = await (await client.get(unblocked.headers["Location"])).text()
    assert _notice(page) == f"你已取消屏蔽 @{them.username}。"
    assert '<p class="empty">你还没有屏蔽任何人。</p>' in page

    # What cannot be done is said in Chinese too.
    refused = await submit(client, f"/@{me.username}/mute", page=profile)
    assert refused.status == 422 and "你不能隐藏自己。" in await refused.text()


async def test_followers_and_following_read_in_chinese(client, factory, login, db) -> None:
    me, fan = await factory.user(), await factory.user()
    await reads_chinese(db, me)
    await factory.follow(fan, me)
    await login(client, me)

    page = await (await client.get(f"/@{me.username}/followers")).text()
    assert f"<title>@{me.username} 的关注者" in page
    assert '<h2 class="section-title">关注者</h2>' in page and 'aria-label="关注者"' in page
    assert "</time>起</span>" in page and f">移除关注者 @{fan.username}</button>" in page
    assert ">编辑个人资料</a>" in page
    assert english_words(_between(page, "<h2", "</ol>"), me.username, fan.username) == []
    page = await (await client.get(f"/@{me.username}/following")).text()
    assert f"<title>@{me.username} 关注的人" in page
    assert '<p class="empty">还没有人。</p>' in page

    removed = await submit(
        client, f"/@{fan.username}/remove_follower", page=f"/@{me.username}/followers"
    )
    page = await (await client.get(removed.headers["Location"])).text()
    assert _notice(page) == f"@{fan.username} 已不再关注你。"


async def test_hashtags_and_search_read_in_chinese(client, factory, login, db) -> None:
    author, me = await factory.user(), await factory.user()
    tag = factory.unique("tag")
    await factory.post(author, f"hello #{tag}")

    # A visitor whose browser asks for Chinese.
    page = await (await client.get(f"/tags/{tag}", headers=CHINESE)).text()
    assert '<p class="tag-count">1 条帖子</p>' in page
    assert (
        f'aria-label="带有 #{tag} 的帖子"' in page and ">最新</a>" in page and ">热门</a>" in page
    )
    page = await (await client.get(f"/tags/{tag}?sort=top", headers=CHINESE)).text()
    assert "这个话题标签下暂时没有热门帖子。" in page

    await reads_chinese(db, me)
    await login(client, me)
    page = await (await client.get(f"/tags/{tag}")).text()
    title_row = _between(page, '<div class="title-row">', "</nav>")
    assert (
        'title="在首页时间线中查看它的公开帖子">关注<span class="visually-hidden"> #' in title_row
    )
    assert english_words(title_row, tag) == []
    followed = await submit(client, f"/tags/{tag}/follow", page=f"/tags/{tag}")
    page = await (await client.get(followed.headers["Location"])).text()
    assert _notice(page) == f"你已关注 #{tag}：它的公开帖子会出现在你的首页。"
    assert f'取消关注<span class="visually-hidden"> #{tag}</span>' in page

    page = await (await client.get("/settings/tags")).text()
    followed_tags = page[page.index("<h2>关注的话题标签</h2>") : page.index("</section>")]
    assert (
        "带有这些话题标签的公开帖子会和你关注的人的帖子一起出现在你的首页时间线中。"
        in followed_tags
    )
    assert re.search(r"1 条帖子，<time [^>]+>刚刚</time>关注", followed_tags)
    assert f'取消关注 <span dir="auto">#{tag}</span>' in followed_tags
    assert english_words(followed_tags, tag) == []
    unfollowed = await submit(
        client, f"/tags/{tag}/unfollow", {"next": "/settings/tags"}, page="/settings/tags"
    )
    page = await (await client.get(unfollowed.headers["Location"])).text()
    assert _notice(page) == f"你已不再关注 #{tag}。"
    assert '<p class="empty">你还没有关注任何话题标签。</p>' in page

    page = await (await client.get("/search", params={"q": author.username})).text()
    assert f"<title>搜索：{author.username}" in page
    assert 'placeholder="搜索用户、话题标签和帖子"' in page
    assert ">全部</a>" in page and ">用户</a>" in page and ">话题标签</a>" in page
    assert '<span class="since">0 位关注者</span>' in page
    assert "没有以此开头的话题标签。" in page and "没有找到帖子。" in page
    assert english_words(_main(page), author.username) == []
    page = await (await client.get("/search", params={"q": tag})).text()
    assert f'aria-label="与“{tag}”匹配的话题标签"' in page and "没有叫这个名字的用户。" in page
    assert f'<span class="visually-hidden"> （@{author.username} 的帖子）</span>' in page
    # The post's words, its matches marked, are the author's.
    found = re.sub(r'<p class="snippet" dir="auto">.*?</p>', " ", _main(page), flags=re.S)
    assert english_words(found, author.username, tag) == []


async def test_api_messages_of_people_are_chinese_and_their_codes_english(client) -> None:
    async def error(path: str) -> dict:
        return (await (await client.get(path, headers=CHINESE)).json())["error"]

    assert await error("/api/snapline/v1/users/nobody_here") == {
        "code": "not_found",
        "message": "没有叫这个名字的用户。",
    }
    assert await error("/api/snapline/v1/search") == {
        "code": "invalid_q",
        "message": "必须提供 q。",
    }
    assert await error("/api/snapline/v1/search?q=a&type=photos") == {
        "code": "invalid_type",
        "message": "type 必须是 people、tags 或 posts。",
    }
    assert await error("/api/snapline/v1/tags/sunset/posts?sort=oldest") == {
        "code": "invalid_sort",
        "message": "sort 必须是 latest 或 top。",
    }
    english = await client.get("/api/snapline/v1/users/nobody_here")
    assert (await english.json())["error"]["message"] == "There is no user by that name."


def test_the_flood_limit_says_what_was_too_fast_and_how_long_to_wait() -> None:
    with i18n.using("zh-Hans"):
        assert too_fast("posts", 30) == "你发帖太快了，请 30 秒后再试。"
        assert too_fast("follows", 600) == "你关注他人太快了，请 10 分钟后再试。"
    with i18n.using("en"):
        assert too_fast("likes", 30) == "You are liking posts too fast. Try again in 30 seconds."
        assert too_fast("reports", 600) == "You are reporting too fast. Try again in 10 minutes."
