"""People search: each account's name in the form searches compare (``users.search_name``:
its username and display name, NFKC-normalised, accents removed, lower case; a stored
generated column, so every way an account is written keeps it right) and a trigram index
on it, which answers prefixes, words inside a name and near misses alike.

``pg_trgm`` and ``unaccent`` are trusted extensions: a database owner may create them
without being a superuser.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # IMMUTABLE, as a generated column and an index need: unaccent() alone is only STABLE,
    # because its dictionary could be changed; naming the dictionary fixes it.
    op.execute(
        """
        CREATE FUNCTION search_form(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary,
                                           normalize(value, NFKC))) $$
        """
    )
    op.execute(
        "ALTER TABLE users ADD COLUMN search_name text NOT NULL"
        " GENERATED ALWAYS AS (search_form(username || ' ' || display_name)) STORED"
    )
    op.execute("CREATE INDEX ix_users_search_name ON users USING gin (search_name gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_users_search_name")
    op.execute("ALTER TABLE users DROP COLUMN search_name")
    op.execute("DROP FUNCTION search_form(text)")
    op.execute("DROP EXTENSION IF EXISTS unaccent")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
