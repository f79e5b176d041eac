"""Production-shaped serving for tests: Debian's nginx with a config derived from
deploy/nginx.conf, in front of `python -m service serve` processes on a unix socket and on a
loopback port. Every process is started here and stopped by its PID, on failure too."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from service.embedded_pg import free_port
from tests.test_cli import PROJECT_ROOT, service_env

NGINX = Path(shutil.which("nginx") or "/usr/sbin/nginx")
DEPLOY_CONFIG = PROJECT_ROOT / "deploy" / "nginx.conf"
STATIC_DIR = PROJECT_ROOT / "service" / "static"
# Every line of deploy/nginx.conf ending in "# test: NAME" is replaced; all must be there.
MARKER = re.compile(r"^(?P<indent>[ \t]*)[^#\n]*;[ \t]*#[ \t]*test:[ \t]*(?P<name>[\w-]+)[ \t]*$")
MARKERS = frozenset(
    {"workers", "pid", "error_log", "access_log", "upstream", "listen", "static", "objects"}
)
# Debian's nginx keeps these under /var/lib/nginx; ours live in the temporary prefix.
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.05


class ConfigError(ValueError):
    """deploy/nginx.conf lost a marker the tests rely on, or has one they do not know."""


def derive_config(
    source: str,
    *,
    prefix: Path,
    port: int,
    upstreams: Sequence[str],
    static_dir: Path,
    objects: str | None = None,
) -> str:
    """deploy/nginx.conf's text made runnable by a test: upstream servers are ``upstreams``
    (``unix:/path`` or ``127.0.0.1:PORT``), it listens on 127.0.0.1:``port``, serves
    ``static_dir`` under /static/ and the bucket at ``objects`` (``http://host:port/bucket``)
    under /objects/, and keeps its pid, logs and temporary files in ``prefix``."""
    if not upstreams:
        raise ValueError("at least one upstream server")
    replacements = {
        "workers": ["worker_processes 2;"],
        "pid": [f"pid {prefix / 'nginx.pid'};"],
        "error_log": [f"error_log {prefix / 'error.log'} info;"],
        "access_log": [f"access_log {prefix / 'access.log'} snapline;"],
        "upstream": [f"server {address};" for address in upstreams],
        "listen": [f"listen 127.0.0.1:{port};"],
        "static": [f"alias {str(static_dir).rstrip('/')}/;"],
        # The bucket of the compose setup; the tests' apps keep files on local disk.
        "objects": [f"proxy_pass {objects.rstrip('/')}/;" if objects else "return 404;"],
    }
    seen: set[str] = set()
    lines: list[str] = []
    for line in source.splitlines():
        match = MARKER.match(line)
        if match is None:
            lines.append(line)
            if re.match(r"^\s*http\s*\{", line):
                lines += [
                    f"    {kind}_temp_path {prefix / (kind + '_temp')};" for kind in TEMP_PATHS
                ]
            continue
        name = match["name"]
        if name not in replacements or name in seen:
            raise ConfigError(f"unexpected or repeated marker '# test: {name}'")
        seen.add(name)
        lines += [match["indent"] + directive for directive in replacements[name]]
    if missing := MARKERS - seen:
        raise ConfigError(f"markers missing from the nginx config: {sorted(missing)}")
    return "\n".join(lines) + "\n"


def private_dir(prefix: str) -> Path:
    """A short temporary directory (unix socket paths are limited to 107 bytes) that
    nginx's workers can enter: started by root, they run as an unprivileged user."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


def children_of(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in text.split()]
    return []


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int | None:
    """Signal ``process`` and wait, bounded; kill it (and children it left) if it hangs."""
    if process.poll() is None:
        children = children_of(process.pid)
        process.send_signal(sig)
        try:
            return process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
    return process.returncode


def port_accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def get_status(target: str, path: str, timeout: float = 2.0) -> int | None:
    """Status of GET ``path`` from ``unix:/socket`` or ``127.0.0.1:PORT``; None when it
    does not answer."""
    if target.startswith("unix:"):
        connection: http.client.HTTPConnection = UnixHTTPConnection(target[5:], timeout)
    else:
        host, port = target.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a log file, one per line; other lines are skipped."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
    return entries


class AppProcess:
    """`python -m service serve --no-migrate` on a unix socket or a loopback port, its log
    (JSON lines on stderr) in a file."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str], *, unix: bool) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        args = [sys.executable, "-m", "service", "serve", "--no-migrate"]
        if unix:
            self.target = f"unix:{workdir / f'{name}.sock'}"
            args += ["--unix", self.target[5:]]
        else:
            self.port = free_port()
            self.target = f"127.0.0.1:{self.port}"
            args += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
            )

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            if get_status(self.target, "/healthz") == 200:
                return
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"{self.name} did not become healthy")

    def log(self) -> list[dict[str, Any]]:
        return json_lines(self.log_path)

    def access_log(self) -> list[dict[str, Any]]:
        return [entry for entry in self.log() if entry.get("logger") == "aiohttp.access"]

    def stop(self) -> int | None:
        return stop_process(self.process)


class Nginx:
    """Debian's nginx in the foreground on a free loopback port, with its own config."""

    def __init__(
        self,
        workdir: Path,
        upstreams: Sequence[str],
        *,
        port: int | None = None,
        static_dir: Path = STATIC_DIR,
        objects: str | None = None,
    ) -> None:
        self.prefix = workdir / "nginx"
        self.prefix.mkdir(mode=0o755)
        # nginx's workers run as an unprivileged user, who may not be able to enter the
        # checkout (a clone in a private temporary directory): serve a copy from here.
        served_static = self.prefix / "static"
        shutil.copytree(static_dir, served_static)
        static_dir = served_static
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_path = self.prefix / "nginx.conf"
        self.config_path.write_text(
            derive_config(
                DEPLOY_CONFIG.read_text(),
                prefix=self.prefix,
                port=self.port,
                upstreams=upstreams,
                static_dir=static_dir,
                objects=objects,
            )
        )
        self.output_path = self.prefix / "output.log"
        self.process: subprocess.Popen | None = None

    def command(self, *extra: str) -> list[str]:
        # -e: the error log before the config is read (Debian's default is stderr).
        return [
            str(NGINX),
            "-p",
            str(self.prefix),
            "-c",
            str(self.config_path),
            "-e",
            str(self.prefix / "error.log"),
            *extra,
        ]

    def check(self) -> subprocess.CompletedProcess:
        """``nginx -t`` on the derived config."""
        return subprocess.run(
            self.command("-t"), capture_output=True, text=True, timeout=STOP_TIMEOUT_SECONDS
        )

    def start(self) -> None:
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                self.command("-g", "daemon off;"),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited: {self.errors()}")
            if port_accepts(self.port):
                return
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"nginx did not listen on {self.port}: {self.errors()}")

    def errors(self) -> str:
        texts = [
            path.read_text(errors="replace")[-2000:]
            for path in (self.output_path, self.prefix / "error.log")
            if path.exists()
        ]
        return "\n".join(texts)

    def access_log(self) -> list[dict[str, Any]]:
        return json_lines(self.prefix / "access.log")

    def stop(self) -> int | None:
        # SIGTERM is nginx's fast shutdown: open streams are closed rather than awaited.
        return stop_process(self.process) if self.process is not None else None


