"""People: who is signed in, profiles, who follows whom, and the admin's list of accounts."""

from __future__ import annotations

from datetime import datetime

from service.cursor import Position
from service.models import USERNAME_PATTERN
from service.reads.paging import NEWEST_FIRST, page_of
from service.reads.statements import Reader, register, register_paged
from service.reads.views import (
    AVATAR_LARGE,
    AVATAR_SMALL,
    AccountView,
    Page,
    Profile,
    Relationship,
    SessionUser,
    UserSummary,
)
from service.reads.visibility import person_visible


def could_be_username(name: str) -> bool:
    """A name that breaks the username rule is nobody's: answered without asking
    PostgreSQL, which rejects some of them (a NUL byte) as an error."""
    return USERNAME_PATTERN.fullmatch(name) is not None


def avatar_key(user_id: str, size: str = AVATAR_SMALL) -> str:
    """An expression for the stored object of the avatar of the user whose id is the
    expression ``user_id``, in ``size``, or NULL while they have none: one index lookup,
    so a list of people costs no extra statement."""
    return f"""(SELECT a.key_prefix || '/{size}.' || a.extension
              FROM avatars a
             WHERE a.user_id = {user_id} AND a.key_prefix IS NOT NULL)"""


# The user behind the live (unexpired) session whose id hashes to $1.
SESSION_USER = register(
    "session_user",
    f"""
    SELECT u.id, u.username, u.display_name, u.email, u.role,
           u.email_confirmed_at IS NOT NULL AS is_confirmed, s.expires_at
      FROM auth_sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND {person_visible("u")}
    """,
)


async def session_user(reader: Reader, session_hash: bytes) -> tuple[SessionUser, datetime] | None:
    """The session's user, and when the session expires."""
    row = await reader.row(SESSION_USER, session_hash)
    if row is None:
        return None
    *user, expires_at = row
    return SessionUser(*user), expires_at


USER_ID_BY_NAME = register(
    "user_id_by_name",
    f"SELECT u.id FROM users u WHERE lower(u.username) = lower($1) AND {person_visible('u')}",
)


async def user_id_by_name(reader: Reader, username: str) -> int | None:
    if not could_be_username(username):
        return None
    return await reader.value(USER_ID_BY_NAME, username)


# The user named $1 (in any case), their counters and large avatar, and both directions of
# their relationship with viewer $2.
PROFILE = register(
    "profile",
    f"""
    SELECT u.id, u.username, u.display_name, {avatar_key("u.id", AVATAR_LARGE)} AS avatar_key,
           u.bio, u.location, u.created_at, u.post_count, u.followers_count, u.following_count,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = $2 AND f.followed_id = u.id) AS following,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = u.id AND f.followed_id = $2) AS follows_you
      FROM users u
     WHERE lower(u.username) = lower($1) AND {person_visible("u")}
    """,
)


async def profile(reader: Reader, username: str, viewer_id: int | None) -> Profile | None:
    if not could_be_username(username):
        return None
    row = await reader.row(PROFILE, username, viewer_id)
    if row is None:
        return None
    user_id, username, display_name, key, *counts, following, follows_you = row
    return Profile(
        UserSummary.of(user_id, username, display_name, key),
        *counts,
        following=following,
        follows_you=follows_you,
        is_viewer=user_id == viewer_id,
    )


def _relationships(mine: str, theirs: str):
    # Newest relationship first, after the position ($2 time, $3 id) of user $1's list.
    def build(rows: int) -> str:
        return f"""
    SELECT f.created_at, u.id, u.username, u.display_name, {avatar_key("u.id")} AS avatar_key
      FROM follows f JOIN users u ON u.id = f.{theirs}
     WHERE f.{mine} = $1 AND {person_visible("u")}
       AND (f.created_at, f.{theirs}) < ($2, $3)
     ORDER BY f.created_at DESC, f.{theirs} DESC
     LIMIT {rows}
    """

    return build


FOLLOWERS = register_paged("followers", _relationships("followed_id", "follower_id"))
FOLLOWING = register_paged("following", _relationships("follower_id", "followed_id"))


def _relationship(row) -> Relationship:
    since, user_id, username, display_name, key = row
    return Relationship(UserSummary.of(user_id, username, display_name, key), since)


async def relationships(
    reader: Reader, user_id: int, direction: str, after: Position | None, limit: int
) -> Page[Relationship]:
    """``followers``: who follows ``user_id``; ``following``: whom they follow."""
    statement = (FOLLOWERS if direction == "followers" else FOLLOWING).rows(limit + 1)
    start = after or NEWEST_FIRST
    rows = await reader.rows(statement, user_id, start.at, start.id)
    return page_of([_relationship(row) for row in rows], limit)


# Newest accounts first, suspended ones too: for admins, who lift suspensions.
ACCOUNTS = register_paged(
    "accounts",
    lambda rows: (
        f"""
    SELECT id, username, email, role, created_at, email_confirmed_at IS NOT NULL,
           suspended_at IS NOT NULL
      FROM users
     WHERE (created_at, id) < ($1, $2)
     ORDER BY created_at DESC, id DESC
     LIMIT {rows}
    """
    ),
)


async def accounts(reader: Reader, after: Position | None, limit: int) -> Page[AccountView]:
    start = after or NEWEST_FIRST
    rows = await reader.rows(ACCOUNTS.rows(limit + 1), start.at, start.id)
    return page_of([AccountView(*row) for row in rows], limit)
