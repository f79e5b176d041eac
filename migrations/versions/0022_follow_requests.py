"""Private accounts and follow requests: ``users.locked`` (the owner approves each new
follower), the pending requests, and the two notifications of a request ("requested to
follow you" for the owner, "accepted your follow request" for the requester).

A request is keyed by the pair, so asking twice is one request; the owner's list reads
(target_id, created_at) newest first. Both ends cascade: an account removed takes its
requests, made and received, with it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
KINDS_BEFORE = "kind IN ('follow', 'like', 'comment')"
KINDS_AFTER = "kind IN ('follow', 'like', 'comment', 'follow_request', 'follow_accepted')"


def _user(column: str) -> sa.Column:
    return sa.Column(
        column, sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("locked", sa.Boolean(), server_default="false", nullable=False)
    )
    op.create_table(
        "follow_requests",
        _user("requester_id"),
        _user("target_id"),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("requester_id", "target_id"),
        sa.CheckConstraint("requester_id <> target_id", name="not_self"),
    )
    op.create_index(
        "ix_follow_requests_target_recent",
        "follow_requests",
        ["target_id", sa.text("created_at DESC"), "requester_id"],
    )
    op.drop_constraint("kind", "notifications", type_="check")
    op.create_check_constraint("kind", "notifications", KINDS_AFTER)
    # One "requested to follow you" per pair, whatever the concurrency, as for follows.
    op.create_index(
        "uq_notifications_follow_request",
        "notifications",
        ["user_id", "actor_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'follow_request'"),
    )


def downgrade() -> None:
    op.drop_index("uq_notifications_follow_request", table_name="notifications")
    op.execute("DELETE FROM notifications WHERE kind IN ('follow_request', 'follow_accepted')")
    op.drop_constraint("kind", "notifications", type_="check")
    op.create_check_constraint("kind", "notifications", KINDS_BEFORE)
    op.drop_table("follow_requests")
    op.drop_column("users", "locked")
