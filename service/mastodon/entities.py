"""Mastodon's entities (docs.joinmastodon.org/entities/) built from the read layer's views:
Account, Status (a post, or a comment as a reply to its post), MediaAttachment,
Relationship, Instance (v1 and v2) and NodeInfo. Ids are strings, times ISO 8601 in UTC to
the millisecond, URLs absolute from ``app.public_url``.

Snapline has no custom emoji, profile fields, boosts, polls, content warnings or audiences
yet: those members are always their empty or default values, which every client handles.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from service import discovery
from service.reads.views import (
    AuthorFacts,
    CommentView,
    MediaView,
    PhotoView,
    PostView,
    Profile,
    RelationshipFlags,
    RuleView,
    TagView,
)
from service.web.times import iso_millis

# Mastodon's own version this API follows (its entities and endpoints as of 4.3); apps
# compare it to decide which endpoints to call.
MASTODON_VERSION = "4.3.0"
# The square thumbnail every photo is rendered to (service.workers.media).
THUMB_PX = 320

_PARAGRAPHS = re.compile(r"\n{2,}")


def _url_link(url: str) -> str:
    return f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>'


def _plain_line(line: str) -> str:
    return discovery.linkify(
        line, {}, lambda written, _: written, lambda written, _: written, _url_link
    )


def content_html(text: str, line_html: Callable[[str], str] = _plain_line) -> str:
    """Plain text as the sanitised HTML Mastodon sends: every character escaped,
    paragraphs (blank lines) in ``<p>``, line breaks as ``<br>``, and http(s) URLs linked
    (``line_html`` writes each line; a status's also links its tags and mentions).
    Empty text is empty HTML."""
    text = text.strip()
    if not text:
        return ""
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(text):
        lines = [line_html(line) for line in paragraph.split("\n")]
        paragraphs.append(f"<p>{'<br>'.join(lines)}</p>")
    return "".join(paragraphs)


class Links:
    """Absolute URLs, from ``app.public_url`` and the routes' path templates."""

    def __init__(self, public_url: str, template: Callable[[str], str], header: str) -> None:
        self.base = public_url.rstrip("/")
        self.template = template
        self.header = self.absolute(header)

    def absolute(self, url: str) -> str:
        return f"{self.base}{url}" if url.startswith("/") else url

    def route(self, name: str, **parts: object) -> str:
        return self.base + self.template(name).format(**parts)


def account(profile: Profile | AuthorFacts, links: Links) -> dict[str, Any]:
    user = profile.summary
    url = links.route("profile", username=user.username)
    avatar = links.absolute(user.avatar_url)
    return {
        "id": str(user.id),
        "username": user.username,
        "acct": user.username,
        "display_name": user.display_name,
        "locked": profile.locked,
        "bot": False,
        "discoverable": True,
        "indexable": profile.indexable,
        "group": False,
        "created_at": iso_millis(profile.created_at),
        "note": content_html(profile.bio),
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": links.header,
        "header_static": links.header,
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
        "statuses_count": profile.post_count,
        "last_status_at": None,
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


# Mastodon's visibility of a status for each audience of a post, and back (docs/privacy.md):
# "private" is Mastodon's followers-only. "direct" has no audience here.
VISIBILITY = {"public": "public", "unlisted": "unlisted", "followers": "private"}
AUDIENCE = {visibility: audience for audience, visibility in VISIBILITY.items()}


def credential_account(
    profile: Profile, links: Links, default_audience: str, follow_requests_count: int = 0
) -> dict[str, Any]:
    """The signed-in user's own account, with what they wrote as they wrote it, who their
    posts are for unless they choose otherwise (``source.privacy``), and how many people
    ask to follow them."""
    return {
        **account(profile, links),
        "source": {
            "note": profile.bio,
            "fields": [],
            "privacy": VISIBILITY[default_audience],
            "sensitive": False,
            "language": None,
            "follow_requests_count": follow_requests_count,
        },
    }


def _size(width: int, height: int) -> dict[str, Any]:
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": width / height if height else 1.0,
    }


def _attachment(
    media_id: int,
    url: str | None,
    thumb_url: str | None,
    width: int | None,
    height: int | None,
    alt: str,
    links: Links,
    blurhash: str | None = None,
) -> dict[str, Any]:
    """A MediaAttachment of ``type: "image"``; while the photo is processed its URLs are
    null and its ``meta`` empty, as Mastodon's are."""
    ready = url is not None and thumb_url is not None and width and height
    return {
        "id": str(media_id),
        "type": "image",
        "url": links.absolute(url) if ready else None,
        "preview_url": links.absolute(thumb_url) if ready else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": (
            {"original": _size(width, height), "small": _size(THUMB_PX, THUMB_PX)} if ready else {}
        ),
        "description": alt or None,
        "blurhash": blurhash if ready else None,
    }


