"""The JSON shapes of SPEC §4, built from domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.domain.comments import CommentView
from service.domain.follows import Relationship
from service.domain.notifications import NotificationView
from service.domain.posts import PhotoView, PostView
from service.domain.users import Profile, UserSummary


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond, with a Z. Formatted field by field: a page shows
    two for each post, and isoformat costs several times more."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}"
        f":{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def user_summary(user: UserSummary) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "url": f"/@{user.username}",
    }


def user(profile: Profile) -> dict[str, Any]:
    return {
        **user_summary(profile.summary),
        "bio": profile.bio,
        "location": profile.location,
        "created_at": iso(profile.created_at),
        "followers_count": profile.followers_count,
        "following_count": profile.following_count,
        "post_count": profile.post_count,
        "following": profile.following,
        "follows_you": profile.follows_you,
    }


def photo(view: PhotoView) -> dict[str, Any]:
    return {
        "url": view.url,
        "thumb_url": view.thumb_url,
        "width": view.width,
        "height": view.height,
        "alt": view.alt,
    }


def post(view: PostView) -> dict[str, Any]:
    return {
        "id": view.id,
        "url": f"/p/{view.id}",
        "author": user_summary(view.author),
        "body": view.body,
        "created_at": iso(view.created_at),
        "published_at": iso(view.published_at) if view.published_at else None,
        "status": view.status,
        "photos": [photo(item) for item in view.photos],
        "like_count": view.like_count,
        "comment_count": view.comment_count,
        "liked": view.liked,
    }


def relationship(item: Relationship) -> dict[str, Any]:
    return {"user": user_summary(item.user), "since": iso(item.since)}


def comment(view: CommentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "post_id": view.post_id,
        "author": user_summary(view.author),
        "body": view.body,
        "created_at": iso(view.created_at),
    }


def notification(view: NotificationView) -> dict[str, Any]:
    return {
        "id": view.id,
        "kind": view.kind,
        "actor": user_summary(view.actor),
        "post_id": view.post_id,
        "created_at": iso(view.created_at),
        "read": view.read,
    }
