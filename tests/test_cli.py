"""The command line as an operator uses it: a real `python -m service serve` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from service.embedded_pg import free_port
from service.models import User
from tests.support import CSRF_META, message_link

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SNAPLINE_")}
    env.update(
        SNAPLINE_DATABASE_URL=database_url,
        SNAPLINE_SECURITY_ARGON2_TIME_COST="1",
        SNAPLINE_SECURITY_ARGON2_MEMORY_KIB="1024",
        SNAPLINE_SECURITY_ARGON2_PARALLELISM="1",
        **extra,
    )
    return env


def run_command(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def wait_until_healthy(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, "serve exited during start"
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("serve did not become healthy")


@pytest.fixture
async def served(database_url, tmp_path):
    port = free_port()
    mail_dir = tmp_path / "mail"
    # No public_url: in dev, links follow the port the service listens on.
    env = service_env(
        database_url,
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_MAIL_BACKEND="file",
        SNAPLINE_MAIL_FILE_PATH=str(mail_dir),
    )
    # Popen only forks; waiting for the process to be healthy is done without blocking.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "service", "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_healthy(base, process)
        yield base, mail_dir, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)
        process.stderr.close()


async def form_post(
    http: aiohttp.ClientSession, url: str, page: str, data: dict
) -> aiohttp.ClientResponse:
    async with http.get(page) as response:
        token = CSRF_META.search(await response.text()).group(1)
    return await http.post(url, data={**data, "csrf_token": token}, allow_redirects=False)


@pytest.mark.deploy
async def test_serve_signs_up_writes_mail_files_confirms_and_stops_on_sigterm(served, factory):
    base, mail_dir, process = served
    username = factory.unique()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(
        cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=10)
    ) as http:
        response = await form_post(
            http,
            f"{base}/signup",
            f"{base}/signup",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": "plum-kettle-41",
            },
        )
        assert response.status == 303
        deadline = time.monotonic() + 10
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            files = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
            await asyncio.sleep(0.05)
        assert files, "no .eml written"
        message = message_from_bytes(files[-1].read_bytes(), policy=policy.default)
        assert message["To"] == f"{username}@example.com"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert f"{base}/confirm/" in body, body
        async with http.get(base + message_link(message), allow_redirects=False) as confirmed:
            assert confirmed.status == 303
        async with http.get(base + "/") as home:
            assert "Your email address is confirmed" in await home.text()

    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(STOP_TIMEOUT_SECONDS) == 0
    assert time.monotonic() - started < STOP_TIMEOUT_SECONDS
    # The operator is told what stopped, in order.
    log = process.stderr.read().decode()
    steps = [
        "stopped listening",
        "live streams closed",
        "unfinished photo jobs handed back",
        "mail worker stopped",
        "database pools closed",
    ]
    positions = [log.find(step) for step in steps]
    assert -1 not in positions, log[-3000:]
    assert positions == sorted(positions), log[-3000:]


async def test_create_admin_makes_a_confirmed_admin(database_url, factory, db):
    username = factory.unique("admin")
    result = await asyncio.to_thread(
        run_command,
        "create-admin",
        username,
        f"{username}@example.com",
        "--password-stdin",
        env=service_env(database_url),
        stdin="admin-password-1\n",
    )
    assert result.returncode == 0, result.stderr
    async with db() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user.role == "admin"
    assert user.email_confirmed_at is not None


def test_create_admin_refuses_bad_input(database_url):
    result = run_command(
        "create-admin",
        "x",
        "not-an-email",
        "--password-stdin",
        env=service_env(database_url),
        stdin="pw\n",
    )
    assert result.returncode == 2
    assert "3 to 30 characters" in result.stderr


def test_production_refuses_to_start_with_a_placeholder_secret(database_url):
    result = run_command("serve", env=service_env(database_url, SNAPLINE_APP_ENV="production"))
    assert result.returncode == 2
    assert "placeholder" in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess, returncode: int, *words: str):
    assert result.returncode == returncode, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_create_admin_without_a_terminal_says_how_to_give_the_password(database_url):
    result = run_command(
        "create-admin", "someone", "someone@example.com", env=service_env(database_url)
    )
    assert_one_line_error(result, 2, "--password-stdin")


def test_migrate_against_an_unreachable_database_fails_in_one_line():
    nobody = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    result = run_command("migrate", env=service_env(nobody))
    assert_one_line_error(result, 1, "migrate:", "ConnectionRefusedError")


def test_a_settings_file_that_is_not_toml_fails_in_one_line(database_url, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[app\nenv = dev\n")
    result = run_command("migrate", "--settings", str(broken), env=service_env(database_url))
    assert_one_line_error(result, 2, "settings:", str(broken))


def test_settings_option_is_accepted_after_the_command(database_url, tmp_path):
    chosen = tmp_path / "chosen.toml"
    chosen.write_text("[server]\nprot = 1\n")
    before = run_command("--settings", str(chosen), "migrate", env=service_env(database_url))
    after = run_command("migrate", "--settings", str(chosen), env=service_env(database_url))
    # Both read the chosen file: its typo is what stops them.
    assert_one_line_error(before, 2, "prot")
    assert_one_line_error(after, 2, "prot")


def test_a_misspelt_environment_variable_stops_the_service_with_a_suggestion(database_url):
    env = service_env(database_url, SNAPLINE_DATABSE_URL=database_url)
    result = run_command("migrate", env=env)
    assert_one_line_error(result, 2, "SNAPLINE_DATABSE_URL", "SNAPLINE_DATABASE_URL")
