"""Shared fixtures: an app per test on SQLite (and PostgreSQL when configured), a frozen clock,
a real SMTP server, and helpers that sign people in with real TOTP codes."""
from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from cryptography.fernet import Fernet

from portal import ROOT, create_app
from portal import clock as portal_clock
from portal.db import db, migrate, open_database
from portal.models import ALL_MODELS
from portal.models_oidc import OIDC_MODELS
from tests import helpers

IN_CI = os.environ.get("CI") == "true"
# Under pytest-xdist (make test) each worker process (gw0, gw1, ...) has a PostgreSQL database and a Redis
# database of its own, so that one worker's wipe never meets another's test.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _workers_own(url: str | None, kind: str) -> str | None:
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    if kind == "redis":
        number = int(parts.path.strip("/") or 0) - int(WORKER.removeprefix("gw"))
        if number < 0:
            raise pytest.UsageError(f"{url}: too few Redis databases below it for worker {WORKER}")
        return urlunsplit(parts._replace(path=f"/{number}"))
    return urlunsplit(parts._replace(path=f"{parts.path}_{WORKER}"))


PG_BASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
PG_URL = _workers_own(PG_BASE_URL, "postgresql")
REDIS_URL = _workers_own(os.environ.get("PORTAL_TEST_REDIS_URL"), "redis")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

# Cheap argon2 parameters keep the suite fast; the production parameters are tested on their own.
FAST_HASHING = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
                "BACKUP_CODE_ARGON2_MEMORY_COST": 1024}
ENCRYPTION_KEY = Fernet.generate_key().decode()
START = dt.datetime(2026, 3, 16, 9, 0, 0)


def pytest_configure(config):
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true but PORTAL_TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI.")
    if IN_CI and not os.environ.get("PORTAL_TEST_REDIS_URL"):
        raise pytest.UsageError("CI=true but PORTAL_TEST_REDIS_URL is not set: the Redis rate-limit tests must run.")
    if IN_CI and os.environ.get("PORTAL_TEST_BROWSER") != "1":
        raise pytest.UsageError("CI=true but PORTAL_TEST_BROWSER is not 1: browser tests must run in CI.")


@functools.cache
def compiled_catalogs() -> str:
    """The committed catalogs (translations/*/LC_MESSAGES/messages.po) compiled for this run, as `make` compiles
    them: the tests read what is committed, whether or not make has run since the last change."""
    target = tempfile.mkdtemp(prefix="portal-catalogs-")
    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        code = po.parent.parent.name
        out = os.path.join(target, code, "LC_MESSAGES")
        os.makedirs(out)
        with open(po, "rb") as source, open(os.path.join(out, "messages.mo"), "wb") as compiled:
            write_mo(compiled, read_po(source, locale=code))
    return target


def make_config(tmp_path, database_url: str, **extra) -> dict:
    return {
        "BABEL_TRANSLATION_DIRECTORIES": compiled_catalogs(),
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "BASE_URL": "http://portal.example.test",
        "DATABASE_URL": database_url,
        "MAIL_DELIVERY": "inline",  # deterministic; the background path has a test of its own
        "RATELIMIT_ENABLED": False,  # tests/security/test_rate_limits.py switches them on
        **FAST_HASHING,
        **extra,
    }


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    database = open_database(f"sqlite:///{path}")
    db.initialize(database)
    with database.connection_context():
        migrate()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture(scope="session")
def postgres_ready():
    """The PostgreSQL test database, wiped and migrated once per run."""
    try:
        if PG_URL != PG_BASE_URL:
            _create_database(PG_BASE_URL, urlsplit(PG_URL).path.strip("/"))
        database = open_database(PG_URL)
        database.connect()
    except Exception as error:  # a clear failure beats a confusing one later
        pytest.fail(f"PostgreSQL at PORTAL_TEST_DATABASE_URL is not reachable: {error}")
    database.execute_sql("DROP SCHEMA public CASCADE")
    database.execute_sql("CREATE SCHEMA public")
    db.initialize(database)
    migrate()
    database.close()
    return PG_URL


def _create_database(server_url: str, name: str) -> None:
    """A worker's database, made through the configured one when it does not exist yet."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_ready")
    database = open_database(url)
    tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS + OIDC_MODELS)
    with database.connection_context():
        database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    database.close()
    return url


@pytest.fixture
def clock():
    frozen = portal_clock.FrozenClock(START)
    portal_clock.set_source(frozen)
    yield frozen
    portal_clock.set_source(None)


@pytest.fixture
def app_config():
    """Extra configuration for the app of one test (override in a test module)."""
    return {}


@pytest.fixture
def app(tmp_path, database_url, clock, app_config):
    """The app; tests push an app context only around direct service calls (helpers.context()),
    never around client requests, so that each request has its own `g` as in production."""
    application = create_app(make_config(tmp_path, database_url, **app_config))
    helpers.APP = application
    yield application
    helpers.APP = None
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def company(app):
    return helpers.make_company("ACME Components")


@pytest.fixture
def user(company):
    return helpers.make_user(company)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    server = helpers.SmtpServer()
    server.start()
    yield server
    server.stop()
