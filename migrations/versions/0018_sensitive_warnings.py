"""Two more decisions on a report: marking a post's photos sensitive (``posts.sensitive``,
shown behind a cover that a viewer opens) and warning an account's owner
(``account_warnings``, shown to them on every page until they acknowledge it).

The warnings still to acknowledge are the few a page asks for on every view of a signed-in
person: the partial index holds only those.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

ACTIONS_BEFORE = "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen')"
ACTIONS_AFTER = (
    "action IN ('dismiss', 'delete_content', 'suspend', 'unsuspend', 'reopen',"
    " 'mark_sensitive', 'unmark_sensitive', 'warn')"
)
RESOLUTIONS_BEFORE = "resolution IN ('dismissed', 'content_deleted', 'account_suspended')"
RESOLUTIONS_AFTER = (
    "resolution IN ('dismissed', 'content_deleted', 'account_suspended',"
    " 'media_marked_sensitive', 'warned')"
)


def upgrade() -> None:
    op.add_column(
        "posts", sa.Column("sensitive", sa.Boolean(), server_default="false", nullable=False)
    )
    op.drop_constraint("action", "moderation_actions", type_="check")
    op.create_check_constraint("action", "moderation_actions", ACTIONS_AFTER)
    op.drop_constraint("resolution", "reports", type_="check")
    op.create_check_constraint("resolution", "reports", RESOLUTIONS_AFTER)
    op.create_table(
        "account_warnings",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "report_id",
            sa.BigInteger(),
            sa.ForeignKey("reports.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "moderator_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.CheckConstraint("char_length(message) BETWEEN 1 AND 1000", name="message_length"),
    )
    op.create_index(
        "ix_account_warnings_unacknowledged",
        "account_warnings",
        ["user_id", "created_at"],
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )
    for column in ("report_id", "moderator_id"):
        op.create_index(f"ix_account_warnings_{column}", "account_warnings", [column])


def downgrade() -> None:
    op.drop_table("account_warnings")
    # Such reports and log lines cannot be told in the older schema's words.
    op.execute(
        "UPDATE reports SET resolution = 'dismissed'"
        " WHERE resolution IN ('media_marked_sensitive', 'warned')"
    )
    op.execute(
        "DELETE FROM moderation_actions"
        " WHERE action IN ('mark_sensitive', 'unmark_sensitive', 'warn')"
    )
    op.drop_constraint("resolution", "reports", type_="check")
    op.create_check_constraint("resolution", "reports", RESOLUTIONS_BEFORE)
    op.drop_constraint("action", "moderation_actions", type_="check")
    op.create_check_constraint("action", "moderation_actions", ACTIONS_BEFORE)
    op.drop_column("posts", "sensitive")
