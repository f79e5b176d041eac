"""Name the worker that claimed an outbox message, as media jobs do, so a message claimed by
a process that died is taken over at once instead of after its lease.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_mail", sa.Column("claimed_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_mail", "claimed_by")
