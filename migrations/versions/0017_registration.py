"""Registration control: the instance's own settings (how people may sign up, its name,
description and contact address), its rules, the applications waiting for an admin, and
invites.

``instance_settings`` has at most one row, id 1: none until an admin first saves the
settings (until then service/models.py's defaults apply), so that the migrations write no
rows and a restore loads a backup into empty tables. Pages read it on every sign-up and
the instance API on every call, so a change an admin saves shows on the next request of
every process, with nothing to restart. Applicants are hidden from everyone while their
row in ``account_applications`` lasts (service/reads/visibility.py reads that small table
by its primary key). Invite codes are kept as they are, not hashed: they are shown again
on their creator's settings page, and open only the sign-up form.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _now(column: str) -> sa.Column:
    return sa.Column(column, TZ, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "instance_settings",
        sa.Column("id", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("registration_mode", sa.String(16), server_default="open", nullable=False),
        sa.Column("invites_by_users", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("name", sa.String(60), server_default="Snapline", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("contact_email", sa.String(254), server_default="", nullable=False),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.CheckConstraint(
            "registration_mode IN ('open', 'approval', 'invite', 'closed')",
            name="registration_mode",
        ),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 60", name="name_length"),
        sa.CheckConstraint("char_length(description) <= 1000", name="description_length"),
    )
    op.create_table(
        "instance_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("char_length(text) BETWEEN 1 AND 500", name="text_length"),
    )
    op.create_table(
        "account_applications",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        _now("created_at"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.CheckConstraint("char_length(reason) BETWEEN 1 AND 1000", name="reason_length"),
    )
    # The admins' queue, oldest first.
    op.create_index(
        "ix_account_applications_created", "account_applications", ["created_at", "user_id"]
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column(
            "creator_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        _now("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
        sa.CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses"),
    )
    op.create_index(
        "ix_invites_creator_recent", "invites", ["creator_id", sa.text("created_at DESC")]
    )
    # The about page's admins, without reading every account.
    op.create_index("ix_users_admins", "users", ["id"], postgresql_where=sa.text("role = 'admin'"))


def downgrade() -> None:
    op.drop_index("ix_users_admins", table_name="users")
    op.drop_table("invites")
    op.drop_table("account_applications")
    op.drop_table("instance_rules")
    op.drop_table("instance_settings")
