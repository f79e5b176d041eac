"""Suspended accounts: a suspended user cannot log in, and nobody sees them or what they
wrote until an admin lifts the suspension (service/reads/visibility.py).

The partial index holds only the suspended few: the visibility rule reads their ids once per
statement into a hash, whatever the size of the users table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_users_suspended", "users", ["id"], postgresql_where=sa.text("suspended_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_users_suspended", table_name="users")
    op.drop_column("users", "suspended_at")
