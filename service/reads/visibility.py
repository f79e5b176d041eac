"""Who may see what: the one rule, as SQL every statement that shows posts or people is
built with.

A post may be seen by anyone once it is published, and by its author before that (while its
photos are processed, or after they failed), unless its author is hidden from the viewer.
Who is hidden from a viewer is decided by one fragment, ``_hidden_from``:

- a suspended person, one whose account is being deleted (in its grace period), and an
  applicant an admin has not approved yet (registration mode "approval"), from everyone;
- across a block, each from the other: the blocker sees nothing of whom they blocked and
  the blocked person nothing of the blocker (their posts, comments, likes, notifications,
  places in lists of people), and the blocked person cannot even look the blocker up: their
  profile is "no such user". The blocker still finds whom they blocked by name, to unblock;
- a person the viewer muted, until the mute expires: their posts, comments and
  notifications, but not their place in lists of people nor their profile. The muted
  person notices nothing: the rule reads only the viewer's own mutes.

Each post also has an audience (``posts.audience``, docs/privacy.md): "public" and
"unlisted" posts may be seen by anyone, "followers" posts only by their author and the
people who follow the author (a row of follows; a pending follow request is not one).
Unlisted posts are left off the lists of everyone's posts (explore, the Mastodon public
timeline, tag pages), which read only posts that are ``listed_publicly``; profiles, the
post page and followers' home timelines show them. Moderators see as anyone else does (the
moderation queue shows what was reported). A private account (``users.locked``) changes
who may follow, not this rule: its posts are seen by their audience, and are never public
(service/domain/posts.py).

The same rule, read the other way, is the counterpart for interactions: nothing can be done
to a post one may not see (likes.lock_published_post), and ``may_interact`` keeps two people
across a block from following each other (docs/moderation.md).

Every list, page, fragment, API answer and event reads through these conditions, so each
change of them reaches all at the same moment: tests/test_read_layer.py runs every
registered statement against a table of viewers and hidden posts and people, and
tests/test_audience.py every statement and route against each audience and kind of viewer;
they fail if one lets something hidden through or is not built with these rules.
"""

from __future__ import annotations

# Who is hidden from everyone: the suspended, and those leaving (their account is to be
# deleted when its grace period ends). A few, by id: the partial index ix_users_hidden
# holds only them.
_HIDDEN_ACCOUNT = "s.suspended_at IS NOT NULL OR s.deletion_due_at IS NOT NULL"
_HIDDEN_ACCOUNTS = f"SELECT s.id FROM users s WHERE {_HIDDEN_ACCOUNT}"
# Applicants waiting for an admin: the whole of a small table, read by its primary key.
_APPLICANTS = "SELECT a.user_id FROM account_applications a"


def _blocked_by(viewer: str) -> str:
    """Whom the viewer blocked (the primary key of blocks)."""
    return f"SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = {viewer}"


def _blockers_of(viewer: str) -> str:
    """Who blocked the viewer (ix_blocks_blocked_id)."""
    return f"SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = {viewer}"


def _muted_by(viewer: str) -> str:
    """Whom the viewer muted, while the mute lasts (the primary key of mutes)."""
    return (
        f"SELECT m.muted_id FROM mutes m WHERE m.muter_id = {viewer}"
        " AND (m.expires_at IS NULL OR m.expires_at > now())"
    )


# What a viewer may not see of a hidden person: what they wrote and did ("content"), their
# place in lists of people ("people"), or the person at all when looked up ("lookup").
_HIDDEN_SETS = {
    "content": (_blocked_by, _blockers_of, _muted_by),
    "people": (_blocked_by, _blockers_of),
    "lookup": (_blockers_of,),
}


