"""Settings: a TOML file overlaid by SNAPLINE_<SECTION>_<KEY> environment variables.

The result is a frozen, validated object handed to ``create_app``; nothing here runs at
import time, so tests build their own settings without touching the environment.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from ipaddress import ip_network
from pathlib import Path
from typing import Any, get_type_hints

from service.i18n import LANGUAGES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_PATH = PROJECT_ROOT / "settings.toml"
ENV_PREFIX = "SNAPLINE_"
# Secrets that must never reach production: the shipped default and obvious stand-ins.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "insecure"})
MIN_PRODUCTION_SECRET_CHARS = 32
# Environment variables with the prefix that are not settings keys.
NON_SETTING_ENV_NAMES = frozenset({"SNAPLINE_SETTINGS", "SNAPLINE_ADMIN_PASSWORD"})
# Addresses that mean "every interface": links must name one a browser can open.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
# In server.metrics_allow: peers on a unix socket, which have no address.
UNIX_PEER = "unix"


class SettingsError(ValueError):
    """The settings cannot run the service; the message says which key and why."""


@dataclasses.dataclass(frozen=True)
class AppSettings:
    env: str = "dev"
    # Empty in dev: follows server.host and server.port. Required outside dev.
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str = "change-me"
    # Outside dev, the embedded database, media on a relative path and mail to files are
    # refused unless the operator says this is a one-host trial.
    allow_local_services: bool = False
    # The languages offered (docs/translating.md), and the one for a visitor whose browser
    # asks for none of them.
    languages: tuple[str, ...] = ("en", "zh-Hans")
    default_language: str = "en"


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    trusted_proxies: tuple[str, ...] = ()
    access_log: bool = True
    # Who may read /metrics (service/web/metrics_access.py): addresses, networks, "unix".
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1", UNIX_PEER)


@dataclasses.dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""
    # SQLAlchemy's pool, for units of work and background jobs. Fixed: an overflow
    # connection is closed when it comes back to a full pool, so under steady load overflow
    # connections are opened and closed all the time, each costing milliseconds of setup.
    pool_size: int = 4
    pool_max_overflow: int = 0
    # The driver connections for the reads every request makes (db.create_read_pool).
    read_pool_size: int = 8


@dataclasses.dataclass(frozen=True)
class StorageSettings:
    backend: str = "local"
    local_path: str = "var/media"
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_public_url: str = ""


@dataclasses.dataclass(frozen=True)
class MailSettings:
    backend: str = "file"
    file_path: str = "var/mail"
    sender: str = "Snapline <noreply@snapline.localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: str = "none"
    smtp_timeout_seconds: float = 10.0
    retry_base_seconds: float = 5.0


@dataclasses.dataclass(frozen=True)
class SecuritySettings:
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    session_max_age_days: int = 30
    # Bearer requests (apps and scripts) per token and per client address in each window:
    # Mastodon's defaults (300 per account and 7500 per address every 5 minutes).
    api_requests_per_token: int = 300
    api_requests_per_address: int = 7500
    api_rate_window_seconds: int = 300


@dataclasses.dataclass(frozen=True)
class MediaSettings:
    # Decoded pixels all image work of a process may hold at once
    # (service/workers/media/budget.py): about 5 bytes each at the peak, so the default of
    # one 40 MP image is about 200 MB.
    image_pixel_budget: int = 40_000_000


@dataclasses.dataclass(frozen=True)
class AccountSettings:
    # How long an account its owner asked to delete stays hidden, and comes back when they
    # log in, before everything of it is deleted.
    deletion_grace_seconds: int = 30 * 24 * 3600
    # How long the link to an archive of one's data works; then the archive is deleted.
    export_lifetime_seconds: int = 7 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class LimitSettings:
    """Posts, comments, likes, follows and reports per account and per client address in each
    window (service/handlers/flood.py); an account younger than ``new_account_seconds``
    gets the stricter ``*_per_new_account`` instead of ``*_per_account``."""

    window_seconds: int = 3600
    new_account_seconds: int = 24 * 3600
    posts_per_account: int = 60
    posts_per_new_account: int = 10
    posts_per_address: int = 300
    comments_per_account: int = 200
    comments_per_new_account: int = 30
    comments_per_address: int = 1000
    likes_per_account: int = 600
    likes_per_new_account: int = 100
    likes_per_address: int = 3000
    follows_per_account: int = 200
    follows_per_new_account: int = 40
    follows_per_address: int = 1000
    reports_per_account: int = 20
    reports_per_new_account: int = 5
    reports_per_address: int = 100


@dataclasses.dataclass(frozen=True)
class Settings:
    app: AppSettings = AppSettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    mail: MailSettings = MailSettings()
    security: SecuritySettings = SecuritySettings()
    media: MediaSettings = MediaSettings()
    accounts: AccountSettings = AccountSettings()
    limits: LimitSettings = LimitSettings()

    @property
    def is_https(self) -> bool:
        return self.app.public_url.lower().startswith("https://")

    def resolve_path(self, value: str) -> Path:
        """Relative paths in settings are relative to the project root, not the cwd."""
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def replace(self, **sections: Mapping[str, Any]) -> Settings:
        """A copy with some keys changed: ``settings.replace(database={"url": ...})``."""
        changed = {
            name: dataclasses.replace(getattr(self, name), **values)
            for name, values in sections.items()
        }
        result = dataclasses.replace(self, **changed)
        validate(result)
        return result


def _coerce(value: Any, kind: Any, where: str) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off", ""}:
            return False
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, str):
            return value
    elif kind == tuple[str, ...]:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(item.strip() for item in value if item.strip())
    raise SettingsError(f"{where}: expected {getattr(kind, '__name__', kind)}, got {value!r}")


def _build_section(cls: type, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    hints = get_type_hints(cls)
    unknown = set(raw) - set(hints)
    if unknown:
        raise SettingsError(f"unknown setting(s) in [{name}]: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, kind in hints.items():
        env_name = f"{ENV_PREFIX}{name}_{key}".upper()
        if env_name in env:
            values[key] = _coerce(env[env_name], kind, env_name)
        elif key in raw:
            values[key] = _coerce(raw[key], kind, f"{name}.{key}")
    return cls(**values)


def setting_env_names() -> dict[str, str]:
    """Every environment variable that sets a key, with the key it sets."""
    return {
        f"{ENV_PREFIX}{section}_{key}".upper(): f"{section}.{key}"
        for section, cls in get_type_hints(Settings).items()
        for key in get_type_hints(cls)
    }


def _refuse_unknown_env(env: Mapping[str, str]) -> None:
    """A misspelt variable would otherwise be ignored and its default used in silence."""
    known = setting_env_names().keys() | NON_SETTING_ENV_NAMES
    for name in sorted(env):
        if name.upper().startswith(ENV_PREFIX) and name not in known:
            # Compared without the shared prefix, which would make every name look close.
            suffixes = [known_name.removeprefix(ENV_PREFIX) for known_name in known]
            rest = name.upper().removeprefix(ENV_PREFIX)
            close = difflib.get_close_matches(rest, suffixes, n=1, cutoff=0.6)
            hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""
            raise SettingsError(f"{name} names no setting{hint}")


def listening_url(host: str, port: int) -> str:
    """The address a browser on this machine opens to reach a server listening there."""
    name = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}"


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file (``path``, else $SNAPLINE_SETTINGS, else the project's settings.toml),
    apply environment overrides, validate and return the frozen result."""
    env = os.environ if env is None else env
    _refuse_unknown_env(env)
    chosen = Path(path or env.get("SNAPLINE_SETTINGS") or DEFAULT_SETTINGS_PATH)
    try:
        with chosen.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"settings file not found: {chosen}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{chosen}: {exc}") from exc
    sections = get_type_hints(Settings)
    unknown = set(raw) - set(sections)
    if unknown:
        raise SettingsError(f"unknown section(s): {', '.join(sorted(unknown))}")
    built = {
        name: _build_section(cls, name, raw.get(name, {}), env) for name, cls in sections.items()
    }
    settings = Settings(**built)
    if settings.app.env == "dev" and not settings.app.public_url:
        server = settings.server
        settings = dataclasses.replace(
            settings,
            app=dataclasses.replace(
                settings.app, public_url=listening_url(server.host, server.port)
            ),
        )
    validate(settings)
    return settings


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SettingsError(message)


