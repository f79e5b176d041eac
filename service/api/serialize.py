"""The JSON shapes of SPEC §4, built from domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from service import discovery
from service.reads.views import (
    CommentView,
    NotificationView,
    PhotoView,
    PostView,
    Profile,
    Relationship,
    TagView,
    UserSummary,
)
from service.web.times import iso_millis
from service.web.urls import RouteUrls


def user_summary(user: UserSummary, urls: RouteUrls) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "url": urls.template("profile").format(username=user.username),
    }


def user(profile: Profile, urls: RouteUrls) -> dict[str, Any]:
    return {
        **user_summary(profile.summary, urls),
        "bio": profile.bio,
        "location": profile.location,
        "created_at": iso_millis(profile.created_at),
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
        "post_count": profile.post_count,
        "following": profile.following,
        "follows_you": profile.follows_you,
        "blocking": profile.blocking,
        "muting": profile.muting,
        "mute_expires_at": iso_millis(profile.mute_expires_at) if profile.mute_expires_at else None,
        "locked": profile.locked,
        "requested": profile.requested,
        "indexable": profile.indexable,
    }


def photo(view: PhotoView, urls: RouteUrls) -> dict[str, Any]:
    return {
        "url": view.url,
        "thumb_url": view.thumb_url,
        "width": view.width,
        "height": view.height,
        "alt": view.alt,
        # The widths for srcset, narrowest first (empty for a photo processed before there
        # were any, until they are made), and a BlurHash to show while the photo loads.
        "renditions": [
            {
                "url": item.url,
                "width": item.width,
                "height": item.height,
                "type": item.content_type,
            }
            for item in view.renditions
        ],
        "blurhash": view.blurhash,
    }


def post(view: PostView, urls: RouteUrls) -> dict[str, Any]:
    created_at = iso_millis(view.created_at)
    # A text post is published as it is created: the same moment, formatted once.
    published_at = view.published_at and (
        created_at if view.published_at == view.created_at else iso_millis(view.published_at)
    )
    return {
        "id": view.id,
        "url": urls.template("post").format(id=view.id),
        "author": user_summary(view.author, urls),
        "body": view.body,
        "created_at": created_at,
        "published_at": published_at,
        "status": view.status,
        "photos": [photo(item, urls) for item in view.photos],
        "like_count": view.like_count,
        "comment_count": view.comment_count,
        "views": view.views,
        "liked": view.liked,
        "sensitive": view.sensitive,
        "audience": view.audience,
        "tags": tags(view.body, urls),
        "mentions": mentions(view.mention_names, view.mention_ids, urls),
    }


def tags(body: str, urls: RouteUrls) -> list[dict[str, Any]]:
    """The hashtags of a text, each once, by normalised name, with their pages."""
    template = urls.template("tag")
    return [
        {"name": name, "url": template.format(tag=quote(name, safe=""))}
        for name, _ in discovery.find(body).tags
    ]


def tag(view: TagView, urls: RouteUrls) -> dict[str, Any]:
    """A hashtag: its normalised name, as first written, its page, its published posts,
    and whether the viewer follows it."""
    return {
        "name": view.name,
        "display": view.display,
        "url": urls.template("tag").format(tag=quote(view.name, safe="")),
        "post_count": view.post_count,
        "following": view.following,
    }


def mentions(names: Sequence[str], ids: Sequence[int], urls: RouteUrls) -> list[dict[str, Any]]:
    """The accounts a text mentions (resolved when it was written), in order."""
    template = urls.template("profile")
    return [
        {"id": user_id, "username": name, "url": template.format(username=name)}
        for name, user_id in zip(names, ids, strict=True)
    ]


def relationship(item: Relationship, urls: RouteUrls) -> dict[str, Any]:
    return {"user": user_summary(item.user, urls), "since": iso_millis(item.since)}


def comment(view: CommentView, urls: RouteUrls) -> dict[str, Any]:
    return {
        "id": view.id,
        "post_id": view.post_id,
        "author": user_summary(view.author, urls),
        "body": view.body,
        "created_at": iso_millis(view.created_at),
        "tags": tags(view.body, urls),
        "mentions": mentions(view.mention_names, view.mention_ids, urls),
    }


def notification(view: NotificationView, urls: RouteUrls) -> dict[str, Any]:
    return {
        "id": view.id,
        "kind": view.kind,
        "actor": user_summary(view.actor, urls),
        "post_id": view.post_id,
        "comment_id": view.comment_id,
        "created_at": iso_millis(view.created_at),
        "read": view.read,
    }


def found_tag(view: TagView, urls: RouteUrls) -> dict[str, Any]:
    """A tag a search found: its name, display form, page and published posts."""
    return {
        "name": view.name,
        "display": view.display,
        "url": urls.template("tag").format(tag=quote(view.name, safe="")),
        "post_count": view.post_count,
    }
