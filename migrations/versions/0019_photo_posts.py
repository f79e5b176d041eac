"""Which posts have photos, kept on the post (``posts.has_photos``, set by a trigger on
``photos`` whichever way a photo joins its post: with the post, or attached later by a
Mastodon app), and an index of each author's photo posts in status-id order: a profile's
grid and the Mastodon API's ``only_media`` read a page of them by one short descent, where
asking each post for a photo walked all of a prolific author's posts to find none.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "posts", sa.Column("has_photos", sa.Boolean(), server_default="false", nullable=False)
    )
    op.execute(
        "UPDATE posts p SET has_photos = true"
        " WHERE EXISTS (SELECT FROM photos f WHERE f.post_id = p.id)"
    )
    op.execute(
        """
        CREATE FUNCTION mark_photo_post() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE posts SET has_photos = true WHERE id = NEW.post_id AND NOT has_photos;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER photos_mark_post AFTER INSERT OR UPDATE OF post_id ON photos
        FOR EACH ROW WHEN (NEW.post_id IS NOT NULL) EXECUTE FUNCTION mark_photo_post()
        """
    )
    op.execute(
        "CREATE INDEX ix_posts_author_photos ON posts (author_id, status_id DESC)"
        " WHERE status_id IS NOT NULL AND has_photos"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_posts_author_photos")
    op.execute("DROP TRIGGER photos_mark_post ON photos")
    op.execute("DROP FUNCTION mark_photo_post()")
    op.drop_column("posts", "has_photos")
