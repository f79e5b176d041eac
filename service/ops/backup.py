"""Backups without pg_dump: every table copied out with COPY in one REPEATABLE READ READ ONLY
transaction (one snapshot, so counters, posts and their photos agree), the schema's
alembic revision and the identity sequences recorded, and every stored object copied
beside them with its SHA-256. A restore migrates an empty database to that revision, copies
the tables back in foreign-key order in one transaction, sets the sequences, puts the
objects back and checks every count.

pg_dump would have to match the server's major version and is not in the image; COPY is
spoken by the driver we already use, and the schema comes from our own migrations, so the
dump only needs the rows. Binary COPY keeps every value exactly (no DateStyle, time zone or
bytea escaping in between); the restore creates the same column types through the same
migrations, which is what binary COPY needs."""

from __future__ import annotations

import asyncio
import graphlib
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from service import migrate
from service.db import asyncpg_dsn
from service.ops.database import Failed, NotFound, Refused
from service.ops.sweep import EXPECTED_OBJECTS, expected_of
from service.storage.backends import Storage
from service.storage.urls import CONTENT_TYPES, KEY_PATTERN

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONNECT_TIMEOUT_SECONDS = 10.0
# Objects copied at once: enough to hide a remote store's latency, few enough for memory
# (an object is at most a 1080 px rendition, a few hundred kB).
OBJECT_CONCURRENCY = 8
HASH_CHUNK_BYTES = 1024 * 1024


class RestoreFailed(Failed):
    """The restored data does not match the backup (exit status 1)."""


_TABLES = """
    SELECT c.relname AS name,
           array_agg(a.attname::text ORDER BY a.attnum) AS columns
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.attgenerated = ''
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
       AND c.relname <> 'alembic_version'
     GROUP BY c.relname
     ORDER BY c.relname
"""
_SEQUENCES = """
    SELECT c.relname AS table_name, a.attname AS column_name,
           pg_get_serial_sequence(format('%I.%I', 'public', c.relname), a.attname) AS sequence
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
       AND pg_get_serial_sequence(format('%I.%I', 'public', c.relname), a.attname) IS NOT NULL
"""
_FOREIGN_KEYS = """
    SELECT child.relname AS child, parent.relname AS parent
      FROM pg_constraint k
      JOIN pg_class child ON child.oid = k.conrelid
      JOIN pg_class parent ON parent.oid = k.confrelid
     WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
"""


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def _connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(database_url), timeout=CONNECT_TIMEOUT_SECONDS)


