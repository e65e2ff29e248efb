"""The database: a deferred peewee database, per-request connections and the migration runner."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse import db_url
from playhouse.migrations import Runner

db = DatabaseProxy()

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -32000,
}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def open_database(url: str):
    """A peewee database for a URL: sqlite:///path or postgresql://user@host/name."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ":memory:"
        # IMMEDIATE: a transaction takes the write lock when it begins, so one that reads and then writes waits
        # for another writer (busy_timeout) instead of failing at its first write with "database is locked".
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, autoconnect=True, lock_type="IMMEDIATE")
    if scheme in ("postgres", "postgresql", "postgresql+pool"):
        # postgresql+pool://...?max_connections=20&stale_timeout=300 keeps connections open between requests.
        url = ("postgresql+pool" if scheme.endswith("+pool") else "postgresql") + url[len(scheme):]
        return db_url.connect(url)
    raise ValueError(f"PORTAL_DATABASE_URL has an unsupported scheme {scheme!r}; use sqlite:///, postgresql:// "
                     "or postgresql+pool://.")


def init_app(app) -> None:
    """The connection opens at a request's first query (pages that need none open none) and closes after it."""
    db.initialize(open_database(app.config["DATABASE_URL"]))

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()


def migrate() -> list[str]:
    """Apply pending numbered migrations; returns the names applied (none when up to date)."""
    return Runner(db.obj, MIGRATIONS_DIR, table_name="schema_migrations").up()
