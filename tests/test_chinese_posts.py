"""Posts, their cards, the timelines and the composer in Simplified Chinese, for a reader
whose browser asks for it (docs/translating.md): the pages' words, the messages of a post or
comment refused, the flashes, the API's messages, the scripts' words the page hands them,
and counts in the language's compact form."""

from __future__ import annotations

from sqlalchemy import text

from service import i18n
from service.web.cards import compact
from service.workers.media import images
from tests.chinese import CHINESE, english_words
from tests.support import csrf_for
from tests.test_uploads import HTML, api_upload, encoded, photo_form, picture


async def _get(client, path: str) -> str:
    response = await client.get(path, headers=CHINESE)
    assert response.status == 200, path
    page = await response.text()
    assert 'lang="zh-Hans"' in page
    return page


async def _post(client, path: str, data: dict[str, str], page: str = "/"):
    form = dict(data) | {"csrf_token": await csrf_for(client, page)}
    return await client.post(path, data=form, headers=CHINESE, allow_redirects=False)


async def test_a_post_page_is_in_chinese_for_its_author_and_a_visitor(
    client, factory, login
) -> None:
    author, reader = await factory.user(), await factory.user()
    body = "今天的晚霞 sunset"
    post_id = await factory.post(author, body)
    note = "好看 nice"
    await factory.comment(reader, post_id, note)
    await factory.like(reader, post_id)
    await login(client, author)

    page = await _get(client, f"/p/{post_id}")
    assert f"<title>@{author.username} 的帖子" in page
    assert '<span class="like-count">1</span> <span class="like-label">个赞</span>' in page
    assert "1 条评论" in page
    assert '<h2 id="comments-title" class="section-title">评论</h2>' in page
    assert "已被他人查看" in page and "（仅你可见）" in page
    assert "谁可以看到这条帖子" in page and ">更改</button>" in page
    assert '<option value="unlisted">不公开列出——不出现在发现页</option>' in page
    assert ">发表评论</label>" in page and ">评论</button>" in page
    assert f'<span class="visually-hidden">帖子 {post_id} 的更多操作</span>' in page
    assert f'删除<span class="visually-hidden">帖子 {post_id}</span>' in page
    assert "可提及的人" in page and 'aria-label="照片查看器"' in page
    assert english_words(page, body, note, author.username, reader.username) == []

    assert (await _post(client, "/logout", {})).status == 303
    page = await _get(client, f"/p/{post_id}")
    assert "1 个赞</span>" in page and "1 条评论" in page
    assert f'<a href="/login?next=/p/{post_id}">登录</a>后即可评论。' in page
    assert "已被他人查看" not in page
    assert english_words(page, body, note, author.username, reader.username) == []


async def test_the_home_page_and_its_composer_are_in_chinese(client, factory, login) -> None:
    viewer = await factory.user()
    await login(client, viewer)
    page = await _get(client, "/")
    assert f"<bdi>{viewer.username}</bdi>，有什么新鲜事？" in page
    assert ">添加照片</label>" in page and ">正在上传你的帖子</label>" in page
    assert "谁可以看到" in page and '<button type="submit" class="button">发帖</button>' in page
    assert "你的时间线是空的。在发现页关注一些人，就能在这里看到他们的帖子。" in page
    assert english_words(page, viewer.username) == []
    # The scripts' words, handed to them by the page with the places of their numbers.
    assert 'data-photo-position="第 %(n)s 张，共 %(total)s 张"' in page
    assert 'data-link-copied="链接已复制"' in page
    assert 'data-other="%(num)s 条新帖子"' in page
    assert 'data-added="已添加 %(added)s；帖子中共有 %(photos)s。"' in page
    assert 'data-photo-other="%(num)s 张照片"' in page
    assert 'data-too-large="%(file)s 超过了 %(size)s MB。"' in page
    assert 'data-other="有 %(num)s 个可提及的人。用上下方向键选择，按回车键插入。"' in page


