"""Administration and moderation in Simplified Chinese: the report queue, a report and its
decisions, the admin pages and the audit log for a moderator or admin who reads Chinese,
and the Mastodon API's error messages in the language the app's device asks for (the
`error` an app shows its user), while codes and the English answers stay as they were."""

from __future__ import annotations

import re

import pytest
from mastodon import MastodonAPIError

from service.app import create_app
from tests.chinese import CHINESE, ENGLISH, english_words, reads_chinese
from tests.oauth import bearer, user_token
from tests.support import submit
from tests.test_mastodon_client import free_port, in_thread, signed_in
from tests.test_reports import _as, _report, _reports_of


async def test_a_chinese_moderator_reviews_a_report_and_decides_in_chinese(
    client, make_client, factory, login, db
) -> None:
    reporter, author = await factory.user(), await factory.user()
    moderator = await factory.user(role="moderator")
    await reads_chinese(db, moderator)
    post_id = await factory.post(author, "cheap watches for sale")
    await login(client, reporter)
    assert (await _report(client, f"/p/{post_id}/report", "spam", "Ads again")).status == 303
    [report] = await _reports_of(db, reporter.id)
    mod = await _as(make_client, client, login, moderator)

    queue = await (await mod.get("/admin/reports")).text()
    group = re.search(rf'data-account="{author.username}">.*?</section>', queue, re.S)
    assert group, "the author's reports are grouped"
    shown = group.group(0)
    assert "待处理的举报" in queue and "最早的在前，按被举报的账号分组。" in queue
    assert "1 条待处理举报" in shown and "垃圾信息" in shown
    assert f"@{author.username}</a> 的帖子" in shown and ">查看<" in shown
    assert f"@{reporter.username} 举报于" in shown
    assert 'class="visually-hidden">举报 ' in shown
    assert english_words(queue, moderator.username) == []

    page = f"/admin/reports/{report['id']}"
    review = await (await mod.get(page)).text()
    for words in (
        f"举报 {report['id']}",
        "驳回",
        "没有违反规则：不采取任何措施。",
        "删除这篇帖子",
        f"警告 @{author.username}",
        f"封禁 @{author.username}",
        f"原因（@{author.username} 尝试登录时会看到）",
        ">待处理<",
    ):
        assert words in review, words
    assert english_words(review, moderator.username) == []
    for english in ("Dismiss", "Delete the post", "Open reports", "reported", "Suspend @"):
        assert english not in review, english

    # A decision refused is told why, in Chinese; one taken, what it did.
    refused = await submit(mod, f"{page}/suspend", {"reason": ""}, page=page)
    assert refused.status == 422
    refused_page = await refused.text()
    assert "请说明原因：账号主人尝试登录时会看到。" in refused_page
    assert "Say why" not in refused_page
    deleted = await submit(mod, f"{page}/delete", page=page)
    assert deleted.status == 303
    decided = await (await mod.get(deleted.headers["Location"])).text()
    assert "已删除，相关举报均已处理。" in decided
    assert f"已处理：删除内容（@{moderator.username}，" in decided
    assert f"删除内容（操作者：@{moderator.username}）" in decided  # the history
    assert "处理记录" in decided and "重新打开" in decided
    assert english_words(decided, moderator.username) == []
    again = await submit(mod, f"{page}/delete", page=page)
    assert again.status == 422
    assert "这条举报已经是这个处理决定了。" in await again.text()

    # Another moderator, whose browser asks for English, reads the same report in English.
    english_mod = await factory.user(role="moderator")
    other = await _as(make_client, client, login, english_mod)
    english = await (await other.get(page, headers=ENGLISH)).text()
    assert "Decided: content deleted by @" in english
    assert f"delete content by @{moderator.username}" in english
    assert {"Reopen", "History", "Decided"} <= set(english_words(english, moderator.username))


