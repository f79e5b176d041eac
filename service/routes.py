"""Every route of the application, top to bottom: method, path, handler and the name URLs are
built from (``url()`` in templates, ``url_for`` in handlers). Handler modules are named after
the URL prefix they serve. `python -m service routes` prints this table as registered, and
docs/routes.md holds it, checked by a test.

A POST beside a named GET of the same path needs no name of its own: its URL is the GET's.

TOKEN_SCOPES, below the table, says which scope a bearer token needs for each route; a route
it does not list refuses every token (docs/api.md).
"""

from __future__ import annotations

from aiohttp import web

from service import observability, scopes
from service.api import comments as api_comments
from service.api import notifications as api_notifications
from service.api import openapi as api_openapi
from service.api import people as api_people
from service.api import posts as api_posts
from service.api import reports as api_reports
from service.api import search as api_search
from service.api import stream as api_stream
from service.api import tags as api_tags
from service.api import timelines as api_timelines
from service.api import trending as api_trending
from service.api import users as api_users
from service.keys import route_scopes_key
from service.mastodon import accounts as mastodon_accounts
from service.mastodon import defaults as mastodon_defaults
from service.mastodon import instance as mastodon_instance
from service.mastodon import media as mastodon_media
from service.mastodon import notifications as mastodon_notifications
from service.mastodon import reports as mastodon_reports
from service.mastodon import search as mastodon_search
from service.mastodon import statuses as mastodon_statuses
from service.mastodon import streaming as mastodon_streaming
from service.mastodon import tags as mastodon_tags
from service.mastodon import timelines as mastodon_timelines
from service.mastodon import trends as mastodon_trends
from service.mastodon.common import set_links
from service.oauth import apps as oauth_apps
from service.oauth import authorize as oauth_authorize
from service.oauth import tokens as oauth_tokens
from service.settings import PROJECT_ROOT, Settings
from service.views import (
    about,
    admin,
    admin_instance,
    auth,
    comments,
    fragments,
    health,
    home,
    identicons,
    invites,
    language,
    leaving,
    media,
    moderation,
    notifications,
    posts,
    reports,
    search,
    settings,
    signup,
    tags,
    tokens,
    users,
)
from service.web.metrics_access import only_from
from service.web.tokens import Requirement, RouteScopes

STATIC_DIR = PROJECT_ROOT / "service" / "static"

MEDIA_KEY = r"{key:(?:photos|restricted|avatars)/[0-9a-f]{32}/[a-z0-9]{1,16}\.(?:jpg|webp)}"

