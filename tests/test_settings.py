"""Settings: file, environment overrides, validation."""

from __future__ import annotations

import pytest

from service.settings import SettingsError, load_settings


def test_defaults_come_from_the_project_settings_file():
    settings = load_settings(env={})
    assert settings.app.env == "dev"
    assert settings.server.port == 8080
    assert settings.storage.backend == "local"


def test_environment_overrides_single_keys_with_types():
    settings = load_settings(
        env={
            "SNAPLINE_DATABASE_URL": "postgresql+asyncpg://u@db/x",
            "SNAPLINE_SERVER_PORT": "9000",
            "SNAPLINE_SERVER_ACCESS_LOG": "false",
            "SNAPLINE_SERVER_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
            "SNAPLINE_STORAGE_S3_BUCKET": "photos",
        }
    )
    assert settings.database.url == "postgresql+asyncpg://u@db/x"
    assert settings.server.port == 9000
    assert settings.server.access_log is False
    assert settings.server.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert settings.storage.s3_bucket == "photos"


def test_settings_file_from_argument_or_environment(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text('[server]\nport = 8181\n[mail]\nbackend = "smtp"\n')
    assert load_settings(path, env={}).server.port == 8181
    assert load_settings(env={"SNAPLINE_SETTINGS": str(path)}).mail.backend == "smtp"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SNAPLINE_APP_ENV": "production"}, "placeholder"),
        ({"SNAPLINE_APP_ENV": "production", "SNAPLINE_APP_SECRET_KEY": "short"}, "placeholder"),
        ({"SNAPLINE_SERVER_PORT": "eighty"}, "expected int"),
        ({"SNAPLINE_MAIL_BACKEND": "pigeon"}, "mail.backend"),
        ({"SNAPLINE_DATABASE_URL": "mysql://x"}, "postgresql"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)


def test_production_accepts_a_real_secret():
    settings = load_settings(
        env={"SNAPLINE_APP_ENV": "production", "SNAPLINE_APP_SECRET_KEY": "k" * 40}
    )
    assert settings.app.env == "production"


def test_unknown_keys_are_errors(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(path, env={})
