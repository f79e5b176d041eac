"""The embedded PostgreSQL that `make run` starts: quiet about roles, stopped by its PID."""

from __future__ import annotations

import asyncio

from service.embedded_pg import EmbeddedPostgres


async def test_embedded_server_starts_without_fatal_lines_and_reports_its_stop(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pgdata", durable=False)
    log_file = server.data_dir.parent / f"{server.data_dir.name}.log"
    written_before = log_file.stat().st_size if log_file.exists() else 0
    try:
        await asyncio.to_thread(server.start)
        stopped = await asyncio.to_thread(server.stop)
        assert stopped
        assert not await asyncio.to_thread(server.stop), "nothing left to stop"
        log = log_file.read_bytes()[written_before:].decode()
        # Readiness probes used to connect as the OS user (root), which has no role. (A
        # stop right after the start may end a background connection with another FATAL.)
        refused = [line for line in log.splitlines() if "FATAL" in line and "role" in line]
        assert not refused, log
    finally:
        await asyncio.to_thread(server.discard)