async def test_explore_and_the_front_page_are_in_chinese(client) -> None:
    front = await _get(client, "/")
    assert "<h1>与你关注的人分享照片</h1>" in front and ">创建账号</a>" in front
    # Trending photos when there are some, else the latest posts (views/home.py).
    assert '<h2 class="section-title">热门照片</h2>' in front or "最新</a>" in front
    explore = await _get(client, "/explore?sort=latest")
    assert '<nav class="tabs" aria-label="发现">' in explore
    assert ">热门</a>" in explore and 'aria-current="page">最新</a>' in explore


async def test_refusals_and_flashes_are_in_chinese(client, factory, login) -> None:
    author = await factory.user()
    await login(client, author)
    refused = await _post(client, "/posts", {"body": "   "})
    assert refused.status == 422
    assert "请写点什么或添加一张照片。" in await refused.text()

    post_id = await factory.post(author, "一条帖子")
    long = await _post(client, f"/p/{post_id}/comments", {"body": "字" * 1001}, f"/p/{post_id}")
    assert long.status == 422
    assert "最多 1,000 个字符（当前为 1,001 个）。" in await long.text()

    changed = await _post(
        client, f"/p/{post_id}/audience", {"audience": "followers"}, f"/p/{post_id}"
    )
    assert changed.status == 303
    assert "这条帖子现在仅关注者可见。" in await _get(client, changed.headers["Location"])
    assert '<span class="post-audience">仅关注者</span>' in await _get(client, f"/p/{post_id}")

    deleted = await _post(client, f"/p/{post_id}/delete", {}, f"/p/{post_id}")
    assert deleted.status == 303
    assert "帖子已删除。" in await _get(client, deleted.headers["Location"])

    missing = await client.get(f"/api/snapline/v1/posts/{post_id}", headers=CHINESE)
    assert missing.status == 404
    error = (await missing.json())["error"]
    assert error["message"] == "没有这条帖子。" and error["code"] == "not_found"


async def test_counts_are_compact_in_the_language_in_use(client, factory, db) -> None:
    assert [compact(count) for count in (0, 1, 9999, 12345, 1_234_567)] == [
        "0",
        "1",
        "9999",
        "12.3K",
        "1.2M",
    ]
    with i18n.using("zh-Hans"):
        assert [compact(count) for count in (9999, 10000, 12345, 123_456_789)] == [
            "9999",
            "1万",
            "1.2万",
            "1.2亿",
        ]

    author = await factory.user()
    post_id = await factory.post(author, "很多人喜欢")
    async with db.begin() as session:
        await session.execute(
            text("UPDATE posts SET like_count = 12345, comment_count = 23456 WHERE id = :id"),
            {"id": post_id},
        )
    page = await _get(client, f"/p/{post_id}")
    assert "1.2万 个赞</span>" in page and "2.3万 条评论</a>" in page
    english = await (await client.get(f"/p/{post_id}", headers={"Accept-Language": "en"})).text()
    assert "12.3K likes</span>" in english and "23.5K comments</a>" in english


async def test_a_file_that_is_no_photo_is_refused_in_chinese(client, factory, login) -> None:
    """The image checks run in an executor's thread, where no language is in use: their
    refusal is worded by the request that answers."""
    await login(client, await factory.user())
    form = photo_form([("x.jpg", HTML, "image/jpeg")], "我的说明", token=await csrf_for(client))
    response = await client.post("/posts", data=form, headers=CHINESE, allow_redirects=False)
    assert response.status == 415
    page = await response.text()
    assert "该文件不是 JPEG、PNG、WebP 或 GIF 图片。" in page and ">我的说明</textarea>" in page
    wide = photo_form([("wide.png", encoded(picture(800, 10), "PNG"), "image/png")], "")
    refused = await api_upload(client, wide, **{"Accept-Language": "zh-CN"})
    assert refused.status == 422
    error = (await refused.json())["error"]
    assert error["message"] == f"这张图片太细长了（超过 1:{images.MAX_ASPECT_RATIO}）。"
