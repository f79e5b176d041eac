"""The schema comes from migrations: they run both ways, each one undoes exactly what it did,
and at head they match the models."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from service import migrate
from service.db import create_engine
from service.models import Base
from tests.support import admin_execute, asyncpg_dsn, with_database

# Everything a migration may create in the public schema, one (kind, name, definition) row
# each, from PostgreSQL's own catalogs; alembic's bookkeeping table is left out (it stays
# behind, empty, once everything is downgraded).
SCHEMA = """
    SELECT 'column', table_name || '.' || column_name,
           concat_ws(' ', udt_name, character_maximum_length, is_nullable, column_default,
                     is_identity, identity_generation, generation_expression)
      FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    UNION ALL
    SELECT 'index', indexname, indexdef
      FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    UNION ALL
    SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
      FROM pg_constraint
     WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'
    UNION ALL
    SELECT 'type', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typnamespace = 'public'::regnamespace
     GROUP BY t.typname
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
      FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
    UNION ALL
    SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
      FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'sequence', sequencename, concat_ws(' ', data_type, increment_by, min_value)
      FROM pg_sequences WHERE schemaname = 'public'
    UNION ALL
    SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = 'public'
"""


async def differences(url: str) -> list:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


@pytest.fixture
async def fresh_database(postgres_server_url: str) -> AsyncIterator[str]:
    """An empty database of its own: migrations are run on it from nothing."""
    name = f"snapline_stairs_{secrets.token_hex(4)}"
    await admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(postgres_server_url, name)
    finally:
        await admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


async def schema_of(url: str) -> set[tuple[str, str, str]]:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        return {tuple(row) for row in await connection.fetch(SCHEMA)}
    finally:
        await connection.close()


async def test_each_revision_upgrades_downgrades_and_upgrades_again(fresh_database):
    """The stairway: every revision, oldest first, is applied, undone one step and applied
    again, on a database that holds exactly the revisions before it. Undoing must give back
    the schema from before, redoing the schema from after; at head it matches the models.
    New revisions are walked too, with no change here."""
    url = fresh_database
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    assert revisions and revisions[-1] == script.get_current_head()
    before = await schema_of(url)
    assert before == set()
    for revision in revisions:
        await asyncio.to_thread(migrate.upgrade, url, revision)
        after = await schema_of(url)
        assert after != before, f"{revision} changed nothing"
        await asyncio.to_thread(migrate.downgrade, url, "-1")
        assert await schema_of(url) == before, f"downgrading {revision} left a difference"
        await asyncio.to_thread(migrate.upgrade, url, revision)
        assert await schema_of(url) == after, f"{revision} differs when applied again"
        before = after
    assert await differences(url) == []


async def test_upgrade_downgrade_upgrade_round_trip(postgres_server_url):
    name = f"snapline_stairs_{secrets.token_hex(4)}"
    await admin_execute(postgres_server_url, f'CREATE DATABASE "{name}"')
    url = with_database(postgres_server_url, name)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        assert "users" in await table_names(url)
        await asyncio.to_thread(migrate.downgrade, url, "base")
        assert await table_names(url) <= {"alembic_version"}
        await asyncio.to_thread(migrate.upgrade, url)
        assert await differences(url) == []
    finally:
        await admin_execute(postgres_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


async def test_models_match_the_migrated_schema(database_url):
    assert await differences(database_url) == []