PAGES = [
    # Probes for load balancers and orchestrators.
    web.get("/healthz", health.healthz, name="healthz"),
    web.get("/readyz", health.readyz, name="readyz"),
    # Timelines.
    web.get("/", home.home, name="home"),
    web.get("/explore", home.explore, name="explore"),
    web.get("/search", search.search, name="search"),
    # Accounts: signing up (as the registration mode allows), in and out, confirming,
    # resetting a password.
    web.get("/signup", signup.signup_form, name="signup"),
    web.post("/signup", signup.signup),
    web.get("/signup/pending", signup.pending, name="signup_pending"),
    web.get("/invite/{code:[A-Za-z0-9_-]{8,32}}", signup.invite_form, name="invite"),
    web.get("/login", auth.login_form, name="login"),
    web.post("/login", auth.login),
    web.post("/logout", auth.logout, name="logout"),
    web.get("/confirm/{token}", auth.confirm, name="confirm"),
    web.post("/confirm/resend", auth.confirm_resend, name="confirm_resend"),
    web.get("/password/forgot", auth.forgot_form, name="password_forgot"),
    web.post("/password/forgot", auth.forgot),
    web.get("/password/reset/{token}", auth.reset_form, name="password_reset"),
    web.post("/password/reset/{token}", auth.reset),
    # One's own settings.
    web.get("/settings/profile", settings.profile_form, name="settings_profile"),
    web.post("/settings/profile", settings.profile),
    web.get("/settings/password", settings.password_form, name="settings_password"),
    web.post("/settings/password", settings.password),
    web.get("/settings/apps", tokens.connected_apps, name="settings_apps"),
    web.post("/settings/apps/{id}/revoke", tokens.revoke_app, name="settings_app_revoke"),
    web.get("/settings/tokens", tokens.personal_tokens, name="settings_tokens"),
    web.post("/settings/tokens", tokens.create_token),
    web.post("/settings/tokens/{id}/revoke", tokens.revoke_token, name="settings_token_revoke"),
    web.get("/settings/invites", invites.invites_page, name="settings_invites"),
    web.post("/settings/invites", invites.create_invite),
    web.post("/settings/invites/{id}/revoke", invites.revoke_invite, name="settings_invite_revoke"),
    web.get("/settings/blocks", settings.blocked_accounts, name="settings_blocks"),
    web.get("/settings/mutes", settings.muted_accounts, name="settings_mutes"),
    web.get("/settings/tags", tags.followed, name="settings_tags"),
    web.get("/settings/reports", reports.own_reports, name="settings_reports"),
    web.post("/warnings/{id}/acknowledge", reports.acknowledge_warning, name="warning_acknowledge"),
    # Leaving: an archive of one's data, and deleting one's account.
    web.get("/settings/export", leaving.export_page, name="settings_export"),
    web.post("/settings/export", leaving.request_export),
    web.get("/settings/export/{id}", leaving.download, name="settings_export_download"),
    web.get("/settings/delete", leaving.delete_form, name="settings_delete"),
    web.post("/settings/delete", leaving.delete_account),
    # People.
    web.get("/@{username}", users.profile, name="profile"),
    web.get("/@{username}/followers", users.followers, name="followers"),
    web.get("/@{username}/following", users.following, name="following"),
    web.post("/@{username}/follow", users.follow, name="follow"),
    web.post("/@{username}/unfollow", users.unfollow, name="unfollow"),
    web.post("/@{username}/block", users.block, name="block"),
    web.post("/@{username}/unblock", users.unblock, name="unblock"),
    web.post("/@{username}/mute", users.mute, name="mute"),
    web.post("/@{username}/unmute", users.unmute, name="unmute"),
    web.post("/@{username}/remove_follower", users.remove_from_followers, name="remove_follower"),
    web.get("/follow-requests", users.follow_requests, name="follow_requests"),
    web.post(
        "/follow-requests/{username}/approve",
        users.approve_request,
        name="follow_request_approve",
    ),
    web.post(
        "/follow-requests/{username}/reject", users.reject_request, name="follow_request_reject"
    ),
    web.get("/@{username}/report", reports.report_account_form, name="report_account"),
    web.post("/@{username}/report", reports.report_account),
    web.get("/identicons/{digest:[0-9a-f]{16}}.svg", identicons.identicon, name="identicon"),
    # Posts, their likes and comments.
    web.post("/posts", posts.create, name="create_post"),
    web.get("/p/{id}", posts.show, name="post"),
    # Cards of a feed seen by the reader, reported in batches by the page (docs/trending.md).
    web.post("/views", posts.record_views, name="post_views"),
    web.post("/p/{id}/delete", posts.delete, name="delete_post"),
    web.post("/p/{id}/audience", posts.change_audience, name="post_audience"),
    web.post("/p/{id}/like", posts.like, name="like"),
    web.post("/p/{id}/unlike", posts.unlike, name="unlike"),
    web.post("/p/{id}/comments", posts.comment, name="comment"),
    web.get("/p/{id}/report", reports.report_post_form, name="report_post"),
    web.post("/p/{id}/report", reports.report_post),
    web.post("/comments/{id}/delete", comments.remove_comment, name="delete_comment"),
    web.get("/comments/{id}/report", reports.report_comment_form, name="report_comment"),
    web.post("/comments/{id}/report", reports.report_comment),
    # Hashtags: a tag's posts (docs/discovery.md).
    web.get("/tags/{tag}", tags.tag, name="tag"),
    web.post("/tags/{tag}/follow", tags.follow, name="tag_follow"),
    web.post("/tags/{tag}/unfollow", tags.unfollow, name="tag_unfollow"),
    web.get("/notifications", notifications.notifications_page, name="notifications"),
    web.post("/notifications/read", notifications.read_all, name="notifications_read"),
    # The cards of given posts, for the live "new posts" banner.
    web.get("/fragments/posts", fragments.post_cards, name="fragments_posts"),
    # The instance: what it is, its rules, who runs it.
    web.get("/about", about.about, name="about"),
    # The footer's language switcher (docs/translating.md).
    web.post("/language", language.set_language, name="set_language"),
    # Administration.
    web.get("/admin/users", admin.users, name="admin_users"),
    web.post("/admin/users/{username}/role", admin.set_role, name="admin_set_role"),
    # Moderation: the queue of open reports, a report and the decisions on it, the audit log.
    web.get("/admin/reports", moderation.queue, name="admin_reports"),
    web.get("/admin/reports/{id}", moderation.report, name="admin_report"),
    web.post(
        "/admin/reports/{id}/{action:dismiss|delete|suspend|unsuspend|reopen"
        "|sensitive|unsensitive|warn}",
        moderation.decide,
        name="admin_report_action",
    ),
    web.get("/admin/audit", moderation.audit_log, name="admin_audit"),
    # A moderator takes a post off trending, or puts it back (docs/trending.md).
    web.post(
        "/admin/posts/{id}/trends/{action:remove|restore}",
        moderation.trends,
        name="admin_post_trends",
    ),
    web.get("/admin/applications", admin.applications, name="admin_applications"),
    web.post("/admin/applications/{username}/approve", admin.approve, name="admin_approve"),
    web.post("/admin/applications/{username}/reject", admin.reject, name="admin_reject"),
    web.get("/admin/settings", admin_instance.settings_page, name="admin_settings"),
    web.post("/admin/settings", admin_instance.save_settings),
    web.post("/admin/rules", admin_instance.add_rule, name="admin_rules"),
    web.post("/admin/rules/{id}", admin_instance.edit_rule, name="admin_rule"),
    web.post("/admin/rules/{id}/move", admin_instance.move_rule, name="admin_rule_move"),
    web.post("/admin/rules/{id}/delete", admin_instance.delete_rule, name="admin_rule_delete"),
]

