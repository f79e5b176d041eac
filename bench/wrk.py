"""Drive one URL with wrk (the Debian package) and read its figures: requests/s, p50, p99."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shutil
from pathlib import Path

# Two cores are shared by the app, PostgreSQL and the load generator: wrk gets at most two
# threads (fewer when there are fewer connections).
MAX_THREADS = 2
# wrk counts a request slower than this as a timeout and leaves it out of the latency
# figures; far above any healthy answer, so a slow p99 shows as slow rather than vanishing.
REQUEST_TIMEOUT_SECONDS = 10
# A run that has not finished this long after its duration is stuck; stop it.
GRACE_SECONDS = 30

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkMissing(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Result:
    connections: int
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    # Non-2xx/3xx answers plus socket errors (connect, read, write, timeout).
    errors: int


def combined(runs: list[Result]) -> Result:
    """Runs of one case as one figure: the mean rate, the worst latencies."""
    return Result(
        connections=runs[0].connections,
        requests=sum(run.requests for run in runs),
        requests_per_second=sum(run.requests_per_second for run in runs) / len(runs),
        p50_ms=max(run.p50_ms for run in runs),
        p99_ms=max(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed (Debian: apt-get install wrk; `make bench` does)")
    return path


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS_MS[unit]


def parse(output: str, connections: int) -> Result:
    def field(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match.group(1)

    errors = 0
    if sockets := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(count) for count in sockets.groups())
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad.group(1))
    return Result(
        connections=connections,
        requests=int(field(r"^\s*(\d+) requests in")),
        requests_per_second=float(field(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(field(r"^\s+50%\s+(\S+)")),
        p99_ms=_milliseconds(field(r"^\s+99%\s+(\S+)")),
        errors=errors,
    )


async def run(
    url: str,
    connections: int,
    seconds: int,
    headers: dict[str, str],
    script: Path | None = None,
) -> Result:
    """One bounded wrk run on a loopback URL (with ``script``, a Lua script choosing each
    request's path). wrk runs in its own session so a Ctrl-C reaches only this script,
    which stops it by its PID."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load stays on loopback: {url}")
    arguments = [
        wrk_path(),
        f"--threads={min(MAX_THREADS, connections)}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
        "--latency",
    ]
    for name, value in headers.items():
        arguments += ["--header", f"{name}: {value}"]
    if script is not None:
        arguments += ["--script", str(script)]
    process = await asyncio.create_subprocess_exec(
        *arguments,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), seconds + GRACE_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{text}")
    return parse(text, connections)
