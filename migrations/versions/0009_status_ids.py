"""Status ids: the ids Mastodon apps see for posts and comments, ordered as the timelines are.

Apps order, de-duplicate and page statuses by id (``max_id`` is the last id they hold), so
an id must be larger the later a status appears in a timeline. Posts appear when they are
published, which for a photo post is when its last photo is processed, possibly long after
the row was made: ``posts.id`` (taken at creation) is not that order. So a post gets a
second id when it is published: the publication time in milliseconds shifted left 16 bits,
then 15 bits of a sequence, then one bit for the kind (0 a post, 1 a comment). Comments get
theirs when they are made. Both come from this one trigger-held rule, so every way a post is
published (the text post command, the media worker, the seed command, a manual UPDATE)
assigns it in the same statement, and the kind bit keeps the two kinds from ever sharing an
id. Within a kind, two ids collide only if 32,768 statuses of that kind are numbered in the
same millisecond; the unique indexes would refuse the second.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE status_id_seq")
    op.execute(
        """
        CREATE FUNCTION status_id(at timestamptz, kind integer) RETURNS bigint
        LANGUAGE sql VOLATILE AS $$
            SELECT (floor(extract(epoch FROM at) * 1000)::bigint << 16)
                   | ((nextval('status_id_seq') % 32768) << 1)
                   | kind
        $$
        """
    )
    op.execute("ALTER TABLE posts ADD COLUMN status_id bigint")
    op.execute("ALTER TABLE comments ADD COLUMN status_id bigint")
    # Existing statuses in their timeline order, so the sequence runs with time.
    op.execute(
        """
        UPDATE posts p SET status_id = numbered.status_id
          FROM (SELECT id, status_id(published_at, 0) AS status_id
                  FROM (SELECT id, published_at FROM posts WHERE published_at IS NOT NULL
                         ORDER BY published_at, id) AS ordered) AS numbered
         WHERE p.id = numbered.id
        """
    )
    op.execute(
        """
        UPDATE comments c SET status_id = numbered.status_id
          FROM (SELECT id, status_id(created_at, 1) AS status_id
                  FROM (SELECT id, created_at FROM comments ORDER BY created_at, id)
                       AS ordered) AS numbered
         WHERE c.id = numbered.id
        """
    )
    op.execute("ALTER TABLE comments ALTER COLUMN status_id SET NOT NULL")
    op.execute(
        """
        CREATE FUNCTION number_published_post() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.published_at IS NULL THEN
                NEW.status_id := NULL;
            ELSIF TG_OP = 'INSERT' OR OLD.published_at IS DISTINCT FROM NEW.published_at
                  OR NEW.status_id IS NULL THEN
                NEW.status_id := status_id(NEW.published_at, 0);
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER posts_number_published BEFORE INSERT OR UPDATE OF published_at ON posts
        FOR EACH ROW EXECUTE FUNCTION number_published_post()
        """
    )
    op.execute(
        """
        CREATE FUNCTION number_comment() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.status_id := status_id(NEW.created_at, 1);
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER comments_number BEFORE INSERT ON comments
        FOR EACH ROW EXECUTE FUNCTION number_comment()
        """
    )
    op.execute("CREATE UNIQUE INDEX uq_posts_status_id ON posts (status_id)")
    op.execute(
        "CREATE INDEX ix_posts_author_status ON posts (author_id, status_id DESC)"
        " WHERE status_id IS NOT NULL"
    )
    op.execute("CREATE UNIQUE INDEX uq_comments_status_id ON comments (status_id)")


def downgrade() -> None:
    op.execute("DROP TRIGGER comments_number ON comments")
    op.execute("DROP FUNCTION number_comment()")
    op.execute("DROP TRIGGER posts_number_published ON posts")
    op.execute("DROP FUNCTION number_published_post()")
    op.execute("ALTER TABLE comments DROP COLUMN status_id")
    op.execute("ALTER TABLE posts DROP COLUMN status_id")
    op.execute("DROP FUNCTION status_id(timestamptz, integer)")
    op.execute("DROP SEQUENCE status_id_seq")
