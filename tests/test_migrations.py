"""The schema comes from migrations: they run both ways and match the models."""

from __future__ import annotations

import asyncio
import secrets

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service import migrate
from service.db import create_engine
from service.models import Base
from tests.support import admin_execute, with_database


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
