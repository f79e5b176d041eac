"""Who may see what: the one rule, as SQL every statement that shows posts or people is
built with.

A post may be seen by anyone once it is published, and by its author before that (while its
photos are processed, or after they failed), unless its author is suspended. A person may be
seen unless they are suspended; so may what they wrote (their comments) and did (their
notifications). Blocks, mutes, private accounts and per-post audiences are added here, once,
and reach every list, page, fragment, API answer and event at the same moment:
tests/test_read_layer.py runs every registered statement against a table of viewers and
hidden posts and people, and fails if one lets something hidden through or is not built
with these rules.
"""

from __future__ import annotations

# The suspended few, by id: the partial index ix_users_suspended holds only them, and
# PostgreSQL reads them once per statement into a hash (a NOT IN over a subquery), so the
# rule costs a hash probe per row wherever it stands, however large the tables.
_SUSPENDED = "(SELECT s.id FROM users s WHERE s.suspended_at IS NOT NULL)"


def post_visible_to(post: str, viewer: str) -> str:
    """A condition, true when the viewer (a placeholder such as ``$1``; NULL for someone not
    logged in) may see the post under the alias ``post`` of the enclosing statement."""
    return (
        f"(({post}.published_at IS NOT NULL OR {post}.author_id = {viewer})"
        f" AND {post}.author_id NOT IN {_SUSPENDED})"
    )


def person_visible(user: str) -> str:
    """A condition, true when the user under the alias ``user`` (a row of users) may be seen
    by anyone: in lists, on their profile, as the author of a comment or of a notification."""
    return f"({user}.suspended_at IS NULL)"