API = [
    web.get("/api/snapline/v1/timeline", api_timelines.timeline, name="api_timeline"),
    web.get("/api/snapline/v1/explore", api_timelines.explore, name="api_explore"),
    web.get("/api/snapline/v1/tags/{tag}", api_tags.tag, name="api_tag"),
    web.get("/api/snapline/v1/trending", api_trending.posts, name="api_trending"),
    web.get("/api/snapline/v1/trending/tags", api_trending.tags, name="api_trending_tags"),
    web.get("/api/snapline/v1/tags/{tag}/posts", api_tags.tag_posts, name="api_tag_posts"),
    web.post("/api/snapline/v1/tags/{tag}/follow", api_tags.follow, name="api_tag_follow"),
    web.delete("/api/snapline/v1/tags/{tag}/follow", api_tags.unfollow),
    web.get("/api/snapline/v1/search", api_search.search, name="api_search"),
    web.post("/api/snapline/v1/posts", api_posts.create, name="api_posts"),
    web.get("/api/snapline/v1/posts/{id}", api_posts.post, name="api_post"),
    web.delete("/api/snapline/v1/posts/{id}", api_posts.delete),
    web.post("/api/snapline/v1/posts/{id}/like", api_posts.like, name="api_like"),
    web.delete("/api/snapline/v1/posts/{id}/like", api_posts.unlike),
    web.get("/api/snapline/v1/posts/{id}/comments", api_posts.list_comments, name="api_comments"),
    web.post("/api/snapline/v1/posts/{id}/comments", api_posts.create_comment),
    web.delete("/api/snapline/v1/comments/{id}", api_comments.remove_comment, name="api_comment"),
    # Whom to suggest as a username is typed after "@" (docs/discovery.md).
    web.get(
        "/api/snapline/v1/people/suggestions",
        api_people.suggestions,
        name="api_people_suggestions",
    ),
    web.get("/api/snapline/v1/users/{username}", api_users.user, name="api_user"),
    web.get("/api/snapline/v1/users/{username}/posts", api_users.user_posts, name="api_user_posts"),
    web.get(
        "/api/snapline/v1/users/{username}/followers", api_users.followers, name="api_followers"
    ),
    web.get(
        "/api/snapline/v1/users/{username}/following", api_users.following, name="api_following"
    ),
    web.post("/api/snapline/v1/users/{username}/follow", api_users.follow, name="api_follow"),
    web.delete("/api/snapline/v1/users/{username}/follow", api_users.unfollow),
    web.post("/api/snapline/v1/users/{username}/block", api_users.block, name="api_block"),
    web.delete("/api/snapline/v1/users/{username}/block", api_users.unblock),
    web.post("/api/snapline/v1/users/{username}/mute", api_users.mute, name="api_mute"),
    web.delete("/api/snapline/v1/users/{username}/mute", api_users.unmute),
    web.post(
        "/api/snapline/v1/users/{username}/remove_follower",
        api_users.remove_from_followers,
        name="api_remove_follower",
    ),
    web.get(
        "/api/snapline/v1/notifications",
        api_notifications.list_notifications,
        name="api_notifications",
    ),
    web.post(
        "/api/snapline/v1/notifications/read",
        api_notifications.read_all,
        name="api_notifications_read",
    ),
    web.get("/api/snapline/v1/stream", api_stream.stream, name="api_stream"),
    web.post("/api/snapline/v1/reports", api_reports.create, name="api_reports"),
    # This API described as OpenAPI 3.1, to anyone (docs/api.md).
    web.get("/api/snapline/v1/openapi.json", api_openapi.document, name="api_openapi"),
]

