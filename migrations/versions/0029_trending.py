"""Trending: view counts, a stored rank per post, and the moderators' "remove from trends".

- ``posts.view_count``: views counted in memory by each process and added here in one
  statement per flush (docs/trending.md); no request writes it.
- ``trend_changes``: the posts whose likes, comments or views changed since the trending
  job last ran, filled by a trigger on ``posts``, so every way a count changes is seen and
  the job recomputes those posts alone.
- ``post_trends``: each engaged post's rank as a time, ``rank_at`` = published_at + TAU *
  ln(engagement) (docs/trending.md): ordering by it is ordering by the decayed score at any
  moment, so aging needs no recomputation, and ``ix_post_trends_rank`` is the trending
  list's keyset order; ``has_photos`` (the post's, copied when the rank is) and its own
  index ``ix_post_trends_photos`` give the front page's grid the same order without walking
  past posts without photos. ``removed_at`` and ``removed_by``: a moderator took it off
  trends.
- moderation_actions may record ``remove_from_trends`` and ``restore_to_trends``.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
ACTIONS_BEFORE = (
    "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen',"
    " 'mark_sensitive', 'unmark_sensitive', 'warn')"
)
ACTIONS_AFTER = (
    "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen',"
    " 'mark_sensitive', 'unmark_sensitive', 'warn', 'remove_from_trends',"
    " 'restore_to_trends')"
)


def upgrade() -> None:
    op.add_column(
        "posts", sa.Column("view_count", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.create_table(
        "trend_changes",
        sa.Column(
            "post_id",
            sa.BigInteger(),
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "post_trends",
        sa.Column(
            "post_id",
            sa.BigInteger(),
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rank_at", TZ, nullable=False),
        sa.Column("has_photos", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("removed_at", TZ, nullable=True),
        sa.Column(
            "removed_by",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.execute(
        "CREATE INDEX ix_post_trends_rank ON post_trends (rank_at DESC, post_id DESC)"
        " WHERE removed_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_post_trends_photos ON post_trends (rank_at DESC, post_id DESC)"
        " WHERE removed_at IS NULL AND has_photos"
    )
    op.execute(
        """
        CREATE FUNCTION note_trend_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO trend_changes (post_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER posts_trend_change
        AFTER UPDATE OF like_count, comment_count, view_count ON posts
        FOR EACH ROW WHEN (OLD.like_count IS DISTINCT FROM NEW.like_count
                           OR OLD.comment_count IS DISTINCT FROM NEW.comment_count
                           OR OLD.view_count IS DISTINCT FROM NEW.view_count)
        EXECUTE FUNCTION note_trend_change()
        """
    )
    op.drop_constraint("action", "moderation_actions", type_="check")
    op.create_check_constraint("action", "moderation_actions", ACTIONS_AFTER)


def downgrade() -> None:
    op.execute(
        "DELETE FROM moderation_actions WHERE action IN ('remove_from_trends', 'restore_to_trends')"
    )
    op.drop_constraint("action", "moderation_actions", type_="check")
    op.create_check_constraint("action", "moderation_actions", ACTIONS_BEFORE)
    op.execute("DROP TRIGGER posts_trend_change ON posts")
    op.execute("DROP FUNCTION note_trend_change()")
    op.drop_table("post_trends")
    op.drop_table("trend_changes")
    op.drop_column("posts", "view_count")