def _is_network(text: str) -> bool:
    try:
        ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def validate(settings: Settings) -> None:
    app, mail, storage = settings.app, settings.mail, settings.storage
    _require(app.env in {"dev", "production"}, "app.env must be 'dev' or 'production'")
    if app.env != "dev":
        _require(
            app.secret_key.strip().lower() not in PLACEHOLDER_SECRETS
            and len(app.secret_key) >= MIN_PRODUCTION_SECRET_CHARS,
            "app.secret_key is a placeholder: set SNAPLINE_APP_SECRET_KEY to a random value "
            f"of at least {MIN_PRODUCTION_SECRET_CHARS} characters",
        )
    _require(
        app.public_url.startswith(("http://", "https://")),
        "app.public_url must be an absolute http(s) URL (the address users open)",
    )
    for language in app.languages:
        _require(
            language in LANGUAGES,
            f"app.languages: {language!r} has no catalogue (known: {', '.join(LANGUAGES)})",
        )
    _require(
        app.default_language in app.languages,
        "app.default_language must be one of app.languages",
    )
    if app.env != "dev" and not app.allow_local_services:
        _require_production_services(settings)
    _require(
        settings.database.url == "" or settings.database.url.startswith("postgresql"),
        "database.url must be a postgresql+asyncpg:// URL (or empty for the embedded server)",
    )
    _require(storage.backend in {"local", "s3"}, "storage.backend must be 'local' or 's3'")
    if storage.backend == "s3":
        _require(bool(storage.s3_bucket), "storage.s3_bucket is required with the s3 backend")
    _require(mail.backend in {"file", "smtp"}, "mail.backend must be 'file' or 'smtp'")
    _require(mail.smtp_tls in {"none", "starttls", "tls"}, "mail.smtp_tls: none|starttls|tls")
    _require(1 <= settings.server.port <= 65535, "server.port must be 1..65535")
    for entry in settings.server.metrics_allow:
        _require(
            entry == UNIX_PEER or _is_network(entry),
            f"server.metrics_allow: {entry!r} is not an address, a network or {UNIX_PEER!r}",
        )
    _require(settings.database.pool_size >= 1, "database.pool_size must be at least 1")
    _require(settings.database.read_pool_size >= 1, "database.read_pool_size must be at least 1")
    _require(settings.media.image_pixel_budget >= 1, "media.image_pixel_budget must be at least 1")
    security = settings.security
    for key in ("api_requests_per_token", "api_requests_per_address", "api_rate_window_seconds"):
        _require(getattr(security, key) >= 1, f"security.{key} must be at least 1")
    for key, value in dataclasses.asdict(settings.accounts).items():
        _require(value >= 0, f"accounts.{key} must not be negative")
    for key, value in dataclasses.asdict(settings.limits).items():
        _require(value >= 1 or key == "new_account_seconds", f"limits.{key} must be at least 1")


def _require_production_services(settings: Settings) -> None:
    """Outside dev, what would lose data or mail in a container must be chosen on purpose."""
    opt_in = "set SNAPLINE_APP_ALLOW_LOCAL_SERVICES=true for a one-host trial"
    _require(
        bool(settings.database.url),
        "database.url is required outside dev: the embedded database lives and dies with "
        f"this machine or container ({opt_in})",
    )
    storage = settings.storage
    _require(
        storage.backend == "s3" or Path(storage.local_path).is_absolute(),
        "storage: use the s3 backend, or set storage.local_path to an absolute path on a "
        f"volume, outside dev ({opt_in})",
    )
    _require(
        settings.mail.backend == "smtp",
        f"mail.backend must be smtp outside dev: mail written to files reaches nobody ({opt_in})",
    )
