"""Scratch databases and child processes for benchmarks: everything on loopback, every
process stopped by its PID and every scratch database dropped, also on failure or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import migrate  # noqa: E402

# SIGTERM first; a process that has not exited this long after it is killed. The service
# itself gives requests 15 s to finish, and none are running by then.
STOP_SECONDS = 20.0
# How long a server may take to answer its health check after it is started.
START_SECONDS = 60.0


class Processes:
    """Child processes started in their own session (so a Ctrl-C on the terminal reaches only
    the benchmark), each stopped by its PID in ``stop_all``."""

    def __init__(self) -> None:
        self._running: list[tuple[str, asyncio.subprocess.Process]] = []

    async def start(
        self, name: str, argv: Sequence[str], env: dict[str, str], log: Path
    ) -> asyncio.subprocess.Process:
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        self._running.append((name, process))
        return process

    async def stop(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._running = [entry for entry in self._running if entry[1] is not process]

    @property
    def pids(self) -> list[int]:
        return [process.pid for _, process in self._running]

    async def stop_all(self) -> None:
        for _, process in reversed(list(self._running)):
            await self.stop(process)


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + START_SECONDS
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{url}: the server exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {START_SECONDS:.0f} s")


async def create_admin(env: dict[str, str], password: str) -> None:
    """The benches' signed-in user, made as an operator makes the first admin."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "create-admin", "bench", "bench@example.com"],
        cwd=ROOT,
        env={**env, "SNAPLINE_ADMIN_PASSWORD": password},
        capture_output=True,
        check=True,
    )


async def post_photos(
    http: aiohttp.ClientSession, base: str, token: str, form: aiohttp.FormData
) -> float:
    """Seconds until the API accepted a post with photos (202)."""
    sent = time.perf_counter()
    async with http.post(
        f"{base}/api/snapline/v1/posts",
        data=form,
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    ) as answer:
        body = await answer.read()
        assert answer.status == 202, (answer.status, body[:300])
    return time.perf_counter() - sent


# The benches post far more, and from newer accounts, than anyone may (the posting limits
# of docs/moderation.md): a service they start lifts them.
UNLIMITED_POSTING = {
    f"SNAPLINE_LIMITS_{action}_PER_{who}": str(10**9)
    for action in ("POSTS", "COMMENTS", "LIKES", "FOLLOWS", "REPORTS")
    for who in ("ACCOUNT", "NEW_ACCOUNT", "ADDRESS")
}


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without any SNAPLINE_* setting of the caller's, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNAPLINE_")}
    env.update(settings)
    return env


class ScratchDatabases:
    """Databases named ``<prefix>_<random>_<label>`` on one server, migrated at creation and
    dropped by ``drop_all``."""

    def __init__(self, server_url: str, prefix: str) -> None:
        self.server_url = server_url
        self.prefix = f"{prefix}_{secrets.token_hex(4)}"
        self._created: list[str] = []

    def url(self, name: str, driver: str = "postgresql") -> str:
        base = self.server_url.rsplit("/", 1)[0].split("://", 1)[1]
        return f"{driver}://{base}/{name}"

    async def create(self, label: str) -> str:
        name = f"{self.prefix}_{label}"
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self._created.append(name)
        await asyncio.to_thread(migrate.upgrade, self.url(name, "postgresql+asyncpg"))
        return name

    async def drop_all(self) -> None:
        if not self._created:
            return
        admin = await asyncpg.connect(self.server_url)
        try:
            for name in self._created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        self._created.clear()


@contextlib.asynccontextmanager
async def connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    connected = await asyncpg.connect(url)
    try:
        yield connected
    finally:
        await connected.close()


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _process_ticks(pids: list[int]) -> int:
    """User and system jiffies used so far by these processes (0 for those gone)."""
    used = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used += int(fields[11]) + int(fields[12])
    return used


async def busy_cores(own_pids: list[int], settle_seconds: float = 3.0) -> float:
    """How many cores other work keeps busy: sampled after the benchmark's own processes
    (``own_pids``) had time to finish what they were doing, and without their own use. A
    run is comparable with another only when this is near zero for both."""
    await asyncio.sleep(settle_seconds)
    busy_before, total_before = _cpu_ticks()
    own_before = _process_ticks(own_pids)
    await asyncio.sleep(settle_seconds)
    busy_after, total_after = _cpu_ticks()
    own = _process_ticks(own_pids) - own_before
    share = (busy_after - busy_before - own) / max(1, total_after - total_before)
    return max(0.0, share) * (os.cpu_count() or 1)
