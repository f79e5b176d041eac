"""Mentions and hashtags (docs/discovery.md).

- ``tags``: one row per tag, by its normalised name (NFKC and case folding), with the
  display form it was first written in and how many published posts carry it (kept by a
  trigger on ``post_tags``, so every way a post comes and goes counts).
- ``post_tags``: which posts carry which tag, with the post's status id once it is published
  (copied by a trigger on ``posts``): a tag's page reads its newest posts by one descent of
  ``ix_post_tags_tag_status``, in the timelines' order, without visiting posts it skips.
- ``post_mentions`` and ``comment_mentions``: whom a post or comment mentions, resolved to
  accounts when written; and on the post or comment itself the usernames and ids of those
  accounts in order of appearance (``mention_names``, ``mention_ids``), so that showing a
  card links its mentions without another read.
- notifications of kind ``mention``: one per person, post and comment.

Everything goes with its post or comment (ON DELETE CASCADE).

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
KINDS_BEFORE = "kind IN ('follow', 'like', 'comment', 'follow_request', 'follow_accepted')"
KINDS_AFTER = (
    "kind IN ('follow', 'like', 'comment', 'follow_request', 'follow_accepted', 'mention')"
)


def _fk(column: str, target: str) -> sa.Column:
    return sa.Column(
        column, sa.BigInteger(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False
    )


def _mention_arrays(table: str) -> None:
    op.add_column(
        table,
        sa.Column(
            "mention_names",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column(
        table,
        sa.Column(
            "mention_ids",
            postgresql.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'::bigint[]"),
            nullable=False,
        ),
    )


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display", sa.Text(), nullable=False),
        sa.Column("post_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        sa.CheckConstraint("char_length(display) BETWEEN 1 AND 100", name="display_length"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "post_tags",
        _fk("post_id", "posts.id"),
        _fk("tag_id", "tags.id"),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("post_id", "tag_id"),
    )
    op.execute(
        "CREATE INDEX ix_post_tags_tag_status ON post_tags (tag_id, status_id DESC)"
        " WHERE status_id IS NOT NULL"
    )
    op.create_table(
        "post_mentions",
        _fk("post_id", "posts.id"),
        _fk("user_id", "users.id"),
        sa.PrimaryKeyConstraint("post_id", "user_id"),
    )
    op.create_index("ix_post_mentions_user_id", "post_mentions", ["user_id"])
    op.create_table(
        "comment_mentions",
        _fk("comment_id", "comments.id"),
        _fk("user_id", "users.id"),
        sa.PrimaryKeyConstraint("comment_id", "user_id"),
    )
    op.create_index("ix_comment_mentions_user_id", "comment_mentions", ["user_id"])
    _mention_arrays("posts")
    _mention_arrays("comments")
    op.drop_constraint("kind", "notifications", type_="check")
    op.create_check_constraint("kind", "notifications", KINDS_AFTER)
    op.execute(
        "CREATE UNIQUE INDEX uq_notifications_mention ON notifications"
        " (user_id, post_id, coalesce(comment_id, 0)) WHERE kind = 'mention'"
    )
    # A post's tags take its status id when it is published, however that happens. Not
    # "UPDATE OF status_id": the id is set by a BEFORE trigger of an UPDATE of published_at,
    # which a column trigger would not see.
    op.execute(
        """
        CREATE FUNCTION number_post_tags() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE post_tags SET status_id = NEW.status_id
             WHERE post_id = NEW.id AND status_id IS DISTINCT FROM NEW.status_id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER posts_number_tags AFTER UPDATE ON posts
        FOR EACH ROW WHEN (OLD.status_id IS DISTINCT FROM NEW.status_id)
        EXECUTE FUNCTION number_post_tags()
        """
    )
    # A tag's count: its published posts.
    op.execute(
        """
        CREATE FUNCTION count_tag_posts() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.status_id IS NOT NULL THEN
                UPDATE tags SET post_count = post_count - 1 WHERE id = OLD.tag_id;
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.status_id IS NOT NULL THEN
                UPDATE tags SET post_count = post_count + 1 WHERE id = NEW.tag_id;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER post_tags_count AFTER INSERT OR DELETE OR UPDATE OF status_id
        ON post_tags FOR EACH ROW EXECUTE FUNCTION count_tag_posts()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER post_tags_count ON post_tags")
    op.execute("DROP FUNCTION count_tag_posts()")
    op.execute("DROP TRIGGER posts_number_tags ON posts")
    op.execute("DROP FUNCTION number_post_tags()")
    op.execute("DROP INDEX uq_notifications_mention")
    op.execute("DELETE FROM notifications WHERE kind = 'mention'")
    op.drop_constraint("kind", "notifications", type_="check")
    op.create_check_constraint("kind", "notifications", KINDS_BEFORE)
    for table in ("comments", "posts"):
        op.drop_column(table, "mention_ids")
        op.drop_column(table, "mention_names")
    op.drop_table("comment_mentions")
    op.drop_table("post_mentions")
    op.drop_table("post_tags")
    op.drop_table("tags")
