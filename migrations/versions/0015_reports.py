"""Reports, the moderation queue's decisions and their audit log, and why an account is
suspended (docs/moderation.md).

A report keeps a copy of what it is about (the author's name, the text, the stored photos'
keys), so editing or deleting it later takes no evidence away; its links to the post,
comment and account are set to NULL when those go. ``resolution`` is NULL while the report
is open: the partial index holds the open few, oldest first, for the queue and the count
moderators see. Every decision is a row of ``moderation_actions`` that is never changed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _reference(column: str, table: str) -> sa.Column:
    return sa.Column(
        column, sa.BigInteger(), sa.ForeignKey(f"{table}.id", ondelete="SET NULL"), nullable=True
    )


def upgrade() -> None:
    op.add_column("users", sa.Column("suspension_reason", sa.Text(), nullable=True))
    op.create_check_constraint(
        "suspension_reason_length", "users", "char_length(suspension_reason) <= 1000"
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _reference("reporter_id", "users"),
        sa.Column("kind", sa.String(16), nullable=False),
        _reference("account_id", "users"),
        _reference("post_id", "posts"),
        _reference("comment_id", "comments"),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("username", sa.String(30), nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "photo_keys",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("resolution", sa.String(24), nullable=True),
        sa.Column("resolved_at", TZ, nullable=True),
        _reference("resolved_by", "users"),
        sa.CheckConstraint("kind IN ('post', 'comment', 'account')", name="kind"),
        sa.CheckConstraint(
            "category IN ('spam', 'harassment', 'illegal', 'sensitive', 'other')",
            name="category",
        ),
        sa.CheckConstraint("char_length(comment) <= 1000", name="comment_length"),
        sa.CheckConstraint(
            "resolution IN ('dismissed', 'content_deleted', 'account_suspended')",
            name="resolution",
        ),
        sa.CheckConstraint("(resolution IS NULL) = (resolved_at IS NULL)", name="resolved"),
    )
    op.create_index(
        "ix_reports_open",
        "reports",
        ["created_at", "id"],
        postgresql_where=sa.text("resolution IS NULL"),
    )
    op.create_index(
        "ix_reports_reporter_recent",
        "reports",
        ["reporter_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    # The foreign keys' own look-ups when an account, post or comment goes.
    for column in ("account_id", "post_id", "comment_id", "resolved_by"):
        op.create_index(f"ix_reports_{column}", "reports", [column])
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _reference("moderator_id", "users"),
        # Their name then; NULL for the command line.
        sa.Column("moderator_username", sa.String(30), nullable=True),
        sa.Column("action", sa.String(24), nullable=False),
        _reference("report_id", "reports"),
        _reference("account_id", "users"),
        sa.Column("username", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen')",
            name="action",
        ),
        sa.CheckConstraint("char_length(reason) <= 1000", name="reason_length"),
    )
    op.create_index(
        "ix_moderation_actions_recent",
        "moderation_actions",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    for column in ("moderator_id", "report_id", "account_id"):
        op.create_index(f"ix_moderation_actions_{column}", "moderation_actions", [column])


def downgrade() -> None:
    op.drop_table("moderation_actions")
    op.drop_table("reports")
    op.drop_column("users", "suspension_reason")  # its check constraint goes with it
