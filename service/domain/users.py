"""Users as others see them: summaries for lists, profiles with counts and relationship."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.accounts import USERNAME_PATTERN
from service.models import Avatar, Follow, User

# Avatar sizes stored per upload: lists show 40 px (64 covers 1.5x screens), profiles 96 px.
AVATAR_SMALL = "64"
AVATAR_LARGE = "400"


def avatar_url(username: str, avatar_key: str | None = None) -> str:
    """The uploaded avatar (``avatar_key``, its stored object) when there is one, through
    ``/media/`` (a stable URL: a file for local storage, a short redirect for S3). Until
    then a generated identicon, served by us (no third party learns who looks at which
    profile)."""
    if avatar_key:
        return f"/media/{avatar_key}"
    return _identicon_url(username)


@functools.lru_cache(maxsize=4096)
def _identicon_url(username: str) -> str:
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:16]
    return f"/identicons/{digest}.svg"


def avatar_key_of(user_id: ColumnElement[int], size: str = AVATAR_SMALL) -> ScalarSelect:
    """The stored avatar of the user in ``user_id``, as a column of the caller's query (so
    a list of users costs no extra query), or NULL."""
    return (
        select(Avatar.key_prefix + f"/{size}." + Avatar.extension)
        .where(Avatar.user_id == user_id, Avatar.key_prefix.is_not(None))
        .scalar_subquery()
    )


class UserSummary(NamedTuple):
    id: int
    username: str
    display_name: str
    avatar_url: str

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @classmethod
    def of(
        cls, user_id: int, username: str, display_name: str, avatar_key: str | None = None
    ) -> UserSummary:
        return cls(user_id, username, display_name, avatar_url(username, avatar_key))


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


def _could_exist(username: str) -> bool:
    """Names that break the username rules (a NUL byte, say) are nobody's: answer that
    without asking PostgreSQL, which would reject some of them as an error."""
    return USERNAME_PATTERN.match(username) is not None


async def user_id_by_username(session: AsyncSession, username: str) -> int | None:
    if not _could_exist(username):
        return None
    return await session.scalar(
        select(User.id).where(func.lower(User.username) == username.lower())
    )


async def profile(session: AsyncSession, username: str, viewer_id: int | None) -> Profile | None:
    """One query: the user, their counters, and both directions of the relationship."""
    if not _could_exist(username):
        return None
    viewer = viewer_id if viewer_id is not None else -1
    following = exists().where(Follow.follower_id == viewer, Follow.followed_id == User.id)
    follows_you = exists().where(Follow.follower_id == User.id, Follow.followed_id == viewer)
    avatar = avatar_key_of(User.id, AVATAR_LARGE)
    row = (
        await session.execute(
            select(
                User, following.label("following"), follows_you.label("follows_you"), avatar
            ).where(func.lower(User.username) == username.lower())
        )
    ).one_or_none()
    if row is None:
        return None
    user, is_following, is_followed, avatar_key = row
    return Profile(
        summary=UserSummary.of(user.id, user.username, user.display_name, avatar_key),
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
