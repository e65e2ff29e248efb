"""The database: a deferred peewee database, its connections, hot queries compiled once, and the migration runner."""
from __future__ import annotations

import os
import weakref
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
    """A connection opens at a request's first query (pages that need none open none).

    SQLite keeps it for the next request of the same thread (peewee's connection state is per thread, so no
    connection is shared between threads; opening one per request, with its pragmas and without SQLite's
    statement and page caches, cost 0.7 ms). Outside a transaction it reads what other connections committed.
    PostgreSQL hands it back after each request (to the pool with postgresql+pool://)."""
    database = open_database(app.config["DATABASE_URL"])
    db.initialize(database)
    keep = isinstance(database, SqliteDatabase)

    @app.teardown_appcontext
    def _close(exc):
        if db.is_closed():
            return
        if keep and not db.in_transaction():
            connection = db.connection()
            if connection.in_transaction:  # never carry a half-done transaction into the next request
                connection.rollback()
            return
        db.close()


class Prepared:
    """A hot SELECT whose SQL peewee builds once per database; each call runs it with new values.

    build(*marks) returns the query with one mark per value (a unique string or integer of the kind given); the
    marks are found among the compiled parameters and replaced by the values at each call. Values go to the
    driver as given, so pass them in their database form (a str, an int). Rows come back as peewee builds them
    (models, with joined models attached). Building the SQL of the session lookup's join cost 0.5 ms a request."""

    _marks = {str: lambda i: f"\x00prepared-{i}\x00", int: lambda i: -(2 ** 62) - i}

    def __init__(self, build, *kinds: type):
        self._build, self._kinds = build, kinds
        self._compiled = weakref.WeakKeyDictionary()  # database -> (query, sql, params, slots)

    def _compile(self, database):
        marks = [self._marks[kind](i) for i, kind in enumerate(self._kinds)]
        query = self._build(*marks)
        sql, params = database.get_sql_context().sql(query).query()
        slots = [(position, marks.index(value)) for position, value in enumerate(params)
                 if type(value) in self._marks and value in marks]
        if sorted(i for _, i in slots) != list(range(len(marks))):
            raise ValueError("each value of a prepared query must appear exactly once among its parameters")
        compiled = self._compiled[database] = (query, sql, list(params), slots)
        return compiled

    def rows(self, *values) -> list:
        database = db.obj
        query, sql, params, slots = self._compiled.get(database) or self._compile(database)
        params = list(params)
        for position, index in slots:
            params[position] = values[index]
        # peewee's own row reader for this query: a public execute() would build the SQL again.
        return list(query._get_cursor_wrapper(database.execute_sql(sql, params)).iterator())

    def first(self, *values):
        found = self.rows(*values)
        return found[0] if found else None


def migrate() -> list[str]:
    """Apply pending numbered migrations; returns the names applied (none when up to date)."""
    return Runner(db.obj, MIGRATIONS_DIR, table_name="schema_migrations").up()
