"""Users as others see them: summaries for lists, profiles with counts and relationship."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Follow, User


def avatar_url(username: str) -> str:
    """Until a photo is uploaded: a generated identicon, served by us (no third party learns
    who looks at which profile)."""
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:16]
    return f"/identicons/{digest}.svg"


@dataclasses.dataclass(frozen=True)
class UserSummary:
    id: int
    username: str
    display_name: str
    avatar_url: str

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @classmethod
    def of(cls, user_id: int, username: str, display_name: str) -> UserSummary:
        return cls(user_id, username, display_name, avatar_url(username))


@dataclasses.dataclass(frozen=True)
class Profile:
    summary: UserSummary
    bio: str
    location: str
    created_at: datetime
    post_count: int
    followers_count: int
    following_count: int
    following: bool  # the viewer follows them
    follows_you: bool  # they follow the viewer
    is_viewer: bool


async def user_id_by_username(session: AsyncSession, username: str) -> int | None:
    return await session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower())
    )


async def profile(session: AsyncSession, username: str, viewer_id: int | None) -> Profile | None:
    """One query: the user, their counters, and both directions of the relationship."""
    viewer = viewer_id if viewer_id is not None else -1
    following = exists().where(Follow.follower_id == viewer, Follow.followed_id == User.id)
    follows_you = exists().where(Follow.follower_id == User.id, Follow.followed_id == viewer)
    row = (
        await session.execute(
            select(User, following.label("following"), follows_you.label("follows_you")).where(
                func.lower(User.username) == username.lower()
            )
        )
    ).one_or_none()
    if row is None:
        return None
    user, is_following, is_followed = row
    return Profile(
        summary=UserSummary.of(user.id, user.username, user.display_name),
        bio=user.bio,
        location=user.location,
        created_at=user.created_at,
        post_count=user.post_count,
        followers_count=user.followers_count,
        following_count=user.following_count,
        following=bool(is_following),
        follows_you=bool(is_followed),
        is_viewer=user.id == viewer_id,
    )