# The Mastodon client API (docs/api.md): every route named mastodon_*, which gives it
# Mastodon's error bodies. Mastodon.py asks for the instance with a trailing slash.
MASTODON = [
    web.get("/api/v1/instance", mastodon_instance.instance_v1, name="mastodon_instance_v1"),
    web.get("/api/v1/instance/", mastodon_instance.instance_v1, name="mastodon_instance_v1_"),
    web.get("/api/v2/instance", mastodon_instance.instance_v2, name="mastodon_instance_v2"),
    web.get("/api/v2/instance/", mastodon_instance.instance_v2, name="mastodon_instance_v2_"),
    web.get("/api/v1/instance/rules", mastodon_instance.rules, name="mastodon_instance_rules"),
    web.get(
        "/.well-known/nodeinfo", mastodon_instance.nodeinfo_links, name="mastodon_nodeinfo_links"
    ),
    web.get("/nodeinfo/2.0", mastodon_instance.nodeinfo, name="mastodon_nodeinfo"),
    web.get("/api/v1/timelines/home", mastodon_timelines.home, name="mastodon_timelines_home"),
    web.get(
        "/api/v1/timelines/public", mastodon_timelines.public, name="mastodon_timelines_public"
    ),
    web.get(
        "/api/v1/timelines/tag/{hashtag}", mastodon_timelines.tag, name="mastodon_timelines_tag"
    ),
    web.get("/api/v1/tags/{name}", mastodon_tags.tag, name="mastodon_tag"),
    web.post("/api/v1/tags/{name}/follow", mastodon_tags.follow, name="mastodon_tag_follow"),
    web.post("/api/v1/tags/{name}/unfollow", mastodon_tags.unfollow, name="mastodon_tag_unfollow"),
    # Accounts: the named paths before /accounts/{id}, which would take their names as ids.
    web.get(
        "/api/v1/accounts/verify_credentials",
        mastodon_accounts.verify_credentials,
        name="mastodon_verify_credentials",
    ),
    web.get(
        "/api/v1/accounts/relationships",
        mastodon_accounts.relationships,
        name="mastodon_relationships",
    ),
    web.get("/api/v1/accounts/lookup", mastodon_accounts.lookup, name="mastodon_account_lookup"),
    web.get("/api/v1/accounts/search", mastodon_accounts.search, name="mastodon_account_search"),
    web.get("/api/v2/search", mastodon_search.search, name="mastodon_search"),
    web.patch(
        "/api/v1/accounts/update_credentials",
        mastodon_accounts.update_credentials,
        name="mastodon_update_credentials",
    ),
    web.get("/api/v1/accounts/{id}", mastodon_accounts.account, name="mastodon_account"),
    web.get(
        "/api/v1/accounts/{id}/statuses",
        mastodon_accounts.account_statuses,
        name="mastodon_account_statuses",
    ),
    web.get(
        "/api/v1/accounts/{id}/followers",
        mastodon_accounts.followers,
        name="mastodon_account_followers",
    ),
    web.get(
        "/api/v1/accounts/{id}/following",
        mastodon_accounts.following,
        name="mastodon_account_following",
    ),
    web.post(
        "/api/v1/accounts/{id}/follow", mastodon_accounts.follow, name="mastodon_account_follow"
    ),
    web.post(
        "/api/v1/accounts/{id}/unfollow",
        mastodon_accounts.unfollow,
        name="mastodon_account_unfollow",
    ),
    web.post("/api/v1/accounts/{id}/block", mastodon_accounts.block, name="mastodon_account_block"),
    web.post(
        "/api/v1/accounts/{id}/unblock",
        mastodon_accounts.unblock,
        name="mastodon_account_unblock",
    ),
    web.post("/api/v1/accounts/{id}/mute", mastodon_accounts.mute, name="mastodon_account_mute"),
    web.post(
        "/api/v1/accounts/{id}/unmute", mastodon_accounts.unmute, name="mastodon_account_unmute"
    ),
    web.post(
        "/api/v1/accounts/{id}/remove_from_followers",
        mastodon_accounts.remove_from_followers,
        name="mastodon_account_remove_from_followers",
    ),
    web.get("/api/v1/blocks", mastodon_accounts.blocks, name="mastodon_blocks"),
    web.get("/api/v1/mutes", mastodon_accounts.mutes, name="mastodon_mutes"),
    web.get(
        "/api/v1/follow_requests",
        mastodon_accounts.follow_requests,
        name="mastodon_follow_requests",
    ),
    web.post(
        "/api/v1/follow_requests/{id}/authorize",
        mastodon_accounts.authorize_follow_request,
        name="mastodon_follow_request_authorize",
    ),
    web.post(
        "/api/v1/follow_requests/{id}/reject",
        mastodon_accounts.reject_follow_request,
        name="mastodon_follow_request_reject",
    ),
    # Statuses: posts, and comments as replies to them. The DELETE shares the GET's name
    # (and so Mastodon's error bodies): it must stay right after it.
    web.post("/api/v1/statuses", mastodon_statuses.create, name="mastodon_statuses"),
    web.get("/api/v1/statuses/{id}", mastodon_statuses.status, name="mastodon_status"),
    web.delete("/api/v1/statuses/{id}", mastodon_statuses.delete, name="mastodon_status"),
    web.get(
        "/api/v1/statuses/{id}/context", mastodon_statuses.context, name="mastodon_status_context"
    ),
    web.get(
        "/api/v1/statuses/{id}/favourited_by",
        mastodon_statuses.favourited_by,
        name="mastodon_status_favourited_by",
    ),
    web.post(
        "/api/v1/statuses/{id}/favourite",
        mastodon_statuses.favourite,
        name="mastodon_status_favourite",
    ),
    web.post(
        "/api/v1/statuses/{id}/unfavourite",
        mastodon_statuses.unfavourite,
        name="mastodon_status_unfavourite",
    ),
    # Media: photos uploaded before the status that attaches them. The PUT shares the GET's
    # name and must stay right after it.
    web.post("/api/v2/media", mastodon_media.create, name="mastodon_media_upload"),
    web.get("/api/v1/media/{id}", mastodon_media.show, name="mastodon_media"),
    web.put("/api/v1/media/{id}", mastodon_media.update, name="mastodon_media"),
    # Notifications: follows, favourites, and comments on one's posts as mentions.
    web.get(
        "/api/v1/notifications",
        mastodon_notifications.list_notifications,
        name="mastodon_notifications",
    ),
    web.post(
        "/api/v1/notifications/clear",
        mastodon_notifications.clear,
        name="mastodon_notifications_clear",
    ),
    web.get(
        "/api/v1/notifications/{id}",
        mastodon_notifications.notification,
        name="mastodon_notification",
    ),
    web.post(
        "/api/v1/notifications/{id}/dismiss",
        mastodon_notifications.dismiss,
        name="mastodon_notification_dismiss",
    ),
    # The streaming API: Server-Sent Events of the home timeline and notifications.
    web.get(
        "/api/v1/streaming/health", mastodon_streaming.health, name="mastodon_streaming_health"
    ),
    web.get("/api/v1/streaming/user", mastodon_streaming.user, name="mastodon_streaming_user"),
    web.get(
        "/api/v1/streaming/user/notification",
        mastodon_streaming.user_notification,
        name="mastodon_streaming_user_notification",
    ),
    web.get("/api/v1/streaming", mastodon_streaming.by_name, name="mastodon_streaming"),
    # Reports to the moderators: an account, with any of its statuses.
    web.post("/api/v1/reports", mastodon_reports.create, name="mastodon_reports"),
    # What apps ask for at start, for features Snapline does not have: empty answers.
    web.get("/api/v1/preferences", mastodon_defaults.preferences, name="mastodon_preferences"),
    web.get("/api/v1/markers", mastodon_defaults.markers, name="mastodon_markers"),
    web.get("/api/v1/filters", mastodon_defaults.own_empty_list, name="mastodon_filters_v1"),
    web.get("/api/v2/filters", mastodon_defaults.own_empty_list, name="mastodon_filters_v2"),
    web.get("/api/v1/lists", mastodon_defaults.own_empty_list, name="mastodon_lists"),
    web.get(
        "/api/v1/announcements", mastodon_defaults.own_empty_list, name="mastodon_announcements"
    ),
    web.get("/api/v1/followed_tags", mastodon_tags.followed_tags, name="mastodon_followed_tags"),
    web.get("/api/v1/custom_emojis", mastodon_defaults.empty_list, name="mastodon_custom_emojis"),
    web.get("/api/v1/trends/tags", mastodon_trends.tags, name="mastodon_trends_tags"),
    web.get("/api/v1/trends/statuses", mastodon_trends.statuses, name="mastodon_trends_statuses"),
    web.get("/api/v1/trends/links", mastodon_defaults.empty_list, name="mastodon_trends_links"),
]

