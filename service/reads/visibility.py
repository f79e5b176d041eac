"""Who may see which post: the one rule, as SQL every post-returning statement is built with.

Today a post may be seen by anyone once it is published, and by its author before that
(while its photos are processed, or after they failed). Blocks, mutes, private accounts and
per-post audiences are added here, once, and reach every list, page, fragment, API answer
and event at the same moment: tests/test_read_layer.py runs every registered statement
that shows posts against a table of viewers and posts and fails if one lets a hidden post
through, or is not built with this rule.
"""

from __future__ import annotations


def post_visible_to(post: str, viewer: str) -> str:
    """A condition, true when the viewer (a placeholder such as ``$1``; NULL for someone not
    logged in) may see the post under the alias ``post`` of the enclosing statement."""
    return f"({post}.published_at IS NOT NULL OR {post}.author_id = {viewer})"
