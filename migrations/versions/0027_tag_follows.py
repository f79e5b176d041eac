"""Followed hashtags (docs/discovery.md): who follows which tag, since when.

The primary key (user_id, tag_id) is what the home timeline reads: the tags a reader
follows, one short range of it. ``ix_tag_follows_user_recent`` lists them newest first
(settings, the Mastodon API's followed tags); ``ix_tag_follows_tag_id`` serves the
cascade when a tag goes. Both ends cascade.

Revision ID: 0027
Revises: 0025
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_follows",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "tag_id", sa.BigInteger(), sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", "tag_id"),
    )
    op.create_index(
        "ix_tag_follows_user_recent",
        "tag_follows",
        ["user_id", sa.text("created_at DESC"), "tag_id"],
    )
    op.create_index("ix_tag_follows_tag_id", "tag_follows", ["tag_id"])


def downgrade() -> None:
    op.drop_table("tag_follows")
