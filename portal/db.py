"""The database: a deferred peewee database, its connections, hot queries compiled once, and the migration runner."""
from __future__ import annotations

import datetime as dt
import os
import time
import weakref
from urllib.parse import urlsplit

from peewee import (OP, CharField, DatabaseProxy, DateField, DateTimeField, Expression, Field, ForeignKeyField,
                    IntegerField, Join, Model, SqliteDatabase, TextField)
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase
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
        if scheme.endswith("+pool"):
            return Pool(**db_url.parse(url))
        return db_url.connect("postgresql" + url[len(scheme):])
    raise ValueError(f"PORTAL_DATABASE_URL has an unsupported scheme {scheme!r}; use sqlite:///, postgresql:// "
                     "or postgresql+pool://.")


class Pool(PooledPostgresqlDatabase):
    """peewee's pool of PostgreSQL connections, without a round trip at every check-out where none is needed.

    peewee asks the server whether an idle connection is alive (SELECT 1) each time it hands one out: a statement
    and a wait for the server at every request. Here a connection handed back less than CHECK_AFTER seconds ago
    (and, as psycopg knows without asking, neither broken nor in a transaction) is handed out as it is; one idle
    for longer is asked as peewee asks. A connection the server dropped within those seconds fails the one
    request that uses it, and is then closed rather than pooled again (its state is then unknown)."""

    CHECK_AFTER = 5.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._handed_back: dict[int, float] = {}

    def _close(self, conn, close_conn=False):
        self._handed_back[self.conn_key(conn)] = time.monotonic()  # before it is in the pool for another thread
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._handed_back.pop(self.conn_key(conn), None)
        super()._close_raw(conn)

    def _is_closed(self, conn):
        handed_back = self._handed_back.get(self.conn_key(conn))
        if (handed_back is not None and time.monotonic() - handed_back < self.CHECK_AFTER and not conn.closed
                and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)


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
    marks are found among the compiled parameters (a value may be used more than once) and replaced by the values
    at each call. Values go to the driver as given, so pass them in their database form (a str, an int, a date,
    a datetime); build must only compare with them, never compute from them. Building the SQL of the session
    lookup's join cost 0.5 ms a request.

    Rows come back as models (joined models attached, as peewee attaches them) or, with tuples=True, as tuples
    of Python values, read by a reader made once with the SQL: peewee's own made three models of the session
    row in 0.16 ms, working out at each query which column goes where; the row itself is read in 0.02 ms."""

    # Values no query holds: NUL in text, a number below any id or count, days and moments of the year 1.
    _marks = {str: lambda i: f"\x00prepared-{i}\x00", int: lambda i: -(2 ** 62) - i,
              dt.date: lambda i: dt.date(1, 1, 1) + dt.timedelta(days=i),
              dt.datetime: lambda i: dt.datetime(1, 1, 1) + dt.timedelta(seconds=i)}

    def __init__(self, build, *kinds: type, tuples: bool = False):
        self._build, self._kinds, self._tuples = build, kinds, tuples
        self._compiled = weakref.WeakKeyDictionary()  # database -> (sql, params, slots, reader)

    def _compile(self, database):
        marks = [self._marks[kind](i) for i, kind in enumerate(self._kinds)]
        query = self._build(*marks)
        sql, params = database.get_sql_context().sql(query).query()
        slots = [(position, marks.index(value)) for position, value in enumerate(params)
                 if type(value) in self._marks and value in marks]
        if {i for _, i in slots} != set(range(len(marks))):
            raise ValueError("each value of a prepared query must appear among its parameters")
        reader = _tuple_reader(query) if self._tuples else _model_reader(query)
        compiled = self._compiled[database] = (sql, list(params), slots, reader)
        return compiled

    def rows(self, *values) -> list:
        database = db.obj
        sql, params, slots, reader = self._compiled.get(database) or self._compile(database)
        params = list(params)
        for position, index in slots:
            params[position] = values[index]
        return reader(database.execute_sql(sql, params).fetchall())

    def first(self, *values):
        found = self.rows(*values)
        return found[0] if found else None


def _converters(query) -> list:
    """Each selected column's conversion to Python (a field's python_value), or None to take it as it comes (also
    a column that is no field, such as a COUNT)."""
    converters = []
    for node in query._returning:
        field = node.unwrap() if hasattr(node, "unwrap") else node
        converters.append(None if not isinstance(field, Field) or _plain(field) else _fast(field) or field.python_value)
    return converters


def _fast(field):
    """For peewee's own date and datetime fields, SQLite's ISO text read by the C parser (peewee tries its formats
    one by one with strptime: a list of 50 users holds some 100 such values); anything else as peewee reads it."""
    kind = type(field)
    parse = {DateTimeField.adapt: dt.datetime.fromisoformat, DateField.adapt: dt.date.fromisoformat}.get(kind.adapt)
    if parse is None or kind.python_value is not Field.python_value:
        return None
    slow = field.python_value

    def convert(value):
        if type(value) is str:
            try:
                parsed = parse(value)
            except ValueError:
                return slow(value)
            if getattr(parsed, "tzinfo", None) is None:  # Portal's are naive UTC, as peewee would read them
                return parsed
        return slow(value)
    return convert


def _plain(field) -> bool:
    """Strings and integers (and keys to integer ids) come from both drivers as they are; everything else is
    converted as peewee converts it."""
    if isinstance(field, ForeignKeyField):
        field = field.rel_field
    return type(field).python_value is Field.python_value and type(field).adapt in _PLAIN_ADAPT


_PLAIN_ADAPT = {CharField.adapt, TextField.adapt, IntegerField.adapt}


def _tuple_reader(query):
    converters = list(enumerate(_converters(query)))
    converted = [(i, convert) for i, convert in converters if convert is not None]

    def read(rows):
        out = []
        for row in rows:
            row = list(row)
            for i, convert in converted:
                if row[i] is not None:
                    row[i] = convert(row[i])
            out.append(tuple(row))
        return out
    return read


def _foreign_keys_joined(nodes) -> set:
    """The foreign keys that joins ON key = the id it refers to follow (peewee's join(Model) makes such)."""
    found = set()
    for node in nodes:
        if isinstance(node, Join):
            on = node._on
            if (isinstance(on, Expression) and on.op == OP.EQ and isinstance(on.lhs, ForeignKeyField)
                    and on.rhs is on.lhs.rel_field):
                found.add(on.lhs)
            found |= _foreign_keys_joined([node.lhs, node.rhs])
    return found


def _model_reader(query):
    """Rows as models: the query's model with, for each inner join along a foreign key, the joined model attached
    (record.user.company), each with its selected fields set and nothing marked dirty."""
    converters = _converters(query)
    models = [query.model]
    links = []  # (index of the model holding the foreign key, its name, index of the joined model)
    along = _foreign_keys_joined(query._from_list)
    for source, joins in query._joins.items():
        for dest, attr, _constructor, join_type in joins:
            field = source._meta.fields.get(attr) if source in models else None
            if field not in along or field.rel_model is not dest or "INNER" not in join_type:
                raise ValueError("a prepared query of models joins along foreign keys only (inner joins)")
            models.append(dest)
            links.append((models.index(source), field.name, len(models) - 1))
    columns = [[] for _ in models]
    for i, node in enumerate(query._returning):
        field = node.unwrap() if hasattr(node, "unwrap") else node
        if not isinstance(field, Field) or field.model not in models:
            raise ValueError("a prepared query of models selects fields of its joined models only")
        columns[models.index(field.model)].append((i, field.name, converters[i]))
    plan = list(zip(models, columns))

    def read(rows):
        out = []
        for row in rows:
            made = []
            for model, fields in plan:
                instance = model(__no_default__=True)
                data = instance.__data__
                for i, name, convert in fields:
                    value = row[i]
                    data[name] = value if convert is None or value is None else convert(value)
                made.append(instance)
            for holder, name, joined in links:
                made[holder].__rel__[name] = made[joined]
            out.append(made[0])
        return out
    return read


def migrate() -> list[str]:
    """Apply pending numbered migrations; returns the names applied (none when up to date)."""
    return Runner(db.obj, MIGRATIONS_DIR, table_name="schema_migrations").up()
