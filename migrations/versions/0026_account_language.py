"""The language an account reads Snapline in (docs/translating.md): NULL until its owner
chooses one, when their browser's decides. A change reaches the caches of signed-in users,
as a change of their name does, so their next page is in the language they chose.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANNOUNCED = """
    OLD.username IS DISTINCT FROM NEW.username
    OR OLD.display_name IS DISTINCT FROM NEW.display_name
    OR OLD.email IS DISTINCT FROM NEW.email
    OR OLD.role IS DISTINCT FROM NEW.role
    OR OLD.email_confirmed_at IS DISTINCT FROM NEW.email_confirmed_at
    OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at
    OR OLD.default_audience IS DISTINCT FROM NEW.default_audience
    OR OLD.locked IS DISTINCT FROM NEW.locked"""


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


def upgrade() -> None:
    # A language tag (BCP 47 allows 35 characters); which ones exist is the code's to say.
    op.add_column("users", sa.Column("language", sa.Text(), nullable=True))
    op.create_check_constraint("language_tag", "users", "char_length(language) <= 35")
    _announce_user_changes(ANNOUNCED + "\n    OR OLD.language IS DISTINCT FROM NEW.language")


def downgrade() -> None:
    _announce_user_changes(ANNOUNCED)
    op.drop_constraint("language_tag", "users", type_="check")
    op.drop_column("users", "language")