async def test_a_chinese_admin_manages_users_sign_ups_settings_and_the_audit_log(
    client, factory, login, db
) -> None:
    admin = await factory.user(role="admin")
    await reads_chinese(db, admin)
    newcomer = await factory.user(confirmed=False)
    await login(client, admin)

    users = await (await client.get("/admin/users")).text()
    for words in ("用户", "加入时间", "角色", "站点设置", "待审核的注册", ">审核员<", ">管理员<"):
        assert words in users, words
    assert english_words(users, admin.username) == []
    changed = await submit(
        client, f"/admin/users/{newcomer.username}/role", {"role": "moderator"}, page="/admin/users"
    )
    assert changed.status == 303
    told = await (await client.get(changed.headers["Location"])).text()
    assert f"@{newcomer.username} 现在是审核员。" in told
    refused = await submit(
        client, f"/admin/users/{admin.username}/role", {"role": "user"}, page="/admin/users"
    )
    assert refused.status == 422
    assert "你不能取消自己的管理员角色。" in await refused.text()

    applications = await (await client.get("/admin/applications")).text()
    assert "待审核的注册" in applications
    assert english_words(applications, admin.username) == []

    settings_page = await (await client.get("/admin/settings")).text()
    for words in (
        "注册与站点",
        "谁可以注册",
        "开放：任何人都可以注册",
        "联系邮箱",
        "保存设置",
        "添加规则",
    ):
        assert words in settings_page, words
    assert english_words(settings_page, admin.username) == []
    form = {"registration_mode": "open", "name": "", "description": "", "contact_email": ""}
    invalid = await submit(client, "/admin/settings", form, page="/admin/settings")
    assert invalid.status == 422
    invalid_page = await invalid.text()
    assert "请为本站起个名字。" in invalid_page and "Give the server" not in invalid_page
    empty_rule = await submit(client, "/admin/rules", {"text": " "}, page="/admin/settings")
    assert empty_rule.status == 422
    assert "请填写规则内容，或将其删除。" in await empty_rule.text()

    audit = await (await client.get("/admin/audit")).text()
    for words in ("审计日志", "所有审核决定，最新的在前。", "时间", "操作者", "操作", "原因"):
        assert words in audit, words
    assert english_words(audit, admin.username) == []


async def test_mastodon_api_errors_are_in_the_devices_language(
    aiohttp_server, aiohttp_client, settings, factory, login
) -> None:
    """Mastodon.py on a phone that speaks Chinese: the server's `error` comes back in
    Chinese, which the app shows as it is; the same call from an English phone, in English."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await aiohttp_server(create_app(settings.replace(app={"public_url": base})), port=port)
    author = await factory.user()
    api = await signed_in(aiohttp_client, server, base, author, login)
    me = await in_thread(api.account_verify_credentials)

    api.session.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    with pytest.raises(MastodonAPIError) as direct:
        await in_thread(api.status_post, "psst", visibility="direct")
    assert direct.value.args[1] == 422 and direct.value.args[3] == "本站不提供私信功能"
    with pytest.raises(MastodonAPIError) as myself:
        await in_thread(api.account_follow, me["id"])
    assert myself.value.args[3] == "验证失败：你不能关注自己"

    api.session.headers["Accept-Language"] = "en"
    with pytest.raises(MastodonAPIError) as direct:
        await in_thread(api.status_post, "psst", visibility="direct")
    assert direct.value.args[3] == "Direct messages are not available on this server"


async def test_mastodon_errors_by_the_raw_client_keep_their_codes(client, factory, login) -> None:
    missing = await client.get("/api/v1/streaming/user", headers=CHINESE)
    assert missing.status == 401
    assert await missing.json() == {"error": "缺少访问令牌"}
    assert (await (await client.get("/api/v1/streaming/user")).json()) == {
        "error": "Missing access token"
    }

    reporter = await factory.user()
    await login(client, reporter)
    token = await user_token(client)
    refused = await client.post(
        "/api/v1/reports",
        data={"account_id": "1", "category": "no-such-category"},
        headers=bearer(token) | CHINESE,
    )
    assert refused.status == 422
    assert await refused.json() == {"error": "验证失败：本站不支持这个 category"}
