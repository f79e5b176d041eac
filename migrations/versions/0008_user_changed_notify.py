"""Announce a change to what a signed-in user is known by (name, email, role, confirmation,
suspension), so every process forgets the sessions it remembers for them at once
(service/reads/session_cache.py).

A trigger, as for ended sessions (0005): the admin commands, the settings pages and any
manual UPDATE all change these columns, and all of them must reach every process. The
counters, updated with every post, follow and like, are left out by the WHEN clause.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# service.events.CHANNEL; written out here because a migration must not change when the
# code does.
CHANNEL = "snapline_events"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION announce_user_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                '{CHANNEL}',
                json_build_object('type', 'user_changed', 'user_id', NEW.id)::text
            );
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_changed AFTER UPDATE ON users
        FOR EACH ROW
        WHEN (OLD.username IS DISTINCT FROM NEW.username
              OR OLD.display_name IS DISTINCT FROM NEW.display_name
              OR OLD.email IS DISTINCT FROM NEW.email
              OR OLD.role IS DISTINCT FROM NEW.role
              OR OLD.email_confirmed_at IS DISTINCT FROM NEW.email_confirmed_at
              OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at)
        EXECUTE FUNCTION announce_user_changed()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_changed ON users")
    op.execute("DROP FUNCTION announce_user_changed()")
