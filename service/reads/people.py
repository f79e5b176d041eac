"""People: who is signed in, profiles, who follows whom, and the admin's list of accounts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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
    RelationshipFlags,
    SessionUser,
    UserSummary,
)
from service.reads.visibility import (
    person_visible,
    person_visible_to,
    post_visible_to,
    profile_visible_to,
)


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
           u.email_confirmed_at IS NOT NULL AS is_confirmed, u.default_audience, u.locked,
           u.language, s.expires_at
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


# The user named $1 (in any case), if viewer $2 may look them up.
USER_ID_BY_NAME = register(
    "user_id_by_name",
    f"""
    SELECT u.id FROM users u
     WHERE lower(u.username) = lower($1) AND {person_visible("u")}
       AND {profile_visible_to("u", "$2")}
    """,
)


async def user_id_by_name(reader: Reader, username: str, viewer_id: int | None) -> int | None:
    """The user's id, if the viewer may look them up. Commands pass no viewer: whether one
    may act on the account is theirs to say (a blocked person is told they cannot follow)."""
    if not could_be_username(username):
        return None
    return await reader.value(USER_ID_BY_NAME, username, viewer_id)


def _relationship_columns(viewer: str) -> str:
    """Both directions of the relationship between user ``u`` and the viewer: follows,
    blocks, the viewer's mute of them while it lasts (with its end, NULL if none), and
    pending follow requests."""
    return f"""EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = {viewer} AND f.followed_id = u.id) AS following,
           EXISTS (SELECT FROM follows f
                    WHERE f.follower_id = u.id AND f.followed_id = {viewer}) AS follows_you,
           EXISTS (SELECT FROM blocks b
                    WHERE b.blocker_id = {viewer} AND b.blocked_id = u.id) AS blocking,
           EXISTS (SELECT FROM blocks b
                    WHERE b.blocker_id = u.id AND b.blocked_id = {viewer}) AS blocked_by,
           mute.muting, mute.expires_at AS mute_expires_at,
           EXISTS (SELECT FROM follow_requests q
                    WHERE q.requester_id = {viewer} AND q.target_id = u.id) AS requested,
           EXISTS (SELECT FROM follow_requests q
                    WHERE q.requester_id = u.id AND q.target_id = {viewer}) AS requested_by"""


def _mute_of(viewer: str) -> str:
    """The viewer's mute of user ``u`` while it lasts, as one row (false and NULL without)."""
    return f"""LEFT JOIN LATERAL (
           SELECT true AS muting, m.expires_at FROM mutes m
            WHERE m.muter_id = {viewer} AND m.muted_id = u.id
              AND (m.expires_at IS NULL OR m.expires_at > now())) AS mute ON true"""


# What a profile shows of user ``u`` to viewer {viewer}: their counters and large avatar,
# and their relationship with the viewer.
def _profile_columns(viewer: str) -> str:
    return f"""u.id, u.username, u.display_name,
           {avatar_key("u.id", AVATAR_LARGE)} AS avatar_key,
           u.bio, u.location, u.created_at, u.post_count, u.followers_count, u.following_count,
           u.locked, {_relationship_columns(viewer)}, u.indexable"""


# The user named $1 (in any case), as viewer $2 sees them.
PROFILE = register(
    "profile",
    f"""
    SELECT {_profile_columns("$2")}
      FROM users u
      {_mute_of("$2")}
     WHERE lower(u.username) = lower($1) AND {person_visible("u")}
       AND {profile_visible_to("u", "$2")}
    """,
)

# The users with ids $2, in that order, as viewer $1 sees them.
PROFILES_BY_ID = register(
    "profiles_by_id",
    f"""
    SELECT {_profile_columns("$1")}
      FROM unnest($2::bigint[]) WITH ORDINALITY AS asked(id, position)
      JOIN users u ON u.id = asked.id
      {_mute_of("$1")}
     WHERE {person_visible("u")} AND {profile_visible_to("u", "$1")}
     ORDER BY asked.position
    """,
)


