"""Media before its status: a photo may exist without a post (uploaded through the Mastodon
API's POST /api/v2/media, attached by POST /api/v1/statuses), so ``photos.post_id`` may be
NULL; ``owner_id`` says whose it is (the uploader; for photos already on posts, their
author), and ``failed_at`` records that an unattached photo could not be processed (a
post's photos mark their post failed instead). docs/media.md.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("photos", sa.Column("owner_id", sa.BigInteger(), nullable=True))
    op.execute("UPDATE photos f SET owner_id = p.author_id FROM posts p WHERE p.id = f.post_id")
    op.alter_column("photos", "owner_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_photos_owner_id_users"),
        "photos",
        "users",
        ["owner_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_photos_owner_id"), "photos", ["owner_id"])
    op.add_column("photos", sa.Column("failed_at", TZ, nullable=True))
    op.alter_column("photos", "post_id", nullable=True)
    # Housekeeping's walk of old unattached uploads.
    op.create_index(
        "ix_photos_unattached",
        "photos",
        ["created_at"],
        postgresql_where=sa.text("post_id IS NULL"),
    )


def downgrade() -> None:
    # Uploads not attached to a post have no place in the older schema; their stored
    # objects are left to `python -m service admin media sweep`.
    op.execute("DELETE FROM photos WHERE post_id IS NULL")
    op.drop_index("ix_photos_unattached", table_name="photos")
    op.alter_column("photos", "post_id", nullable=False)
    op.drop_column("photos", "failed_at")
    op.drop_index(op.f("ix_photos_owner_id"), table_name="photos")
    op.drop_constraint(op.f("fk_photos_owner_id_users"), "photos", type_="foreignkey")
    op.drop_column("photos", "owner_id")
