"""Users as others see them: summaries for lists, profiles with counts and relationship."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from datetime import datetime
from typing import NamedTuple

import asyncpg
from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.accounts import USERNAME_PATTERN
from service.models import Avatar, User

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


# The user named $1 (in any case), their counters and large avatar, and both directions of
# their relationship with viewer $2.
_PROFILE = f"""
    SELECT u.id, u.username, u.display_name,
           (SELECT a.key_prefix || '/{AVATAR_LARGE}.' || a.extension
              FROM avatars a
             WHERE a.user_id = u.id AND a.key_prefix IS NOT NULL) AS avatar_key,
           u.bio, u.location, u.created_at, u.post_count, u.followers_count, u.following_count,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = $2 AND f.followed_id = u.id) AS following,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = u.id AND f.followed_id = $2) AS follows_you
      FROM users u
     WHERE lower(u.username) = lower($1)
"""


async def profile(
    connection: asyncpg.Connection, username: str, viewer_id: int | None
) -> Profile | None:
    """One statement (a page's read, see db.create_read_pool): the user, their counters,
    and both directions of the relationship."""
    if not _could_exist(username):
        return None
    row = await connection.fetchrow(_PROFILE, username, viewer_id)
    if row is None:
        return None
    return Profile(
        summary=UserSummary.of(row["id"], row["username"], row["display_name"], row["avatar_key"]),
        bio=row["bio"],
        location=row["location"],
        created_at=row["created_at"],
        post_count=row["post_count"],
        followers_count=row["followers_count"],
        following_count=row["following_count"],
        following=row["following"],
        follows_you=row["follows_you"],
        is_viewer=row["id"] == viewer_id,
    )
