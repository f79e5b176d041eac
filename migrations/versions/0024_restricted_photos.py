"""Restricted photos: a photo of a post not everyone may see is flagged
(``photos.restricted``), its renditions live under the ``restricted/`` kind of key that no
public URL reaches, and a ``move`` media job carries a photo's objects between the kinds
when its flag changes (docs/media.md, "Restricted photos").

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "kind IN ('photo', 'avatar', 'delete', 'renditions')"
KINDS_AFTER = "kind IN ('photo', 'avatar', 'delete', 'renditions', 'move')"


def upgrade() -> None:
    op.add_column(
        "photos", sa.Column("restricted", sa.Boolean(), server_default="false", nullable=False)
    )
    op.drop_constraint("kind", "media_jobs", type_="check")
    op.create_check_constraint("kind", "media_jobs", KINDS_AFTER)


def downgrade() -> None:
    # Objects already moved stay where they are; a downgrade is for a database whose
    # photos were never restricted.
    op.execute("DELETE FROM media_jobs WHERE kind = 'move'")
    op.drop_constraint("kind", "media_jobs", type_="check")
    op.create_check_constraint("kind", "media_jobs", KINDS_BEFORE)
    op.drop_column("photos", "restricted")
