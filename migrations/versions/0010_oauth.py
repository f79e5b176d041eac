"""OAuth 2: registered apps, authorization codes and access tokens (app tokens, app-only
tokens and personal access tokens), with the announcement of a revoked token so every
process forgets it at once (service/reads/token_cache.py), as 0005 does for sessions.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
# service.events.CHANNEL; written out here because a migration must not change when the
# code does.
CHANNEL = "snapline_events"


def upgrade() -> None:
    op.create_table(
        "oauth_apps",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("client_secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("website", sa.String(2000), nullable=True),
        sa.Column("redirect_uris", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_apps_client_id")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column(
            "app_id",
            sa.BigInteger(),
            sa.ForeignKey("oauth_apps.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
        sa.CheckConstraint("app_id IS NOT NULL OR user_id IS NOT NULL", name="owner"),
    )
    op.create_index(op.f("ix_access_tokens_app_id"), "access_tokens", ["app_id"])
    op.create_index(op.f("ix_access_tokens_user_id"), "access_tokens", ["user_id"])
    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "app_id",
            sa.BigInteger(),
            sa.ForeignKey("oauth_apps.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column(
            "token_id",
            sa.BigInteger(),
            sa.ForeignKey("access_tokens.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index(op.f("ix_oauth_codes_app_id"), "oauth_codes", ["app_id"])
    op.create_index(op.f("ix_oauth_codes_user_id"), "oauth_codes", ["user_id"])
    op.create_index(op.f("ix_oauth_codes_token_id"), "oauth_codes", ["token_id"])
    # A trigger, as for sessions: /oauth/revoke, the settings pages, an app or an account
    # deleted (the rows go by cascade) and any manual DELETE all revoke tokens.
    op.execute(
        f"""
        CREATE FUNCTION announce_token_revoked() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                '{CHANNEL}',
                json_build_object(
                    'type', 'token_revoked', 'token', encode(OLD.token_hash, 'hex')
                )::text
            );
            RETURN OLD;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER access_tokens_revoked AFTER DELETE ON access_tokens"
        " FOR EACH ROW EXECUTE FUNCTION announce_token_revoked()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER access_tokens_revoked ON access_tokens")
    op.execute("DROP FUNCTION announce_token_revoked()")
    op.drop_table("oauth_codes")
    op.drop_table("access_tokens")
    op.drop_table("oauth_apps")
