"""Announce the end of a live session, so every process closes that session's live streams.

A trigger rather than a NOTIFY in each command: logout, a password change or reset, an
account deleted (the rows go by cascade) and any manual DELETE all end sessions, and all of
them must reach the streams. The notification is sent from the deleting transaction, so it
arrives only if the delete commits. Rows that had already expired are not announced: the
housekeeping sweep deletes them by the thousand, and their streams were already closed by
each process's periodic session check (service/live.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# service.events.CHANNEL; written out here because a migration must not change when the
# code does.
CHANNEL = "snapline_events"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION announce_session_ended() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.expires_at > now() THEN
                PERFORM pg_notify(
                    '{CHANNEL}',
                    json_build_object(
                        'type', 'session_ended',
                        'user_id', OLD.user_id,
                        'session', encode(OLD.id_hash, 'hex')
                    )::text
                );
            END IF;
            RETURN OLD;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER auth_sessions_ended AFTER DELETE ON auth_sessions"
        " FOR EACH ROW EXECUTE FUNCTION announce_session_ended()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER auth_sessions_ended ON auth_sessions")
    op.execute("DROP FUNCTION announce_session_ended()")