def media_attachment(photo: PhotoView, links: Links) -> dict[str, Any]:
    """A photo of a published post (always processed)."""
    return _attachment(
        photo.id, photo.url, photo.thumb_url, photo.width, photo.height, photo.alt, links,
        photo.blurhash,
    )  # fmt: skip


def unattached_media(media: MediaView, links: Links) -> dict[str, Any]:
    """A photo uploaded before its status, processed or not."""
    return _attachment(
        media.id, media.url, media.thumb_url, media.width, media.height, media.alt, links
    )


def tag_url(name: str, links: Links) -> str:
    return links.route("tag", tag=quote(name, safe=""))


def tag(view: TagView, links: Links) -> dict[str, Any]:
    """A Tag entity: its name, page, no usage history kept, and whether the viewer follows
    it."""
    return {
        "name": view.name,
        "url": tag_url(view.name, links),
        "history": [],
        "following": view.following,
    }


# A post is read far more often than written and never edited: what its text shows depends
# on the text, its mentions and the links' base alone, so it is worked out once while it is
# read, as cards' text is (discovery.READ_TEXTS_KEPT). Entities share the cached Mention and
# Tag dicts; nothing changes an entity after it is built.
@functools.lru_cache(maxsize=discovery.READ_TEXTS_KEPT)
def _discovered(
    body: str, names: tuple[str, ...], ids: tuple[int, ...], links: Links
) -> tuple[str, tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """A status's content with its tags and mentions linked as Mastodon links them, and its
    Mention and Tag entities."""
    known = {name.lower(): name for name in names}

    def tag_link(written: str, name: str) -> str:
        return (
            f'<a href="{tag_url(name, links)}" class="mention hashtag" rel="tag">'
            f"#<span>{written[1:]}</span></a>"
        )

    def mention_link(written: str, username: str) -> str:
        url = links.route("profile", username=username)
        return (
            f'<span class="h-card"><a href="{url}" class="u-url mention">'
            f"@<span>{username}</span></a></span>"
        )

    def line_html(line: str) -> str:
        return discovery.linkify(line, known, tag_link, mention_link, _url_link)

    mentions = tuple(
        {
            "id": str(user_id),
            "username": name,
            "url": links.route("profile", username=name),
            "acct": name,
        }
        for name, user_id in zip(names, ids, strict=True)
    )
    tags = tuple(
        {"name": name, "url": tag_url(name, links)} for name, _ in discovery.find(body).tags
    )
    return content_html(body, line_html), mentions, tags


def _status(
    status_id: int,
    at: datetime,
    author: dict[str, Any],
    url: str,
    body: str,
    mention_names: tuple[str, ...],
    mention_ids: tuple[int, ...],
    links: Links,
) -> dict[str, Any]:
    content, mentions, tags = _discovered(body, mention_names, mention_ids, links)
    return {
        "id": str(status_id),
        "created_at": iso_millis(at),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": None,
        "uri": url,
        "url": url,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": None,
        "account": author,
        "media_attachments": [],
        "mentions": list(mentions),
        "tags": list(tags),
        "emojis": [],
        "card": None,
        "poll": None,
    }


def status(post: PostView, author: dict[str, Any], links: Links) -> dict[str, Any]:
    """A published post (only published posts have a status id)."""
    entity = _status(
        post.status_id or 0,
        post.shown_at,
        author,
        links.route("post", id=post.id),
        post.body,
        post.mention_names,
        post.mention_ids,
        links,
    )
    entity.update(
        replies_count=post.comment_count,
        favourites_count=post.like_count,
        favourited=post.liked,
        sensitive=post.sensitive,
        visibility=VISIBILITY[post.audience],
        media_attachments=[media_attachment(photo, links) for photo in post.photos],
    )
    return entity


def comment_status(comment: CommentView, author: dict[str, Any], links: Links) -> dict[str, Any]:
    """A comment, as a reply to its post."""
    url = links.route("post", id=comment.post_id) + f"#comment-{comment.id}"
    entity = _status(
        comment.status_id or 0,
        comment.created_at,
        author,
        url,
        comment.body,
        comment.mention_names,
        comment.mention_ids,
        links,
    )
    if comment.post_status_id is not None:
        entity["in_reply_to_id"] = str(comment.post_status_id)
        entity["in_reply_to_account_id"] = str(comment.post_author_id)
    return entity


def notification(
    notification_id: int,
    kind: str,
    at: datetime,
    account: dict[str, Any],
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    """A Notification of ``kind`` (Mastodon's type), ungrouped: each is its own group."""
    return {
        "id": str(notification_id),
        "type": kind,
        "group_key": f"ungrouped-{notification_id}",
        "created_at": iso_millis(at),
        "account": account,
        "status": status,
    }


def relationship(flags: RelationshipFlags) -> dict[str, Any]:
    """A mute always hides the muted person's notifications too (docs/moderation.md)."""
    return {
        "id": str(flags.id),
        "following": flags.following,
        "showing_reblogs": flags.following,
        "notifying": False,
        "languages": None,
        "followed_by": flags.followed_by,
        "blocking": flags.blocking,
        "blocked_by": flags.blocked_by,
        "muting": flags.muting,
        "muting_notifications": flags.muting,
        "requested": flags.requested,
        "requested_by": flags.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


@dataclasses.dataclass(frozen=True)
class InstanceFacts:
    """What the instance entities and NodeInfo say: who runs what, and the limits."""

    domain: str
    title: str
    software_version: str
    user_count: int
    post_count: int
    max_post_chars: int
    max_photos: int
    max_photo_bytes: int
    max_photo_pixels: int
    max_alt_chars: int
    photo_types: tuple[str, ...]
    # As the admins set them (service/reads/instance.py).
    description: str
    contact_email: str
    registration_mode: str
    invites_by_users: bool
    rules: tuple[RuleView, ...]

    @property
    def version(self) -> str:
        return f"{MASTODON_VERSION} (compatible; Snapline {self.software_version})"

    @property
    def registrations_enabled(self) -> bool:
        """Whether anyone may ask for an account, as Mastodon means it: with an invite
        only, or not at all, is closed to apps."""
        return self.registration_mode in {"open", "approval"}


def rule(rule_view: RuleView) -> dict[str, Any]:
    """A Rule entity; Snapline's rules have no hint."""
    return {"id": str(rule_view.id), "text": rule_view.text, "hint": ""}


def _limits(facts: InstanceFacts) -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": facts.max_post_chars,
            "max_media_attachments": facts.max_photos,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": list(facts.photo_types),
            "image_size_limit": facts.max_photo_bytes,
            "image_matrix_limit": facts.max_photo_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
            "description_limit": facts.max_alt_chars,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
    }


def instance_v2(facts: InstanceFacts, links: Links) -> dict[str, Any]:
    return {
        "domain": facts.domain,
        "title": facts.title,
        "version": facts.version,
        "source_url": links.base,
        "description": facts.description,
        "usage": {"users": {"active_month": facts.user_count}},
        "thumbnail": {"url": links.header, "blurhash": None, "versions": {}},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            # Where apps stream from (Server-Sent Events only: no WebSocket is served).
            "urls": {"streaming": links.base, "status": None},
            "vapid": {"public_key": ""},
            "translation": {"enabled": False},
            **_limits(facts),
        },
        "registrations": {
            "enabled": facts.registrations_enabled,
            "approval_required": facts.registration_mode == "approval",
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},
        "contact": {"email": facts.contact_email, "account": None},
        "rules": [rule(each) for each in facts.rules],
    }


def instance_v1(facts: InstanceFacts, links: Links) -> dict[str, Any]:
    return {
        "uri": facts.domain,
        "title": facts.title,
        "short_description": facts.description,
        "description": facts.description,
        "email": facts.contact_email,
        "version": facts.version,
        "urls": {"streaming_api": links.base},
        "stats": {
            "user_count": facts.user_count,
            "status_count": facts.post_count,
            "domain_count": 0,
        },
        "thumbnail": links.header,
        "languages": ["en"],
        "registrations": facts.registrations_enabled,
        "approval_required": facts.registration_mode == "approval",
        "invites_enabled": facts.invites_by_users and facts.registration_mode != "closed",
        "configuration": _limits(facts),
        "contact_account": None,
        "rules": [rule(each) for each in facts.rules],
    }


NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"


def nodeinfo_links(href: str) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": href}]}


def nodeinfo(facts: InstanceFacts) -> dict[str, Any]:
    return {
        "version": "2.0",
        "software": {"name": "snapline", "version": facts.software_version},
        "protocols": [],
        "services": {"inbound": [], "outbound": []},
        "usage": {"users": {"total": facts.user_count}, "localPosts": facts.post_count},
        "openRegistrations": facts.registrations_enabled,
        "metadata": {"nodeName": facts.title},
    }
