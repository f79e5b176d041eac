"""Photo renditions for responsive images: each photo's widths (true width, height and
format of every stored ``w<width>`` object) and its BlurHash placeholder, both on the photo
row so the card statement reads them with the photo; and a media job kind that makes them
for photos processed before they existed (``admin media renditions``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = "kind IN ('photo', 'avatar', 'delete')"
KINDS_AFTER = "kind IN ('photo', 'avatar', 'delete', 'renditions')"


def upgrade() -> None:
    op.add_column("photos", sa.Column("renditions", postgresql.JSONB(), nullable=True))
    op.add_column("photos", sa.Column("blurhash", sa.String(100), nullable=True))
    op.drop_constraint("kind", "media_jobs", type_="check")
    op.create_check_constraint("kind", "media_jobs", KINDS_AFTER)


def downgrade() -> None:
    # Such a job only re-derives what a photo's own files hold; a later upgrade's backfill
    # makes it again.
    op.execute("DELETE FROM media_jobs WHERE kind = 'renditions'")
    op.drop_constraint("kind", "media_jobs", type_="check")
    op.create_check_constraint("kind", "media_jobs", KINDS_BEFORE)
    op.drop_column("photos", "blurhash")
    op.drop_column("photos", "renditions")
