"""Trending reads its index alone: each ``post_trends`` row carries what the rule asks of
its post (docs/trending.md).

- ``post_trends`` gains its post's ``published_at``, ``audience`` and ``author_id``, and its
  author's ``created_at`` as ``author_since`` (accounts younger than a day do not trend);
  ``ix_post_trends_rank`` and ``ix_post_trends_photos`` carry them (INCLUDE), so the
  trending walk applies the visibility rule and the new-account rule to index entries,
  with no probe of posts and users per row it passes over.
- Triggers keep the copies the post's and the account's: a post whose publication or
  audience changes, and (in tests) an account whose creation time is moved. A row written
  without them (a moderator's removal of a post that never trended) takes them from the
  post.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
FACTS = "has_photos, published_at, audience, author_id, author_since"


def upgrade() -> None:
    op.add_column("post_trends", sa.Column("published_at", TZ, nullable=True))
    op.add_column("post_trends", sa.Column("audience", sa.Text(), nullable=True))
    op.add_column("post_trends", sa.Column("author_id", sa.BigInteger(), nullable=True))
    op.add_column("post_trends", sa.Column("author_since", TZ, nullable=True))
    op.execute(
        """
        UPDATE post_trends t
           SET published_at = p.published_at, audience = p.audience,
               author_id = p.author_id, author_since = u.created_at
          FROM posts p JOIN users u ON u.id = p.author_id
         WHERE p.id = t.post_id
        """
    )
    for column in ("audience", "author_id", "author_since"):
        op.execute(f"ALTER TABLE post_trends ALTER COLUMN {column} SET NOT NULL")
    op.execute(
        """
        CREATE FUNCTION fill_post_trend() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT p.published_at, p.audience, p.author_id, u.created_at
              INTO NEW.published_at, NEW.audience, NEW.author_id, NEW.author_since
              FROM posts p JOIN users u ON u.id = p.author_id
             WHERE p.id = NEW.post_id;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER post_trends_fill BEFORE INSERT ON post_trends
        FOR EACH ROW WHEN (NEW.author_id IS NULL) EXECUTE FUNCTION fill_post_trend()
        """
    )
    op.execute(
        """
        CREATE FUNCTION copy_post_to_trends() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE post_trends SET published_at = NEW.published_at, audience = NEW.audience
             WHERE post_id = NEW.id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER posts_copy_to_trends AFTER UPDATE OF published_at, audience ON posts
        FOR EACH ROW WHEN ((OLD.published_at, OLD.audience)
                           IS DISTINCT FROM (NEW.published_at, NEW.audience))
        EXECUTE FUNCTION copy_post_to_trends()
        """
    )
    op.execute(
        """
        CREATE FUNCTION copy_account_to_trends() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE post_trends SET author_since = NEW.created_at WHERE author_id = NEW.id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_copy_to_trends AFTER UPDATE OF created_at ON users
        FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
        EXECUTE FUNCTION copy_account_to_trends()
        """
    )
    op.execute("DROP INDEX ix_post_trends_rank")
    op.execute("DROP INDEX ix_post_trends_photos")
    op.execute(
        "CREATE INDEX ix_post_trends_rank ON post_trends (rank_at DESC, post_id DESC)"
        f" INCLUDE ({FACTS}) WHERE removed_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_post_trends_photos ON post_trends (rank_at DESC, post_id DESC)"
        f" INCLUDE ({FACTS}) WHERE removed_at IS NULL AND has_photos"
    )
    # The new columns have no statistics until autovacuum next analyzes the table, which
    # may be long: without them PostgreSQL takes every filter of the walk for a rare one
    # and sorts all the ranks instead of walking the index.
    op.execute("ANALYZE post_trends")


def downgrade() -> None:
    op.execute("DROP INDEX ix_post_trends_rank")
    op.execute("DROP INDEX ix_post_trends_photos")
    op.execute(
        "CREATE INDEX ix_post_trends_rank ON post_trends (rank_at DESC, post_id DESC)"
        " WHERE removed_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_post_trends_photos ON post_trends (rank_at DESC, post_id DESC)"
        " WHERE removed_at IS NULL AND has_photos"
    )
    op.execute("DROP TRIGGER users_copy_to_trends ON users")
    op.execute("DROP FUNCTION copy_account_to_trends()")
    op.execute("DROP TRIGGER posts_copy_to_trends ON posts")
    op.execute("DROP FUNCTION copy_post_to_trends()")
    op.execute("DROP TRIGGER post_trends_fill ON post_trends")
    op.execute("DROP FUNCTION fill_post_trend()")
    for column in ("author_since", "author_id", "audience", "published_at"):
        op.drop_column("post_trends", column)