def _profile(row, viewer_id: int | None) -> Profile:
    user_id, username, display_name, key, *counts = row[:10]
    locked, following, follows_you, blocking, _, muting, mute_expires_at = row[10:17]
    requested, requested_by, indexable = row[17:20]
    return Profile(
        UserSummary.of(user_id, username, display_name, key),
        *counts,
        following=following,
        follows_you=follows_you,
        is_viewer=user_id == viewer_id,
        blocking=blocking,
        muting=bool(muting),
        mute_expires_at=mute_expires_at,
        locked=locked,
        requested=requested,
        requested_by=requested_by,
        indexable=indexable,
    )


# Viewer $1's relationship with each of the users with ids $2 who exist and are not
# suspended, in that order: the Mastodon API's Relationship, which tells a blocked person
# that they are (as the refusal of a follow would). It shows nothing of the person.
RELATIONSHIPS_BY_ID = register(
    "relationships_by_id",
    f"""
    SELECT u.id, {_relationship_columns("$1")}
      FROM unnest($2::bigint[]) WITH ORDINALITY AS asked(id, position)
      JOIN users u ON u.id = asked.id
      {_mute_of("$1")}
     WHERE {person_visible("u")}
     ORDER BY asked.position
    """,
)


async def relationships_by_id(
    reader: Reader, user_ids: Sequence[int], viewer_id: int
) -> list[RelationshipFlags]:
    if not user_ids:
        return []
    rows = await reader.rows(RELATIONSHIPS_BY_ID, viewer_id, list(user_ids))
    return [
        RelationshipFlags(
            user_id, following, follows_you, blocking, blocked_by, bool(muting),
            requested, requested_by,
        )
        for (
            user_id, following, follows_you, blocking, blocked_by, muting, _,
            requested, requested_by,
        ) in rows
    ]  # fmt: skip


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


def _seen_in_lists(user: str) -> str:
    return f"{person_visible(user)} AND {person_visible_to(user, '$4')}"


def _own_requests(user: str) -> str:
    """The requests to one's own private account: only to their owner (viewer $4 is $1),
    without those hidden from them (a requester suspended or leaving)."""
    return f"{person_visible(user)} AND {person_visible_to(user, '$4')} AND $4::bigint = $1"


def _anyone(user: str) -> str:
    """In one's own lists of blocks and mutes, everyone not suspended; and only to their
    owner (viewer $4 is $1)."""
    return f"{person_visible(user)} AND $4::bigint = $1"


@dataclasses.dataclass(frozen=True)
class _List:
    """A list of people kept in one table: whose list it is (``mine``), who is in it
    (``theirs``), and which of them viewer $4 may see there."""

    table: str
    mine: str
    theirs: str
    shown: Callable[[str], str]
    extra: str = "NULL::timestamptz"  # what the list tells of each besides since when
    lasting: str = "true"  # which rows count still


_LISTS = {
    # The viewer ($4) sees in them the people not hidden from them.
    "followers": _List("follows", "followed_id", "follower_id", _seen_in_lists),
    "following": _List("follows", "follower_id", "followed_id", _seen_in_lists),
    "blocks": _List("blocks", "blocker_id", "blocked_id", _anyone),
    "follow_requests": _List("follow_requests", "target_id", "requester_id", _own_requests),
    "mutes": _List(
        "mutes", "muter_id", "muted_id", _anyone, "r.expires_at",
        "(r.expires_at IS NULL OR r.expires_at > now())",
    ),
}  # fmt: skip


def _relationships(kind: _List, order: str = "DESC"):
    # Newest relationship first (or, ASC, oldest first), past the position ($2 time, $3 id)
    # of user $1's list.
    past = "<" if order == "DESC" else ">"

    def build(rows: int) -> str:
        return f"""
    SELECT r.created_at, u.id, u.username, u.display_name, {avatar_key("u.id")} AS avatar_key,
           {kind.extra} AS until
      FROM {kind.table} r JOIN users u ON u.id = r.{kind.theirs}
     WHERE r.{kind.mine} = $1 AND {kind.lasting} AND {kind.shown("u")}
       AND (r.created_at, r.{kind.theirs}) {past} ($2, $3)
     ORDER BY r.created_at {order}, r.{kind.theirs} {order}
     LIMIT {rows}
    """

    return build


