"""A private account's posts are never public by default: the default audience of a locked
account is followers only or unlisted (a check on ``users``), and a change of ``locked``
reaches the caches of signed-in users, as a change of the default audience does (the
composer offers a private account no public audience).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANNOUNCED = """
    OLD.username IS DISTINCT FROM NEW.username
    OR OLD.display_name IS DISTINCT FROM NEW.display_name
    OR OLD.email IS DISTINCT FROM NEW.email
    OR OLD.role IS DISTINCT FROM NEW.role
    OR OLD.email_confirmed_at IS DISTINCT FROM NEW.email_confirmed_at
    OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at
    OR OLD.default_audience IS DISTINCT FROM NEW.default_audience"""


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
    op.execute(
        "UPDATE users SET default_audience = 'followers'"
        " WHERE locked AND default_audience = 'public'"
    )
    op.create_check_constraint(
        "private_default_audience", "users", "NOT (locked AND default_audience = 'public')"
    )
    _announce_user_changes(ANNOUNCED + "\n    OR OLD.locked IS DISTINCT FROM NEW.locked")


def downgrade() -> None:
    _announce_user_changes(ANNOUNCED)
    op.drop_constraint("private_default_audience", "users", type_="check")
