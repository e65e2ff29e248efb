"""Configuration: defaults, then PORTAL_* environment variables, then checks."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which variable to fix."""


DEFAULTS = {
    "ENV": "development",
    "BASE_URL": None,  # None: http://127.0.0.1:5000 outside production
    "DATABASE_URL": None,  # None: SQLite file portal.db in the instance folder
    "ENCRYPTION_KEY": None,
    "PRODUCT_NAME": "Portal",
    "OPERATOR_COMPANY": "Service Center",  # the operator's company: Service Center staff belong to it
    "TOTP_ISSUER": "Portal",
    # Sign-in rules (seconds and counts).
    "PENDING_SIGNIN_SECONDS": 300,
    "SESSION_IDLE_SECONDS": 30 * 60,
    "SESSION_ABSOLUTE_SECONDS": 12 * 3600,
    "SESSION_TOUCH_SECONDS": 60,
    "CODE_ATTEMPTS_PER_SIGNIN": 5,
    "CODE_FAILURES_BEFORE_BLOCK": 10,  # wrong codes in a row, across sign-ins
    "CODE_BLOCK_SECONDS": 15 * 60,
    "CODE_RESTS_BEFORE_CLOSING": 3,  # rests without a correct code; at the next limit the code step closes
    "PASSWORD_FAILURES_BEFORE_BLOCK": 10,  # wrong passwords in a row; then only an administrator can reset
    "BACKUP_CODE_COUNT": 10,
    # One factor recovered through a mailed link: the other cannot be recovered by mail for this many days.
    "MAIL_RECOVERY_PAUSE_DAYS": 7,
    "EXPIRY_NOTICE_DAYS": 30,  # administrators hear of a Valid Until this many days ahead
    # How long each mailed link works (single use, and void once the password or address changes).
    "RECOVERY_LINK_MINUTES": 15,
    "NEW_PASSWORD_LINK_MINUTES": 15,
    "ADMIN_RESET_LINK_HOURS": 24,  # a reset a Company Administrator sends may wait until the person is at a desk
    "EMAIL_CHANGE_LINK_HOURS": 24,
    "WELCOME_LINK_HOURS": 72,
    "CONTACT_LINK_DAYS": 7,
    # Passwords: argon2-cffi defaults (RFC 9106 low-memory profile).
    "PASSWORD_MIN_LENGTH": 8,
    "PASSWORD_MAX_LENGTH": 1024,
    "PASSWORD_MIN_SCORE": 3,
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 4,
    # Backup codes (49 bits, single use, rate-limited): argon2id too, cheaper, as ten are made at once.
    "BACKUP_CODE_ARGON2_TIME_COST": 1,
    "BACKUP_CODE_ARGON2_MEMORY_COST": 8192,
    # Mail: without MAIL_SERVER, mail is written as .eml files under the instance folder.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Portal <no-reply@localhost>",
    "MAIL_TIMEOUT": 10,
    "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would otherwise stay silent under TESTING; tests use a real server
    "MAIL_DELIVERY": "background",  # "inline" sends before the response (tests); queued mail is retried by `portal mail send`
    # OpenID Provider (seconds). Signing key: PEM in OIDC_SIGNING_KEY, else generated into the instance folder.
    "OIDC_SIGNING_KEY": None,
    "OIDC_CODE_SECONDS": 60,
    "OIDC_ACCESS_TOKEN_SECONDS": 600,
    "OIDC_ID_TOKEN_SECONDS": 600,
    "OIDC_LOGOUT_TOKEN_SECONDS": 120,
    "BACKCHANNEL_DELIVERY": "background",  # as MAIL_DELIVERY: "inline" sends before the response (tests)
    "BACKCHANNEL_TIMEOUT": 5,
    # Web.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "WTF_CSRF_TIME_LIMIT": 3600,
    # Over HTTPS Flask-WTF also checks that a POST's Referer is this site (pages send Referrer-Policy same-origin).
    "WTF_CSRF_SSL_STRICT": True,
    # Rate limits: memory:// is per process; use redis://... with several workers (see README).
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "portal",
    # [per client IP, per target (User ID, address, sign-in or link)]; only POSTs count.
    "RATE_LIMIT_SIGN_IN": ["30/minute;300/hour", "15/minute"],
    "RATE_LIMIT_CODE": ["60/minute", "12/minute"],
    "RATE_LIMIT_RECOVERY_MAIL": ["20/hour", "5/hour"],
    "RATE_LIMIT_FORGOT_ID": ["20/hour", "5/hour"],
    "RATE_LIMIT_NEW_PASSWORD": ["20/hour", "5/hour"],
    "RATE_LIMIT_LINK": ["60/hour", "10/hour"],
    "RATE_LIMIT_REAUTH": ["30/hour", "10/15 minutes"],
    "RATE_LIMIT_TOKEN": ["600/minute", "300/minute"],  # token, revocation, introspection: per IP, per client
    "PROXY_COUNT": 0,  # reverse proxies in front of Portal whose X-Forwarded-For/-Proto are trusted
}


