"""Interactions: comments, likes and notifications.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _fk(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.BigInteger(), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable
    )


def _created() -> sa.Column:
    return sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _fk("post_id", "posts"),
        _fk("author_id", "users"),
        sa.Column("body", sa.Text(), nullable=False),
        _created(),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 1000", name="body_length"),
    )
    op.create_index("ix_comments_post_created", "comments", ["post_id", "created_at", "id"])
    op.create_index("ix_comments_author_id", "comments", ["author_id"])

    op.create_table(
        "likes",
        _fk("post_id", "posts"),
        _fk("user_id", "users"),
        _created(),
        sa.PrimaryKeyConstraint("post_id", "user_id"),
    )
    op.create_index("ix_likes_user_id", "likes", ["user_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _fk("user_id", "users"),
        _fk("actor_id", "users"),
        sa.Column("kind", sa.String(16), nullable=False),
        _fk("post_id", "posts", nullable=True),
        _fk("comment_id", "comments", nullable=True),
        _created(),
        sa.Column("read_at", TZ, nullable=True),
        sa.CheckConstraint("kind IN ('follow', 'like', 'comment')", name="kind"),
        sa.CheckConstraint("user_id <> actor_id", name="not_self"),
    )
    op.create_index(
        "ix_notifications_user_recent",
        "notifications",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_index(
        "uq_notifications_follow",
        "notifications",
        ["user_id", "actor_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'follow'"),
    )
    op.create_index(
        "uq_notifications_like",
        "notifications",
        ["user_id", "actor_id", "post_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'like'"),
    )
    for column in ("actor_id", "post_id", "comment_id"):
        op.create_index(f"ix_notifications_{column}", "notifications", [column])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("likes")
    op.drop_table("comments")
