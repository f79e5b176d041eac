"""Who each post is for: ``posts.audience`` (public, unlisted, or the author's followers
only), and each person's default for what they write, ``users.default_audience``. Existing
posts and people stay public. Explore and the public timelines read only public posts
(service/reads/visibility.py, docs/privacy.md).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCES = "audience IN ('public', 'unlisted', 'followers')"

# What change of a user announces to the session and token caches (migration 0008): now also
# the default audience, which the signed-in user's pages offer first.
ANNOUNCED = """
    OLD.username IS DISTINCT FROM NEW.username
    OR OLD.display_name IS DISTINCT FROM NEW.display_name
    OR OLD.email IS DISTINCT FROM NEW.email
    OR OLD.role IS DISTINCT FROM NEW.role
    OR OLD.email_confirmed_at IS DISTINCT FROM NEW.email_confirmed_at
    OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at"""


def _announce_user_changes(when: str) -> None:
    op.execute("DROP TRIGGER users_changed ON users")
    op.execute(
        f"""
        CREATE TRIGGER users_changed AFTER UPDATE ON users
        FOR EACH ROW
        WHEN ({when})
        EXECUTE FUNCTION announce_user_changed()
        """
    )


# Every list of one author's posts reads this index alone (an index-only scan); the rule now
# asks each post's audience, so the index carries it, or each row would be read from the
# table and a prolific author's profile sorted in full (a generic plan expects an average
# author).
AUTHOR_PUBLISHED = (
    "CREATE INDEX ix_posts_author_published ON posts (author_id, published_at DESC, id DESC)"
    "{include} WHERE published_at IS NOT NULL"
)


def _author_published(include: str) -> None:
    op.execute("DROP INDEX ix_posts_author_published")
    op.execute(AUTHOR_PUBLISHED.format(include=include))


def upgrade() -> None:
    # A constant default: adding the column rewrites no row.
    op.add_column(
        "posts", sa.Column("audience", sa.Text(), server_default="public", nullable=False)
    )
    op.create_check_constraint("audience", "posts", AUDIENCES)
    op.add_column(
        "users",
        sa.Column("default_audience", sa.Text(), server_default="public", nullable=False),
    )
    op.create_check_constraint(
        "default_audience", "users", AUDIENCES.replace("audience", "default_audience")
    )
    _announce_user_changes(
        ANNOUNCED + "\n    OR OLD.default_audience IS DISTINCT FROM NEW.default_audience"
    )
    _author_published(" INCLUDE (audience)")


def downgrade() -> None:
    _author_published("")
    _announce_user_changes(ANNOUNCED)
    # Each check goes with its column.
    op.drop_column("users", "default_audience")
    op.drop_column("posts", "audience")
