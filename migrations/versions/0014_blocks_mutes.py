"""Blocks and mutes (docs/moderation.md): who blocked whom, and who muted whom until when.

Both are read by the visibility rule (service/reads/visibility.py) as small per-viewer
sets: the primary keys serve "whom did the viewer block / mute", the second index of blocks
"who blocked the viewer", and the lists of settings and the Mastodon API page by
(created_at, id) of the same keys.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _user(column: str) -> sa.Column:
    return sa.Column(
        column, sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "blocks",
        _user("blocker_id"),
        _user("blocked_id"),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id"),
        sa.CheckConstraint("blocker_id <> blocked_id", name="not_self"),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id", "blocker_id"])
    op.create_index(
        "ix_blocks_blocker_recent",
        "blocks",
        ["blocker_id", sa.text("created_at DESC"), "blocked_id"],
    )
    op.create_table(
        "mutes",
        _user("muter_id"),
        _user("muted_id"),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("muter_id", "muted_id"),
        sa.CheckConstraint("muter_id <> muted_id", name="not_self"),
    )
    # With the end, so that the rule reads a viewer's mutes from the index alone.
    op.create_index(
        "ix_mutes_muter_recent",
        "mutes",
        ["muter_id", sa.text("created_at DESC"), "muted_id"],
        postgresql_include=["expires_at"],
    )
    op.create_index("ix_mutes_muted_id", "mutes", ["muted_id"])


def downgrade() -> None:
    op.drop_table("mutes")
    op.drop_table("blocks")