def _hidden_from(viewer: str, what: str) -> str:
    """The ids of the people whose ``what`` the viewer (a placeholder such as ``$1``, or a
    column; NULL for someone not logged in, who is hidden from nobody) may not see.

    Small per-viewer sets, each read through an index: PostgreSQL reads their union once
    per statement into a hash (a hashed NOT IN over a subquery), so the rule costs one hash
    probe per row wherever it stands, however large the tables. None of the ids is NULL
    (every column is NOT NULL), which NOT IN needs to mean "not among"."""
    parts = [_HIDDEN_ACCOUNTS, _APPLICANTS, *(part(viewer) for part in _HIDDEN_SETS[what])]
    return "(" + " UNION ALL ".join(parts) + ")"


def _audience_admits(post: str, viewer: str) -> str:
    """The post's audience lets the viewer in: it is not for followers only, or the viewer
    is its author or follows them. One probe of follows' primary key, only for a
    followers-only post (most are public); OFFSET 0 keeps PostgreSQL from hashing
    everyone the viewer follows instead, before the first row (a cost that grows with the
    accounts followed, paid even where no post is for followers). Its alias is its own, so
    that a viewer named by a column of the enclosing statement (``f.follower_id``) is not
    taken for it."""
    return (
        f"({post}.audience <> 'followers' OR {post}.author_id = {viewer}"
        " OR EXISTS (SELECT FROM follows audience_follow"
        f" WHERE audience_follow.follower_id = {viewer}"
        f" AND audience_follow.followed_id = {post}.author_id OFFSET 0))"
    )


def post_visible_to(post: str, viewer: str) -> str:
    """A condition, true when the viewer may see the post under the alias ``post`` of the
    enclosing statement: published (or the viewer's own), for an audience the viewer is
    in, and not by someone hidden from the viewer."""
    return (
        f"(({post}.published_at IS NOT NULL OR {post}.author_id = {viewer})"
        f" AND {_audience_admits(post, viewer)}"
        f" AND {post}.author_id NOT IN {_hidden_from(viewer, 'content')})"
    )


def listed_publicly(post: str) -> str:
    """A condition, true when the post under the alias ``post`` belongs on the lists of
    everyone's posts (explore, the Mastodon public timeline, tag pages): a public
    post. Always beside post_visible_to, never instead of it."""
    return f"({post}.audience = 'public')"


def author_visible_to(user: str, viewer: str) -> str:
    """A condition, true when the viewer may see what the user under the alias ``user`` (a
    row of users) wrote or did: as the author of a comment, the actor of a notification."""
    return f"({user}.id NOT IN {_hidden_from(viewer, 'content')})"


def person_visible_to(user: str, viewer: str) -> str:
    """A condition, true when the viewer may see the user under the alias ``user`` in a
    list of people: followers, following, who liked a post."""
    return f"({user}.id NOT IN {_hidden_from(viewer, 'people')})"


def profile_visible_to(user: str, viewer: str) -> str:
    """A condition, true when the viewer may look the user under the alias ``user`` up, by
    name or id: their profile, their account in an API. Someone the viewer blocked can be
    (to unblock them; what they wrote stays hidden), someone who blocked the viewer cannot."""
    return f"({user}.id NOT IN {_hidden_from(viewer, 'lookup')})"


def person_visible(user: str) -> str:
    """A condition, true when the user under the alias ``user`` (a row of users) may be seen
    by anyone, whoever asks: the signed-in user themselves, the lists that are the viewer's
    own (whom they blocked or muted), the instance's counts. Neither suspended, nor leaving,
    nor waiting for approval."""
    return (
        f"({user}.suspended_at IS NULL AND {user}.deletion_due_at IS NULL"
        f" AND {user}.id NOT IN ({_APPLICANTS}))"
    )


def may_interact(actor: str, target: str) -> str:
    """A condition, true when the two people (placeholders or columns) may act on each
    other, for commands: neither has blocked the other."""
    return (
        "NOT EXISTS (SELECT FROM blocks b"
        f" WHERE (b.blocker_id = {actor} AND b.blocked_id = {target})"
        f" OR (b.blocker_id = {target} AND b.blocked_id = {actor}))"
    )
