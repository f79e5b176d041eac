"""Followed hashtags (docs/discovery.md): who follows which tag, since when, and what the
home timeline needs to find a followed tag's posts from the tag's index alone.

- ``tag_follows``: the primary key (user_id, tag_id) is what the home timeline reads, the
  tags a reader follows, one short range of it. ``ix_tag_follows_user_recent`` lists them
  newest first (settings, the Mastodon API's followed tags); ``ix_tag_follows_tag_id``
  serves the cascade when a tag goes. Both ends cascade.
- ``post_tags`` gains its post's ``published_at``, ``author_id`` and ``audience``, and
  ``ix_post_tags_tag_status`` carries them with ``post_id`` (INCLUDE): a followed tag's
  walk in the home timeline applies the visibility rule and "public only" to the index
  entries themselves, without visiting a post it then leaves out (docs/timeline.md). A
  trigger fills them from the post when a row is inserted without them, and the trigger
  that copies a post's status id on publication now copies all four whenever any of them
  changes (an author changing a post's audience), in the same transaction.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tag_follows",
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "tag_id", sa.BigInteger(), sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "tag_id"),
    )
    op.create_index(
        "ix_tag_follows_user_recent",
        "tag_follows",
        ["user_id", sa.text("created_at DESC"), "tag_id"],
    )
    op.create_index("ix_tag_follows_tag_id", "tag_follows", ["tag_id"])

    op.add_column("post_tags", sa.Column("published_at", TZ, nullable=True))
    op.add_column("post_tags", sa.Column("author_id", sa.BigInteger(), nullable=True))
    op.add_column("post_tags", sa.Column("audience", sa.Text(), nullable=True))
    op.execute(
        "UPDATE post_tags pt SET published_at = p.published_at, author_id = p.author_id,"
        " audience = p.audience FROM posts p WHERE p.id = pt.post_id"
    )
    op.execute("ALTER TABLE post_tags ALTER COLUMN author_id SET NOT NULL")
    op.execute("ALTER TABLE post_tags ALTER COLUMN audience SET NOT NULL")
    op.execute("DROP INDEX ix_post_tags_tag_status")
    op.execute(
        "CREATE INDEX ix_post_tags_tag_status ON post_tags (tag_id, status_id DESC)"
        " INCLUDE (post_id, published_at, author_id, audience) WHERE status_id IS NOT NULL"
    )
    # A row written without its post's facts takes them from the post (the commands and
    # the seed write only the status id).
    op.execute(
        """
        CREATE FUNCTION fill_post_tag() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT p.status_id, p.published_at, p.author_id, p.audience
              INTO NEW.status_id, NEW.published_at, NEW.author_id, NEW.audience
              FROM posts p WHERE p.id = NEW.post_id;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER post_tags_fill BEFORE INSERT ON post_tags
        FOR EACH ROW WHEN (NEW.author_id IS NULL) EXECUTE FUNCTION fill_post_tag()
        """
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION number_post_tags() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE post_tags SET status_id = NEW.status_id, published_at = NEW.published_at,
                                 audience = NEW.audience
             WHERE post_id = NEW.id
               AND (status_id, published_at, audience)
                   IS DISTINCT FROM (NEW.status_id, NEW.published_at, NEW.audience);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute("DROP TRIGGER posts_number_tags ON posts")
    op.execute(
        """
        CREATE TRIGGER posts_number_tags AFTER UPDATE ON posts
        FOR EACH ROW WHEN ((OLD.status_id, OLD.published_at, OLD.audience)
                           IS DISTINCT FROM (NEW.status_id, NEW.published_at, NEW.audience))
        EXECUTE FUNCTION number_post_tags()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER posts_number_tags ON posts")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION number_post_tags() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE post_tags SET status_id = NEW.status_id
             WHERE post_id = NEW.id AND status_id IS DISTINCT FROM NEW.status_id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER posts_number_tags AFTER UPDATE ON posts
        FOR EACH ROW WHEN (OLD.status_id IS DISTINCT FROM NEW.status_id)
        EXECUTE FUNCTION number_post_tags()
        """
    )
    op.execute("DROP TRIGGER post_tags_fill ON post_tags")
    op.execute("DROP FUNCTION fill_post_tag()")
    op.execute("DROP INDEX ix_post_tags_tag_status")
    op.execute(
        "CREATE INDEX ix_post_tags_tag_status ON post_tags (tag_id, status_id DESC)"
        " WHERE status_id IS NOT NULL"
    )
    op.drop_column("post_tags", "audience")
    op.drop_column("post_tags", "author_id")
    op.drop_column("post_tags", "published_at")
    op.drop_table("tag_follows")