# Each list, and the same read the other way, for the Mastodon API's ``min_id``.
LISTS = {
    name: {
        "DESC": register_paged(name, _relationships(kind)),
        "ASC": register_paged(f"{name}_oldest", _relationships(kind, "ASC")),
    }
    for name, kind in _LISTS.items()
}


def _relationship(row) -> Relationship:
    since, user_id, username, display_name, key, until = row
    return Relationship(UserSummary.of(user_id, username, display_name, key), since, until)


async def relationships(
    reader: Reader,
    user_id: int,
    direction: str,
    after: Position | None,
    limit: int,
    viewer_id: int | None,
) -> Page[Relationship]:
    """``followers``: who follows ``user_id``; ``following``: whom they follow, as the viewer
    may see them; ``blocks``, ``mutes``: whom they blocked, or muted; ``follow_requests``:
    who asks to follow them (their own lists)."""
    statement = LISTS[direction]["DESC"].rows(limit + 1)
    start = after or NEWEST_FIRST
    rows = await reader.rows(statement, user_id, start.at, start.id, viewer_id)
    return page_of([_relationship(row) for row in rows], limit)


async def relationships_between(
    reader: Reader,
    user_id: int,
    direction: str,
    before: Position,
    after: Position,
    oldest_first: bool,
    limit: int,
    viewer_id: int | None,
) -> list[Relationship]:
    """Up to ``limit`` of ``user_id``'s followers (or another list) whose relationship lies
    strictly between the positions ``after`` (older) and ``before`` (newer): the newest of
    them, or with ``oldest_first`` the oldest; newest first either way."""
    if oldest_first:
        statement = LISTS[direction]["ASC"].rows(limit)
        rows = await reader.rows(statement, user_id, after.at, after.id, viewer_id)
        found = [_relationship(row) for row in rows if (row[0], row[1]) < (before.at, before.id)]
        return found[::-1]
    statement = LISTS[direction]["DESC"].rows(limit)
    rows = await reader.rows(statement, user_id, before.at, before.id, viewer_id)
    return [_relationship(row) for row in rows if (row[0], row[1]) > (after.at, after.id)]


# How many people ask to follow user $1 whom they may see: the badge of their list.
FOLLOW_REQUEST_COUNT = register(
    "follow_request_count",
    f"""
    SELECT count(*)
      FROM follow_requests r JOIN users u ON u.id = r.requester_id
     WHERE r.target_id = $1 AND {person_visible("u")} AND {person_visible_to("u", "$1")}
    """,
)


async def follow_request_count(reader: Reader, user_id: int) -> int:
    return await reader.value(FOLLOW_REQUEST_COUNT, user_id)


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
       AND {person_visible_to("u", "$1")}
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


# People search. A search and every name are compared in one form (the SQL function
# search_form of migration 0020: NFKC, accents removed, lower case), so "Ålice" finds
# "alice", and so does her name typed in full-width letters. The search is a LIKE pattern
# with its wildcards escaped: usernames are full of underscores.
# Each a sub-select: worked out once per statement (an InitPlan), not for every name it is
# compared with, as a function of a parameter is under the generic plans the read pool uses
# (a one-letter search, which compares with every name, took 110 ms, now 30).
_ASKED = "(SELECT search_form($2))"
_ASKED_LITERALLY = (
    "(SELECT replace(replace(replace(search_form($2), '\\', '\\\\'), '%', '\\%'), '_', '\\_'))"
)
# A search matches anywhere in a name (Chinese, Japanese and Korean names have no spaces
# between words: "小明" is in "王小明"); from three characters on, when fewer names than the
# page needs contain it, near misses too (pg_trgm's word similarity: "lindqvist" finds "Bo
# Lindquist"). Both are answered by the trigram index ix_users_search_name. Names that
# start with it, or have a word that does, rank first. Near misses are left out when enough
# names contain the search: a near miss of a common start ("user012" among thousands of
# "user0...") is nearly every name, each one's similarity worked out and ranked (90 ms at
# 10,000 accounts, where the names containing it take 2); the search for near misses is
# then a NULL, which the index answers with nothing.
SEARCH_MIN_FUZZY_CHARS = 3