# The OAuth 2 authorization server (service/oauth/): apps register, people consent, apps
# exchange codes for tokens and give them back.
OAUTH = [
    web.post("/api/v1/apps", oauth_apps.create, name="oauth_apps"),
    web.get(
        "/api/v1/apps/verify_credentials", oauth_apps.verify_credentials, name="oauth_app_verify"
    ),
    web.get("/oauth/authorize", oauth_authorize.authorize_form, name="oauth_authorize"),
    web.post("/oauth/authorize", oauth_authorize.authorize),
    web.post("/oauth/token", oauth_tokens.token, name="oauth_token"),
    web.post("/oauth/revoke", oauth_tokens.revoke, name="oauth_revoke"),
    web.get(
        "/.well-known/oauth-authorization-server", oauth_tokens.metadata, name="oauth_metadata"
    ),
]

# What a bearer token must hold, by method and route name: one scope, or a tuple of which
# any one will do (scopes.ANY_TOKEN: a valid token is enough). Deny by default: a route not
# listed here answers every bearer request 403, so each new route is one line here.
TOKEN_SCOPES: dict[tuple[str, str], Requirement] = {
    ("GET", "api_timeline"): "read:statuses",
    ("GET", "api_explore"): "read:statuses",
    ("GET", "api_trending"): "read:statuses",
    ("GET", "api_trending_tags"): "read:statuses",
    ("GET", "api_tag_posts"): "read:statuses",
    ("GET", "api_tag"): "read:statuses",
    ("POST", "api_tag_follow"): "write:follows",
    ("DELETE", "api_tag_follow"): "write:follows",
    ("POST", "api_posts"): "write:statuses",
    ("GET", "api_post"): "read:statuses",
    ("DELETE", "api_post"): "write:statuses",
    ("POST", "api_like"): "write:favourites",
    ("DELETE", "api_like"): "write:favourites",
    ("GET", "api_comments"): "read:statuses",
    ("POST", "api_comments"): "write:statuses",
    ("DELETE", "api_comment"): "write:statuses",
    ("GET", "api_people_suggestions"): "read:accounts",
    ("GET", "api_user"): "read:accounts",
    ("GET", "api_user_posts"): "read:statuses",
    ("GET", "api_search"): "read:search",
    ("GET", "api_followers"): "read:accounts",
    ("GET", "api_following"): "read:accounts",
    ("POST", "api_follow"): "write:follows",
    ("DELETE", "api_follow"): "write:follows",
    ("POST", "api_block"): "write:blocks",
    ("DELETE", "api_block"): "write:blocks",
    ("POST", "api_mute"): "write:mutes",
    ("DELETE", "api_mute"): "write:mutes",
    ("POST", "api_remove_follower"): "write:follows",
    ("GET", "api_notifications"): "read:notifications",
    ("POST", "api_notifications_read"): "write:notifications",
    ("POST", "api_reports"): "write:reports",
    ("GET", "oauth_app_verify"): scopes.ANY_TOKEN,
    ("GET", "oauth_metadata"): scopes.ANY_TOKEN,
    # The Mastodon client API, with the scopes Mastodon's documentation gives each call.
    ("GET", "mastodon_instance_v1"): scopes.ANY_TOKEN,
    ("GET", "mastodon_instance_v1_"): scopes.ANY_TOKEN,
    ("GET", "mastodon_instance_v2"): scopes.ANY_TOKEN,
    ("GET", "mastodon_instance_v2_"): scopes.ANY_TOKEN,
    ("GET", "mastodon_instance_rules"): scopes.ANY_TOKEN,
    ("GET", "mastodon_nodeinfo_links"): scopes.ANY_TOKEN,
    ("GET", "mastodon_nodeinfo"): scopes.ANY_TOKEN,
    ("GET", "mastodon_timelines_home"): "read:statuses",
    ("GET", "mastodon_timelines_public"): "read:statuses",
    ("GET", "mastodon_timelines_tag"): "read:statuses",
    ("GET", "mastodon_tag"): scopes.ANY_TOKEN,
    ("POST", "mastodon_tag_follow"): "write:follows",
    ("POST", "mastodon_tag_unfollow"): "write:follows",
    ("GET", "mastodon_verify_credentials"): ("read:accounts", "profile"),
    ("GET", "mastodon_relationships"): "read:follows",
    ("GET", "mastodon_account_lookup"): "read:accounts",
    ("GET", "mastodon_account_search"): "read:accounts",
    ("GET", "mastodon_search"): "read:search",
    ("GET", "mastodon_account"): "read:accounts",
    ("GET", "mastodon_account_statuses"): "read:statuses",
    ("GET", "mastodon_account_followers"): "read:accounts",
    ("GET", "mastodon_account_following"): "read:accounts",
    ("POST", "mastodon_account_block"): "write:blocks",
    ("POST", "mastodon_account_unblock"): "write:blocks",
    ("POST", "mastodon_account_mute"): "write:mutes",
    ("POST", "mastodon_account_unmute"): "write:mutes",
    ("POST", "mastodon_account_remove_from_followers"): "write:follows",
    ("GET", "mastodon_blocks"): "read:blocks",
    ("GET", "mastodon_mutes"): "read:mutes",
    ("GET", "mastodon_follow_requests"): "read:follows",
    ("POST", "mastodon_follow_request_authorize"): "write:follows",
    ("POST", "mastodon_follow_request_reject"): "write:follows",
    ("GET", "mastodon_status"): "read:statuses",
    ("GET", "mastodon_status_context"): "read:statuses",
    ("GET", "mastodon_status_favourited_by"): "read:accounts",
    ("POST", "mastodon_statuses"): "write:statuses",
    ("DELETE", "mastodon_status"): "write:statuses",
    ("POST", "mastodon_status_favourite"): "write:favourites",
    ("POST", "mastodon_status_unfavourite"): "write:favourites",
    ("POST", "mastodon_account_follow"): "write:follows",
    ("POST", "mastodon_account_unfollow"): "write:follows",
    ("PATCH", "mastodon_update_credentials"): "write:accounts",
    ("POST", "mastodon_media_upload"): "write:media",
    ("GET", "mastodon_media"): "write:media",
    ("PUT", "mastodon_media"): "write:media",
    ("GET", "mastodon_notifications"): "read:notifications",
    ("GET", "mastodon_notification"): "read:notifications",
    ("POST", "mastodon_notifications_clear"): "write:notifications",
    ("POST", "mastodon_notification_dismiss"): "write:notifications",
    # Mastodon's streaming server: `read` or `read:statuses` for the user stream (which
    # carries notifications only for `read:notifications` too), `read:notifications` for
    # the notifications alone; by name, whichever the stream named needs.
    ("GET", "mastodon_streaming_health"): scopes.ANY_TOKEN,
    ("GET", "mastodon_streaming_user"): "read:statuses",
    ("GET", "mastodon_streaming_user_notification"): "read:notifications",
    ("GET", "mastodon_streaming"): ("read:statuses", "read:notifications"),
    ("POST", "mastodon_reports"): "write:reports",
    ("GET", "mastodon_preferences"): "read:accounts",
    ("GET", "mastodon_markers"): "read:statuses",
    ("GET", "mastodon_filters_v1"): "read:filters",
    ("GET", "mastodon_filters_v2"): "read:filters",
    ("GET", "mastodon_lists"): "read:lists",
    ("GET", "mastodon_announcements"): scopes.ANY_TOKEN,
    ("GET", "mastodon_followed_tags"): "read:follows",
    ("GET", "mastodon_custom_emojis"): scopes.ANY_TOKEN,
    ("GET", "mastodon_trends_tags"): scopes.ANY_TOKEN,
    ("GET", "mastodon_trends_statuses"): scopes.ANY_TOKEN,
    ("GET", "mastodon_trends_links"): scopes.ANY_TOKEN,
}
# Routes where the app authenticates itself (client id and secret, or nothing at all):
# no bearer token, no session cookie, no CSRF token.
CLIENT_ROUTES = frozenset({"oauth_apps", "oauth_token", "oauth_revoke"})
# Routes that also take the token as the ``access_token`` query parameter, as Mastodon's
# streaming server does (a browser's EventSource cannot send a header). Nowhere else: a
# token in a URL ends up in logs and browser history.
QUERY_TOKEN_ROUTES = frozenset(
    {"mastodon_streaming", "mastodon_streaming_user", "mastodon_streaming_user_notification"}
)


def add_routes(app: web.Application, settings: Settings) -> None:
    app.router.add_routes(PAGES)
    app.router.add_routes(API)
    app.router.add_routes(MASTODON)
    app.router.add_routes(OAUTH)
    # Files: stored photos and avatars, and the page's own assets with a content hash.
    app.router.add_get(f"/media/{MEDIA_KEY}", media.media, name="media")
    app.router.add_static("/static", STATIC_DIR, name="static", append_version=True)
    # Prometheus, for the peers in server.metrics_allow only.
    app.router.add_get(
        "/metrics",
        only_from(settings.server.metrics_allow, observability.metrics),
        name="metrics",
    )
    app[route_scopes_key] = RouteScopes(TOKEN_SCOPES, CLIENT_ROUTES, app.router, QUERY_TOKEN_ROUTES)
    set_links(app)
