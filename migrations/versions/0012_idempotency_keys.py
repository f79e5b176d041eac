"""Idempotency keys of the Mastodon API's POST /api/v1/statuses: the status a key made, so
that an app retrying a post with the same key within an hour gets that status back and
nothing new is made (docs/api.md). Kept in PostgreSQL, so a retry that reaches another
process, or comes after a restart, is recognised too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column(
            "post_id", sa.BigInteger(), sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "comment_id",
            sa.BigInteger(),
            sa.ForeignKey("comments.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])
    op.create_index(op.f("ix_idempotency_keys_post_id"), "idempotency_keys", ["post_id"])
    op.create_index(op.f("ix_idempotency_keys_comment_id"), "idempotency_keys", ["comment_id"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
