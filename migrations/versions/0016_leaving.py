"""Leaving with one's data: archives of an account (``exports``), built by durable jobs
(``account_jobs``, which also run the deletion of an account once its grace period is
over), ``users.deletion_due_at`` for an account whose owner asked to delete it (hidden
from everyone meanwhile, like a suspended one: the partial index of hidden accounts
replaces that of suspended ones), and the names of deleted accounts, which nobody may take
again (``retired_usernames``, enforced by a trigger on ``users``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
HIDDEN = "suspended_at IS NOT NULL OR deletion_due_at IS NOT NULL"


def _job_columns() -> list[sa.Column]:
    """What the polling worker (service/workers/polling.py) reads and writes of a job."""
    return [
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("failed_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.add_column("users", sa.Column("deletion_due_at", TZ, nullable=True))
    op.drop_index("ix_users_suspended", table_name="users")
    op.create_index("ix_users_hidden", "users", ["id"], postgresql_where=sa.text(HIDDEN))

    op.create_table(
        "exports",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key_prefix", sa.String(80), nullable=False, unique=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("ready_at", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("failed_at", TZ, nullable=True),
        sa.Column("removed_at", TZ, nullable=True),
    )
    op.create_index("ix_exports_user_id", "exports", ["user_id", sa.text("created_at DESC")])
    # One archive in the making per account, whatever the concurrency.
    op.create_index(
        "uq_exports_pending",
        "exports",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("ready_at IS NULL AND failed_at IS NULL"),
    )
    # Housekeeping's walk of archives past their time.
    op.create_index(
        "ix_exports_expiring",
        "exports",
        ["expires_at"],
        postgresql_where=sa.text("removed_at IS NULL AND expires_at IS NOT NULL"),
    )

    op.create_table(
        "account_jobs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        # No foreign key: a removal job names the account it deletes, and goes with it.
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "export_id",
            sa.BigInteger(),
            sa.ForeignKey("exports.id", ondelete="CASCADE"),
            nullable=True,
        ),
        *_job_columns(),
        sa.CheckConstraint("kind IN ('export', 'removal')", name="kind"),
    )
    op.create_index(
        "ix_account_jobs_pending",
        "account_jobs",
        ["next_attempt_at"],
        postgresql_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
    )
    op.create_index("ix_account_jobs_user_id", "account_jobs", ["user_id"])
    op.create_index("ix_account_jobs_export_id", "account_jobs", ["export_id"])

    op.create_table(
        "retired_usernames",
        sa.Column("username_lower", sa.String(30), primary_key=True),
        sa.Column("retired_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    # Checked by the database, so no way of making or renaming an account (sign-up, the
    # admin commands, a manual statement) can take a retired name.
    op.execute(
        """
        CREATE FUNCTION refuse_retired_username() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT FROM retired_usernames r
                        WHERE r.username_lower = lower(NEW.username)) THEN
                RAISE EXCEPTION 'that username belonged to a deleted account'
                    USING ERRCODE = 'unique_violation',
                          CONSTRAINT = 'uq_users_username_lower';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_username_not_retired BEFORE INSERT OR UPDATE OF username ON users
        FOR EACH ROW EXECUTE FUNCTION refuse_retired_username()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_username_not_retired ON users")
    op.execute("DROP FUNCTION refuse_retired_username()")
    op.drop_table("retired_usernames")
    op.drop_table("account_jobs")
    op.drop_table("exports")
    op.drop_index("ix_users_hidden", table_name="users")
    op.create_index(
        "ix_users_suspended", "users", ["id"], postgresql_where=sa.text("suspended_at IS NOT NULL")
    )
    op.drop_column("users", "deletion_due_at")
