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


PRODUCTION = {
    "SNAPLINE_APP_ENV": "production",
    "SNAPLINE_APP_SECRET_KEY": "k" * 40,
    "SNAPLINE_APP_PUBLIC_URL": "https://photos.example",
    "SNAPLINE_DATABASE_URL": "postgresql+asyncpg://snapline@db/snapline",
    "SNAPLINE_STORAGE_BACKEND": "s3",
    "SNAPLINE_STORAGE_S3_BUCKET": "photos",
    "SNAPLINE_MAIL_BACKEND": "smtp",
}


def test_production_accepts_a_real_secret_and_real_services():
    settings = load_settings(env=PRODUCTION)
    assert settings.app.env == "production"
    volume = {**PRODUCTION, "SNAPLINE_STORAGE_BACKEND": "local"}
    assert load_settings(env={**volume, "SNAPLINE_STORAGE_LOCAL_PATH": "/data/media"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SNAPLINE_DATABASE_URL": ""}, "database.url is required"),
        ({"SNAPLINE_STORAGE_BACKEND": "local"}, "storage.local_path"),
        ({"SNAPLINE_MAIL_BACKEND": "file"}, "mail.backend must be smtp"),
        ({"SNAPLINE_APP_PUBLIC_URL": ""}, "app.public_url"),
    ],
)
def test_production_refuses_services_that_lose_data_or_mail(change, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env={**PRODUCTION, **change})


def test_a_one_host_trial_opts_in_to_local_services_explicitly():
    local = {
        **PRODUCTION,
        "SNAPLINE_DATABASE_URL": "",
        "SNAPLINE_STORAGE_BACKEND": "local",
        "SNAPLINE_MAIL_BACKEND": "file",
    }
    with pytest.raises(SettingsError):
        load_settings(env=local)
    settings = load_settings(env={**local, "SNAPLINE_APP_ALLOW_LOCAL_SERVICES": "true"})
    assert settings.app.allow_local_services


@pytest.mark.parametrize(
    ("env", "public_url"),
    [
        ({}, "http://127.0.0.1:8080"),
        ({"SNAPLINE_SERVER_PORT": "8081"}, "http://127.0.0.1:8081"),
        (
            {"SNAPLINE_SERVER_HOST": "0.0.0.0", "SNAPLINE_SERVER_PORT": "9000"},
            "http://127.0.0.1:9000",
        ),
        ({"SNAPLINE_SERVER_HOST": "::1"}, "http://[::1]:8080"),
        ({"SNAPLINE_APP_PUBLIC_URL": "https://photos.example"}, "https://photos.example"),
    ],
)
def test_in_dev_an_unset_public_url_follows_the_listening_address(env, public_url):
    assert load_settings(env=env).app.public_url == public_url


def test_a_misspelt_environment_variable_is_an_error_naming_the_closest_setting():
    with pytest.raises(SettingsError, match=r"SNAPLINE_DATABSE_URL.*SNAPLINE_DATABASE_URL"):
        load_settings(env={"SNAPLINE_DATABSE_URL": "postgresql+asyncpg://u@db/x"})
    with pytest.raises(SettingsError, match=r"SNAPLINE_NOTHING_LIKE_IT names no setting$"):
        load_settings(env={"SNAPLINE_NOTHING_LIKE_IT": "1"})
    # Variables of the command line, not of the settings, are known too.
    assert load_settings(env={"SNAPLINE_ADMIN_PASSWORD": "x", "SNAPLINE_SETTINGS": ""})


def test_unknown_keys_are_errors(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(path, env={})
