"""Photos, avatars, and the durable media jobs that process and store them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _now(name: str) -> sa.Column:
    return sa.Column(name, TZ, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "post_id",
            sa.BigInteger(),
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("alt", sa.Text(), server_default="", nullable=False),
        sa.Column("key_prefix", sa.String(80), nullable=False, unique=True),
        sa.Column("extension", sa.String(8), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("ready_at", TZ, nullable=True),
        _now("created_at"),
        sa.UniqueConstraint("post_id", "position", name="uq_photos_post_position"),
        sa.CheckConstraint("position BETWEEN 0 AND 3", name="position"),
        sa.CheckConstraint("char_length(alt) <= 1500", name="alt_length"),
    )

    op.create_table(
        "avatars",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key_prefix", sa.String(80), nullable=True),
        sa.Column("extension", sa.String(8), nullable=True),
        sa.Column("pending_prefix", sa.String(80), nullable=True),
        _now("updated_at"),
    )

    op.create_table(
        "media_jobs",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("key_prefix", sa.String(80), nullable=False),
        _now("created_at"),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _now("next_attempt_at"),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("done_at", TZ, nullable=True),
        sa.Column("failed_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('photo', 'avatar', 'delete')", name="kind"),
    )
    op.create_index(
        "ix_media_jobs_pending",
        "media_jobs",
        ["next_attempt_at"],
        postgresql_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
    )
    op.create_index(
        "ix_media_jobs_done_at",
        "media_jobs",
        ["done_at"],
        postgresql_where=sa.text("done_at IS NOT NULL"),
    )

    op.create_table(
        "media_originals",
        sa.Column(
            "job_id",
            sa.BigInteger(),
            sa.ForeignKey("media_jobs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "part"),
    )


def downgrade() -> None:
    op.drop_table("media_originals")
    op.drop_table("media_jobs")
    op.drop_table("avatars")
    op.drop_table("photos")
