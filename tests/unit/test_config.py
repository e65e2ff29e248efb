"""Configuration: development works with nothing set; production refuses to start half-configured."""
import os
import stat

import pytest
from cryptography.fernet import Fernet

from portal import create_app
from portal.config import ConfigError

PRODUCTION = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 40,
              "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(), "PORTAL_BASE_URL": "https://portal.example.com",
              "PORTAL_TRUSTED_HOSTS": '["portal.example.com"]', "PORTAL_MAIL_SERVER": "smtp.example.com",
              "PORTAL_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)


def test_development_generates_keys_once_with_mode_0600(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)})
    second = create_app({"INSTANCE_PATH": str(instance)})
    for name in ("secret_key", "encryption_key"):
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["ENCRYPTION_KEY"] == second.config["ENCRYPTION_KEY"]
    Fernet(first.config["ENCRYPTION_KEY"])
    assert first.config["DATABASE_URL"] == f"sqlite:///{instance / 'portal.db'}"
    assert first.config["SESSION_COOKIE_SECURE"] is False
    assert first.config["SESSION_COOKIE_HTTPONLY"] is True
    assert first.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_variables_are_read_with_the_portal_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_TOTP_ISSUER", "IMDS Portal")
    monkeypatch.setenv("PORTAL_SESSION_IDLE_SECONDS", "600")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["TOTP_ISSUER"] == "IMDS Portal"
    assert app.config["SESSION_IDLE_SECONDS"] == 600


@pytest.mark.parametrize("missing", ["PORTAL_SECRET_KEY", "PORTAL_ENCRYPTION_KEY", "PORTAL_BASE_URL"])
def test_production_refuses_to_start_without_explicit_keys_and_base_url(tmp_path, monkeypatch, missing):
    values = dict(PRODUCTION)
    del values[missing]
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=missing):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_production_turns_on_secure_cookies_and_hsts(tmp_path, monkeypatch):
    for name, value in {**PRODUCTION, "PORTAL_BASE_URL": "https://portal.example.com/"}.items():
        monkeypatch.setenv(name, value)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal"
    assert app.config["BASE_URL"] == "https://portal.example.com"
    response = app.test_client().get("/sign-in", base_url="https://portal.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_https_base_url_makes_cookies_secure_outside_production(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://portal.example.com"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("overrides,message", [
    ({"ENCRYPTION_KEY": "not-a-key"}, "PORTAL_ENCRYPTION_KEY"),
    ({"BASE_URL": "portal.example.com"}, "PORTAL_BASE_URL"),
    ({"TOTP_ISSUER": "Bad:Issuer"}, "PORTAL_TOTP_ISSUER"),
])
def test_bad_values_are_named_in_the_error(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"INSTANCE_PATH": str(tmp_path), **overrides})


def test_unsupported_database_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PORTAL_DATABASE_URL"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "mysql://x/y"})



@pytest.mark.parametrize("changes, message", [
    ({"PORTAL_TRUSTED_HOSTS": None}, "PORTAL_TRUSTED_HOSTS"),
    ({"PORTAL_SECRET_KEY": "change-me-to-64-random-characters"}, "PORTAL_SECRET_KEY"),  # the example's
    ({"PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_BASE_URL": "http://portal.example.com"}, "https://"),
    ({"PORTAL_MAIL_SERVER": None}, "PORTAL_MAIL_SERVER"),
    ({"PORTAL_RATELIMIT_STORAGE_URI": "memory://"}, "PORTAL_WORKERS=1"),
])
def test_production_refuses_what_would_not_hold(tmp_path, monkeypatch, changes, message):
    for name, value in {**PRODUCTION, **changes}.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app({"INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize("changes", [{"PORTAL_MAIL_SERVER": None, "PORTAL_MAIL_DIR": "/tmp/portal-mail"},
                                     {"PORTAL_RATELIMIT_STORAGE_URI": "memory://", "PORTAL_WORKERS": "1"}])
def test_production_accepts_files_for_mail_and_memory_limits_when_said_on_purpose(tmp_path, monkeypatch, changes):
    for name, value in {**PRODUCTION, **changes}.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["ENV"] == "production"


def test_the_deployment_example_is_refused_until_its_keys_are_replaced(tmp_path, monkeypatch):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "deploy" / "portal.env.example"
    for line in example.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