def _matches(rows: int) -> str:
    near_misses_wanted = f"""(SELECT CASE
               WHEN char_length(search_form($2)) >= {SEARCH_MIN_FUZZY_CHARS}
                AND (SELECT count(*)
                       FROM (SELECT FROM users n
                              WHERE n.search_name LIKE '%' || {_ASKED_LITERALLY} || '%'
                              LIMIT $3 + {rows}) AS containing) < $3 + {rows}
               THEN search_form($2) END)"""
    return f"""(u.search_name LIKE '%' || {_ASKED_LITERALLY} || '%'
             OR {near_misses_wanted} <% u.search_name)"""


def _search_people(rows: int) -> str:
    """People matching the search $2 as viewer $1 sees them, skipping the first $3, and
    only those the viewer follows when $4: the username itself first, then names that start
    with it, then names with a word that does, then the closest, then the most followed."""
    return f"""
    SELECT {_profile_columns("$1")}
      FROM users u
      {_mute_of("$1")}
     WHERE {_matches(rows)}
       AND (NOT $4::boolean OR EXISTS (SELECT FROM follows f
                                        WHERE f.follower_id = $1 AND f.followed_id = u.id))
       AND {person_visible("u")} AND {person_visible_to("u", "$1")}
     ORDER BY lower(u.username) = {_ASKED} DESC,
              u.search_name LIKE {_ASKED_LITERALLY} || '%' DESC,
              u.search_name LIKE '% ' || {_ASKED_LITERALLY} || '%' DESC,
              word_similarity({_ASKED}, u.search_name) DESC,
              u.followers_count DESC, u.id
     LIMIT {rows} OFFSET $3
    """


SEARCH_PEOPLE = register_paged("search_people", _search_people)
# How far into the results a search may page: past this, the matches are too loose to use.
MAX_SEARCH_OFFSET = 200
# The longest search taken; longer ones are cut here.
MAX_SEARCH_CHARS = 100


async def search_people(
    reader: Reader,
    query: str,
    viewer_id: int | None,
    offset: int,
    limit: int,
    following_only: bool = False,
) -> list[Profile]:
    """Up to ``limit`` people matching ``query``, best first, from ``offset``: none for a
    search of nothing but spaces or past ``MAX_SEARCH_OFFSET``."""
    query = query.strip()[:MAX_SEARCH_CHARS]
    if not query or "\0" in query or offset > MAX_SEARCH_OFFSET:
        return []
    if following_only and viewer_id is None:
        return []
    rows = await reader.rows(SEARCH_PEOPLE.rows(limit), viewer_id, query, offset, following_only)
    return [_profile(row, viewer_id) for row in rows]


# People suggested at once as a username is typed after "@" (docs/discovery.md).
MAX_SUGGESTIONS = 6


async def mention_suggestions(
    reader: Reader, typed: str, viewer_id: int, limit: int = MAX_SUGGESTIONS
) -> list[UserSummary]:
    """Up to ``limit`` people to mention for ``@typed``: the one whose username it is, then
    people the viewer follows, then anyone, each best first as the people search ranks
    them (whose visibility rule holds here too), and never the viewer."""
    followed = await search_people(reader, typed, viewer_id, 0, limit + 1, following_only=True)
    anyone = await search_people(reader, typed, viewer_id, 0, limit + 1)
    named = [p for p in anyone if p.summary.username.lower() == typed.lower()]
    ranked: dict[int, UserSummary] = {}
    for found in (*named, *followed, *anyone):
        if found.summary.id != viewer_id:
            ranked.setdefault(found.summary.id, found.summary)
    return list(ranked.values())[:limit]