class Stack:
    """nginx in front of two app processes: ``a`` on a unix socket, ``b`` on a port."""

    def __init__(self, workdir: Path, env: dict[str, str], nginx: Nginx, apps: list[AppProcess]):
        self.workdir = workdir
        self.env = env
        self.nginx = nginx
        self.a, self.b = apps
        self.apps = apps
        self.mail_dir = Path(env["SNAPLINE_MAIL_FILE_PATH"])
        self.public_url = env["SNAPLINE_APP_PUBLIC_URL"]

    def server_of(self, request_id: str) -> AppProcess | None:
        """The process that logged the request with this id."""
        for app in self.apps:
            if any(entry.get("request_id") == request_id for entry in app.access_log()):
                return app
        return None


def stack_env(database_url: str, workdir: Path, nginx_port: int) -> dict[str, str]:
    return service_env(
        database_url,
        SNAPLINE_APP_ENV="production",
        SNAPLINE_APP_SECRET_KEY="nginx-test-" + "k" * 40,
        SNAPLINE_APP_PUBLIC_URL=f"http://127.0.0.1:{nginx_port}",
        # Believe the direct peer, whatever it is: behind nginx on a unix socket there is
        # no peer address to list.
        SNAPLINE_SERVER_TRUSTED_PROXIES='["*"]',
        # The tests read mail from files.
        SNAPLINE_APP_ALLOW_LOCAL_SERVICES="true",
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(workdir / "mail"),
        SNAPLINE_STORAGE_LOCAL_PATH=str(workdir / "media"),
    )


@contextlib.contextmanager
def nginx_stack(database_url: str, **env_overrides: str) -> Iterator[Stack]:
    """Two serve processes (unix socket and TCP) behind nginx, with ``env_overrides`` on
    top of stack_env; everything stopped by PID and the temporary directory removed on
    the way out."""
    workdir = private_dir("snapline-nginx-")
    started: list[AppProcess | Nginx] = []
    try:
        apps = []
        # nginx's port is chosen first: it is the public URL the apps put in emails.
        port = free_port()
        env = {**stack_env(database_url, workdir, port), **env_overrides}
        for name, unix in (("a", True), ("b", False)):
            apps.append(AppProcess(name, workdir, env, unix=unix))
            started.append(apps[-1])
        for app in apps:
            app.wait_healthy()
        nginx = Nginx(workdir, [app.target for app in apps], port=port)
        started.append(nginx)
        nginx.start()
        yield Stack(workdir, env, nginx, apps)
    finally:
        for process in reversed(started):
            process.stop()
        shutil.rmtree(workdir, ignore_errors=True)
