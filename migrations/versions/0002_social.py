"""Social core: follows, posts, and the counters on users.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _user_fk(name: str) -> sa.Column:
    return sa.Column(
        name, sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    for counter in ("post_count", "followers_count", "following_count"):
        op.add_column("users", sa.Column(counter, sa.Integer(), server_default="0", nullable=False))

    op.create_table(
        "follows",
        _user_fk("follower_id"),
        _user_fk("followed_id"),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "followed_id"),
        sa.CheckConstraint("follower_id <> followed_id", name="not_self"),
    )
    op.create_index(
        "ix_follows_follower_recent",
        "follows",
        ["follower_id", sa.text("created_at DESC"), "followed_id"],
    )
    op.create_index(
        "ix_follows_followed_recent",
        "follows",
        ["followed_id", sa.text("created_at DESC"), "follower_id"],
    )

    op.create_table(
        "posts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _user_fk("author_id"),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(16), server_default="published", nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("like_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("status IN ('processing', 'published', 'failed')", name="status"),
        sa.CheckConstraint("char_length(body) <= 2000", name="body_length"),
        sa.CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published"),
    )
    published = sa.text("published_at IS NOT NULL")
    op.create_index(
        "ix_posts_author_published",
        "posts",
        ["author_id", sa.text("published_at DESC"), sa.text("id DESC")],
        postgresql_where=published,
    )
    op.create_index(
        "ix_posts_published",
        "posts",
        [sa.text("published_at DESC"), sa.text("id DESC")],
        postgresql_where=published,
    )
    op.create_index(
        "ix_posts_author_unpublished",
        "posts",
        ["author_id", "created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("posts")
    op.drop_table("follows")
    for counter in ("following_count", "followers_count", "post_count"):
        op.drop_column("users", counter)