def _usable_directory(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise Refused(f"{directory} is not an empty directory; back up into a new one")


async def _dump_tables(connection: asyncpg.Connection, directory: Path) -> dict[str, Any]:
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        try:
            revision = await connection.fetchval("SELECT version_num FROM alembic_version")
        except asyncpg.UndefinedTableError as error:
            raise Refused("the database has no schema (run migrate first?)") from error
        tables = []
        for row in await connection.fetch(_TABLES):
            file = f"tables/{row['name']}.copy"
            status = await connection.copy_from_table(
                row["name"],
                columns=row["columns"],
                output=str(directory / file),
                format="binary",
            )
            tables.append(
                {
                    "name": row["name"],
                    "columns": list(row["columns"]),
                    "rows": int(status.split()[-1]),
                    "file": file,
                }
            )
        sequences = []
        for row in await connection.fetch(_SEQUENCES):
            last_value, is_called = await connection.fetchrow(
                f"SELECT last_value, is_called FROM {row['sequence']}"
            )
            sequences.append(
                {
                    "table": row["table_name"],
                    "column": row["column_name"],
                    "last_value": last_value,
                    "is_called": is_called,
                }
            )
        expected = {
            key
            for row in await connection.fetch(EXPECTED_OBJECTS)
            for key in expected_of(
                row["kind"], row["key_prefix"], row["extension"], row["renditions"]
            )
        }
    for table in tables:
        table["sha256"] = await asyncio.to_thread(_sha256_of, directory / table["file"])
    return {"revision": revision, "tables": tables, "sequences": sequences, "expected": expected}


async def _copy_objects_out(storage: Storage, directory: Path) -> list[dict[str, Any]]:
    keys = [item.key for item in await storage.list_objects() if KEY_PATTERN.match(item.key)]
    limit = asyncio.Semaphore(OBJECT_CONCURRENCY)

    async def copy(key: str) -> dict[str, Any]:
        async with limit:
            data = await storage.get(key)
            await asyncio.to_thread(_write, directory / "objects" / key, data)
        return {"key": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    return list(await asyncio.gather(*(copy(key) for key in keys)))


async def backup(database_url: str, storage: Storage, directory: Path) -> dict[str, Any]:
    """Write a backup into ``directory`` (new or empty); returns its manifest. The manifest
    is written last: a directory without one is an interrupted backup."""
    _usable_directory(directory)
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    (directory / "objects").mkdir(exist_ok=True)
    started = datetime.now(UTC)
    connection = await _connect(database_url)
    try:
        dumped = await _dump_tables(connection, directory)
    finally:
        await connection.close()
    # Objects are copied after the snapshot: one stored since is an extra (a sweep finds
    # it after a restore); one deleted since (its post deleted meanwhile) is reported.
    objects = await _copy_objects_out(storage, directory)
    copied = {item["key"] for item in objects}
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": started.isoformat(timespec="seconds"),
        "alembic_revision": dumped["revision"],
        "tables": dumped["tables"],
        "sequences": dumped["sequences"],
        "objects": objects,
        "missing_objects": sorted(dumped["expected"] - copied),
    }
    text = json.dumps(manifest, indent=2) + "\n"
    await asyncio.to_thread((directory / MANIFEST).write_text, text)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise NotFound(f"{path} does not exist: not a complete backup")
    try:
        manifest = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise Refused(f"{path} is not a backup manifest: {error}") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise Refused(f"{path}: backup format {manifest.get('format')!r} is not {FORMAT_VERSION}")
    return manifest


def verify_files(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file of the backup is there with the checksum recorded when it was written."""
    files = [(table["file"], table["sha256"]) for table in manifest["tables"]]
    files += [(f"objects/{item['key']}", item["sha256"]) for item in manifest["objects"]]
    for name, sha256 in files:
        path = directory / name
        if not path.is_file():
            raise Refused(f"the backup lacks {name}")
        if _sha256_of(path) != sha256:
            raise Refused(f"{name} does not match its checksum in the manifest")


async def _database_is_empty(connection: asyncpg.Connection, revision: str) -> None:
    """Refuse anything but a database with no tables, or one migrated to the backup's
    revision with not a row in any table (as a restore cut short leaves it)."""
    tables = [row["name"] for row in await connection.fetch(_TABLES)]
    if not tables:
        return
    present = await connection.fetchval(
        "SELECT version_num FROM alembic_version"
        if await connection.fetchval("SELECT to_regclass('public.alembic_version')")
        else "SELECT NULL"
    )
    if present != revision:
        raise Refused(
            f"the database is not empty (schema {present or 'unknown'}); "
            "restore into a new, empty database"
        )
    for table in tables:
        if await connection.fetchval(f"SELECT EXISTS (SELECT FROM {quoted(table)})"):
            raise Refused(
                f"the database is not empty (table {table} has rows); "
                "restore into a new, empty database"
            )


def _load_order(foreign_keys: list[asyncpg.Record], tables: list[str]) -> list[str]:
    """Referenced tables before the tables that refer to them."""
    graph: dict[str, set[str]] = {table: set() for table in tables}
    for row in foreign_keys:
        if row["child"] in graph and row["parent"] != row["child"]:
            graph[row["child"]].add(row["parent"])
    return list(graphlib.TopologicalSorter(graph).static_order())


async def _load_tables(
    connection: asyncpg.Connection, directory: Path, manifest: dict[str, Any]
) -> None:
    tables = {table["name"]: table for table in manifest["tables"]}
    async with connection.transaction():
        order = _load_order(await connection.fetch(_FOREIGN_KEYS), list(tables))
        for name in order:
            table = tables[name]
            await connection.copy_to_table(
                name,
                source=str(directory / table["file"]),
                columns=table["columns"],
                format="binary",
            )
        for sequence in manifest["sequences"]:
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)",
                f"public.{quoted(sequence['table'])}",
                sequence["column"],
                sequence["last_value"],
                sequence["is_called"],
            )
        for name, table in tables.items():
            count = await connection.fetchval(f"SELECT count(*) FROM {quoted(name)}")
            if count != table["rows"]:
                raise RestoreFailed(f"table {name}: {count} rows restored, not {table['rows']}")


async def _objects_to_put(storage: Storage, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The backup's objects storage lacks. Storage must hold nothing else: objects of this
    backup already there (a restore cut short) are kept, anything else is refused."""
    wanted = {item["key"]: item for item in manifest["objects"]}
    present = await storage.list_objects()
    for item in present:
        if item.key not in wanted or wanted[item.key]["size"] != item.size:
            raise Refused(f"storage is not empty (it holds {item.key}); restore into empty storage")
    have = {item.key for item in present}
    return [item for item in manifest["objects"] if item["key"] not in have]


async def _put_objects(storage: Storage, directory: Path, items: list[dict[str, Any]]) -> None:
    limit = asyncio.Semaphore(OBJECT_CONCURRENCY)

    async def put(item: dict[str, Any]) -> None:
        async with limit:
            data = await asyncio.to_thread((directory / "objects" / item["key"]).read_bytes)
            content_type = CONTENT_TYPES[item["key"].rsplit(".", 1)[1]]
            await storage.put(item["key"], data, content_type)

    await asyncio.gather(*(put(item) for item in items))


async def restore(database_url: str, storage: Storage, directory: Path) -> dict[str, Any]:
    """Restore the backup in ``directory`` into an empty database and empty storage;
    returns its manifest. Checks everything it can before it changes anything."""
    manifest = read_manifest(directory)
    await asyncio.to_thread(verify_files, directory, manifest)
    connection = await _connect(database_url)
    try:
        await _database_is_empty(connection, manifest["alembic_revision"])
    finally:
        await connection.close()
    missing = await _objects_to_put(storage, manifest)
    # Alembic runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(migrate.upgrade, database_url, manifest["alembic_revision"])
    await _put_objects(storage, directory, missing)
    connection = await _connect(database_url)
    try:
        await _load_tables(connection, directory, manifest)
    finally:
        await connection.close()
    stored = {item.key: item.size for item in await storage.list_objects()}
    for item in manifest["objects"]:
        if stored.get(item["key"]) != item["size"]:
            raise RestoreFailed(f"object {item['key']} is not in storage after the restore")
    return manifest