def load(app, overrides: dict | None) -> None:
    """Fill app.config from defaults, the environment and overrides, then derive and check."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PORTAL")
    if overrides:
        app.config.update(overrides)
    _derive(app)
    _check(app.config)


def _derive(app) -> None:
    cfg = app.config
    production = cfg["ENV"] == "production"
    if not production:
        os.makedirs(app.instance_path, exist_ok=True)
        if not cfg.get("SECRET_KEY"):
            cfg["SECRET_KEY"] = _instance_secret(app, "secret_key", lambda: secrets.token_urlsafe(48))
        if not cfg.get("ENCRYPTION_KEY"):
            cfg["ENCRYPTION_KEY"] = _instance_secret(app, "encryption_key", lambda: Fernet.generate_key().decode())
        cfg["BASE_URL"] = cfg["BASE_URL"] or "http://127.0.0.1:5000"
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "portal.db")
    cfg["BASE_URL"] = str(cfg["BASE_URL"] or "").rstrip("/")
    https = cfg["BASE_URL"].startswith("https://")
    # Flask has its own defaults for these, so they are derived rather than defaulted.
    cfg["SESSION_COOKIE_SECURE"] = production or https
    # __Host- cookies must be Secure, have Path=/ and no Domain.
    cfg["SESSION_COOKIE_NAME"] = "__Host-portal" if cfg["SESSION_COOKIE_SECURE"] else "portal_session"
    cfg["HSTS"] = production or https
    cfg["MAIL_DIR_CHOSEN"] = bool(cfg.get("MAIL_DIR"))  # files instead of SMTP on purpose (production needs it said)
    cfg.setdefault("MAIL_DIR", os.path.join(app.instance_path, "mail"))
    cfg.setdefault("PREFERRED_URL_SCHEME", "https" if https else "http")


def _check_production(cfg) -> None:
    """Production refuses to start half-configured: each refusal names the variable to set."""
    missing = [f"PORTAL_{k}" for k in ("SECRET_KEY", "ENCRYPTION_KEY", "BASE_URL", "TRUSTED_HOSTS") if not cfg.get(k)]
    if missing:
        raise ConfigError("PORTAL_ENV=production needs " + ", ".join(missing) + " to be set.")
    secret = str(cfg["SECRET_KEY"])
    if len(secret) < 32 or "change-me" in secret:
        raise ConfigError("PORTAL_SECRET_KEY must be a long random value of your own (at least 32 characters), not "
                          "the example's: python -c \"import secrets; print(secrets.token_urlsafe(48))\"")
    if not str(cfg["BASE_URL"]).startswith("https://"):
        raise ConfigError("PORTAL_BASE_URL must start with https:// in production: sign-in cookies are sent only "
                          "over HTTPS.")
    if not cfg.get("MAIL_SERVER") and not cfg["MAIL_DIR_CHOSEN"]:
        raise ConfigError("PORTAL_MAIL_SERVER must be set in production (or PORTAL_MAIL_DIR, to have mail written "
                          "to files on purpose).")
    if str(cfg["RATELIMIT_STORAGE_URI"]).startswith("memory://") and cfg.get("WORKERS") != 1:
        raise ConfigError("PORTAL_RATELIMIT_STORAGE_URI is memory://, which each gunicorn worker counts on its own: "
                          "set it to redis://... (or run one worker with PORTAL_WORKERS=1).")


def _instance_secret(app, name: str, make) -> str:
    """Read a secret from the instance folder, creating it once with mode 0600."""
    path = Path(app.instance_path) / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(make() + "\n")
    return path.read_text().strip()


def _check(cfg) -> None:
    if cfg["ENV"] == "production":
        _check_production(cfg)
    parts = urlsplit(cfg["BASE_URL"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("PORTAL_BASE_URL must be an absolute http(s) URL, such as https://portal.example.com.")
    for key in cfg["ENCRYPTION_KEY"].split(","):
        try:
            Fernet(key.strip())
        except ValueError:
            raise ConfigError("PORTAL_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes).") from None
    if not isinstance(cfg["PROXY_COUNT"], int) or cfg["PROXY_COUNT"] < 0:
        raise ConfigError("PORTAL_PROXY_COUNT must be the number of trusted reverse proxies (0 or more).")
    if ":" in cfg["TOTP_ISSUER"] or not cfg["TOTP_ISSUER"].strip():
        raise ConfigError("PORTAL_TOTP_ISSUER must be non-empty and must not contain ':'.")
    if cfg.get("OIDC_SIGNING_KEY"):
        from portal.services import ServiceError, signing_keys
        try:
            signing_keys.from_setting(cfg["OIDC_SIGNING_KEY"])
        except ServiceError as error:
            raise ConfigError(error.message) from None
