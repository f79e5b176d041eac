"""People: who is signed in, profiles, who follows whom, and the admin's list of accounts."""

from __future__ import annotations

from collections.abc import Sequence
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
from service.reads.visibility import person_visible, post_visible_to


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


# What a profile shows of user ``u`` to viewer {viewer}: their counters and large avatar,
# and both directions of their relationship with the viewer.
def _profile_columns(viewer: str) -> str:
    return f"""u.id, u.username, u.display_name,
           {avatar_key("u.id", AVATAR_LARGE)} AS avatar_key,
           u.bio, u.location, u.created_at, u.post_count, u.followers_count, u.following_count,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = {viewer} AND f.followed_id = u.id) AS following,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = u.id AND f.followed_id = {viewer}) AS follows_you"""


# The user named $1 (in any case), as viewer $2 sees them.
PROFILE = register(
    "profile",
    f"""
    SELECT {_profile_columns("$2")}
      FROM users u
     WHERE lower(u.username) = lower($1) AND {person_visible("u")}
    """,
)

# The users with ids $2, in that order, as viewer $1 sees them.
PROFILES_BY_ID = register(
    "profiles_by_id",
    f"""
    SELECT {_profile_columns("$1")}
      FROM unnest($2::bigint[]) WITH ORDINALITY AS asked(id, position)
      JOIN users u ON u.id = asked.id
     WHERE {person_visible("u")}
     ORDER BY asked.position
    """,
)


def _profile(row, viewer_id: int | None) -> Profile:
    user_id, username, display_name, key, *counts, following, follows_you = row
    return Profile(
        UserSummary.of(user_id, username, display_name, key),
        *counts,
        following=following,
        follows_you=follows_you,
        is_viewer=user_id == viewer_id,
    )


async def profile(reader: Reader, username: str, viewer_id: int | None) -> Profile | None:
    if not could_be_username(username):
        return None
    row = await reader.row(PROFILE, username, viewer_id)
    return None if row is None else _profile(row, viewer_id)


async def profiles_by_id(
    reader: Reader, user_ids: Sequence[int], viewer_id: int | None
) -> list[Profile]:
    """The users with ``user_ids`` that may be seen, in that order."""
    if not user_ids:
        return []
    rows = await reader.rows(PROFILES_BY_ID, viewer_id, list(user_ids))
    return [_profile(row, viewer_id) for row in rows]


def _relationships(mine: str, theirs: str, order: str = "DESC"):
    # Newest relationship first (or, ASC, oldest first), past the position ($2 time, $3 id)
    # of user $1's list.
    past = "<" if order == "DESC" else ">"

    def build(rows: int) -> str:
        return f"""
    SELECT f.created_at, u.id, u.username, u.display_name, {avatar_key("u.id")} AS avatar_key
      FROM follows f JOIN users u ON u.id = f.{theirs}
     WHERE f.{mine} = $1 AND {person_visible("u")}
       AND (f.created_at, f.{theirs}) {past} ($2, $3)
     ORDER BY f.created_at {order}, f.{theirs} {order}
     LIMIT {rows}
    """

    return build


FOLLOWERS = register_paged("followers", _relationships("followed_id", "follower_id"))
FOLLOWING = register_paged("following", _relationships("follower_id", "followed_id"))
# The same lists read the other way, for the Mastodon API's ``min_id``.
FOLLOWERS_OLDEST = register_paged(
    "followers_oldest", _relationships("followed_id", "follower_id", "ASC")
)
FOLLOWING_OLDEST = register_paged(
    "following_oldest", _relationships("follower_id", "followed_id", "ASC")
)


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


async def relationships_between(
    reader: Reader,
    user_id: int,
    direction: str,
    before: Position,
    after: Position,
    oldest_first: bool,
    limit: int,
) -> list[Relationship]:
    """Up to ``limit`` of ``user_id``'s followers (or following) whose relationship lies
    strictly between the positions ``after`` (older) and ``before`` (newer): the newest of
    them, or with ``oldest_first`` the oldest; newest first either way."""
    if oldest_first:
        statement = FOLLOWERS_OLDEST if direction == "followers" else FOLLOWING_OLDEST
        rows = await reader.rows(statement.rows(limit), user_id, after.at, after.id)
        found = [_relationship(row) for row in rows if (row[0], row[1]) < (before.at, before.id)]
        return found[::-1]
    statement = FOLLOWERS if direction == "followers" else FOLLOWING
    rows = await reader.rows(statement.rows(limit), user_id, before.at, before.id)
    return [_relationship(row) for row in rows if (row[0], row[1]) > (after.at, after.id)]


# The people who liked post $2, if viewer $1 may see it, by account id from below $4 down
# to above $3 (or, in the _oldest statement, up from above $3).
def _likers(order: str):
    def build(rows: int) -> str:
        return f"""
    SELECT u.id, u.username, u.display_name, {avatar_key("u.id")} AS avatar_key
      FROM likes l
      JOIN posts p ON p.id = l.post_id
      JOIN users u ON u.id = l.user_id
     WHERE l.post_id = $2 AND {post_visible_to("p", "$1")} AND {person_visible("u")}
       AND l.user_id > $3 AND l.user_id < $4
     ORDER BY l.user_id {order}
     LIMIT {rows}
    """

    return build


LIKERS = {
    "DESC": register_paged("likers", _likers("DESC"), shows_posts=True),
    "ASC": register_paged("likers_oldest", _likers("ASC"), shows_posts=True),
}


async def likers(
    reader: Reader,
    post_id: int,
    viewer_id: int | None,
    above: int,
    below: int,
    oldest_first: bool,
    limit: int,
) -> list[UserSummary]:
    """Who liked the post, by account id, newest id first (see relationships_between)."""
    statement = LIKERS["ASC" if oldest_first else "DESC"].rows(limit)
    rows = await reader.rows(statement, viewer_id, post_id, above, below)
    found = [UserSummary.of(*row) for row in rows]
    return found[::-1] if oldest_first else found


# What the instance tells apps and other servers about itself: people who may be seen, and
# their published posts (by the counter kept on each person).
INSTANCE_COUNTS = register(
    "instance_counts",
    f"""
    SELECT count(*), coalesce(sum(u.post_count), 0)::bigint
      FROM users u
     WHERE {person_visible("u")}
    """,
)


async def instance_counts(reader: Reader) -> tuple[int, int]:
    """How many people, and how many posts they have published."""
    row = await reader.row(INSTANCE_COUNTS)
    return (row[0], row[1]) if row else (0, 0)


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
