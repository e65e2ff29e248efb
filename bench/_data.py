"""Shared by the scale benchmarks: a fresh database migrated through Portal, and a million users in it, fast.

Run from the project folder to time the load alone:

    .venv/bin/python bench/_data.py [--users 1000000 --companies 1000 --database-url URL]

Without --database-url the users go into a SQLite file in a temporary folder (removed at the end); with
--database-url postgresql://postgres@127.0.0.1:5432/portal_scale that database is dropped and created again
first, and dropped at the end (never 'test', which the test-suite wipes; never anything but 127.0.0.1).

The users: User IDs u0000001, u0000002, ... handed out in creation order across companies whose sizes vary
(log-normal around the average, so some companies are ten times the average); last names from a small list
with suffixes; e-mail addresses first.last.N@cNNNN.example; one Company Administrator per company and a
second one in about a third of them (always active, recently signed in, Valid Until well ahead); about 3%
inactive; Valid Until spread over the next 24 months, 5% already in the past; last sign-ins spread over the
last 13 months, 10% never signed in (then activity counts from creation, also within the last 13 months).
user_id_key, email_key and last_name_key are lowercased as portal.services.accounts.with_keys does. Everybody
has accepted the current Terms of Use and made the personal-data choice (half allow showing their data). Nobody
was warned or notified yet, so a first `portal lifecycle run` has the whole backlog to do. Rows go in with
insert_many, 1,000 at a time (see BatchInsert), 100 batches per transaction (on SQLite with a 512 MB page
cache for the loading connection); no argon2 hash per user (one given hash, or none).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Quiet-Lantern-Harbor-93"  # of every user that seed() makes
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BATCH = 1000
BATCHES_PER_TRANSACTION = 100

LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
              "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
              "Zimmermann", "Krüger", "Smith", "Johnson", "Brown", "Taylor", "Martin", "Dubois", "Rossi",
              "Bianchi", "García", "López", "Novak", "Kowalski", "Jansen", "de Vries", "Andersson", "Nielsen",
              "Tanaka", "Sato", "Kim", "Nguyen")
SUFFIXES = ("", "", "", "", "-Lange", "-Berg", "-Hahn", "-Vogel", "-Keller", "-Roth", "-Frank", "-Haas",
            "-Stein", "-Peters", "-Jung", "-Lorenz", "-Kraus", "-Vogt", "-Otto", "-Sommer")
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Ida", "Jonas", "Karl",
               "Lena", "Mia", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Sophie", "Tom", "Ute", "Viktor",
               "Wiebke", "Xaver", "Yusuf", "Zoe", "Ali", "Maria", "Jan", "Eva")
ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "á": "a", "é": "e", "í": "i", "ó": "o",
                       "ú": "u", " ": "", "-": ""})

FIELDS = ("user_id", "user_id_key", "company", "email", "email_key", "first_name", "last_name", "last_name_key",
          "phone", "role", "active", "valid_until", "created_at", "last_sign_in_at", "activity_at",
          "password_hash", "failed_password_count", "failed_code_count", "terms_version", "show_personal_data",
          "personal_data_version")


# --- databases ----------------------------------------------------------------------------------

def check_database_url(parser: argparse.ArgumentParser, url: str | None) -> None:
    """PostgreSQL on the loopback only, and a database of its own."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+pool"):
        parser.error("--database-url must be a postgresql:// or postgresql+pool:// URL (SQLite is the default)")
    if parts.hostname not in LOOPBACK:
        parser.error("--database-url must point at 127.0.0.1: the benchmark talks to nothing else")
    if parts.path.lstrip("/") in ("", "test", "postgres", "template0", "template1"):
        parser.error("name a database of its own, such as .../portal_scale ('test' is wiped by the test-suite)")


def recreate_postgres_database(url: str) -> None:
    """Drop the database named in the URL (ending other connections to it) and create it empty."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if name in ("", "test", "postgres", "template0", "template1"):
        raise RuntimeError(f"refusing to drop the database {name!r}")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parts.path.lstrip("/"))))


def portal_environment(instance: Path, database_url: str, base_url: str = "http://127.0.0.1:5000") -> dict:
    """PORTAL_* settings for this process and any child (gunicorn, the CLI); ambient PORTAL_* are dropped."""
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PORTAL_BASE_URL": base_url,
    })
    return env


def fresh_app(workdir: Path, database_url: str | None, cleanup: contextlib.ExitStack, keep_database=False,
              **extra_env):
    """A migrated, empty database and the app on it; the environment of this process is set to match.

    SQLite: a file in workdir. PostgreSQL: the named database, dropped and created again (and dropped on the
    way out unless keep_database)."""
    url = database_url or f"sqlite:///{workdir / 'portal.db'}"
    env = portal_environment(workdir / "instance", url)
    env.update({f"PORTAL_{k}": v for k, v in extra_env.items()})
    os.environ.clear()
    os.environ.update(env)
    if database_url:
        recreate_postgres_database(database_url)
        if not keep_database:
            cleanup.callback(drop_postgres_database, database_url)

    from portal import create_app
    from portal.db import db, migrate

    app = create_app()
    with app.app_context(), db.connection_context():
        migrate()
    return app, env


def describe(database_url: str | None) -> str:
    if not database_url:
        return "SQLite (temporary file)"
    parts = urlsplit(database_url)
    return f"PostgreSQL {parts.path.lstrip('/')} ({parts.scheme})"


def analyze(app) -> None:
    """Planner statistics: PostgreSQL's autovacuum gathers them soon after a bulk load, so the benchmarks do it at
    once; on SQLite Portal never runs ANALYZE, so they do so only when asked (--analyze)."""
    from portal.db import db

    with app.app_context(), db.connection_context():
        db.execute_sql("ANALYZE")


# --- the users ----------------------------------------------------------------------------------

@dataclass
class Loaded:
    users: int
    companies: int
    seconds: float
    company_ids: list = field(default_factory=list)  # in order of creation
    company_sizes: dict = field(default_factory=dict)  # company id -> users
    admins: dict = field(default_factory=dict)  # company id -> [user row id of each Company Administrator]
    today: dt.date | None = None

    def summary(self) -> str:
        sizes = sorted(self.company_sizes.values())
        return (f"{self.users:,} users in {self.companies:,} companies (users per company: min {sizes[0]:,}, "
                f"median {sizes[len(sizes) // 2]:,}, max {sizes[-1]:,}) loaded in {self.seconds:.1f} s "
                f"({self.users / self.seconds:,.0f} users/s)")

    def company_by_rank(self, rank: str) -> int:
        """The company of median size, or the largest one."""
        ordered = sorted(self.company_ids, key=lambda c: (self.company_sizes[c], c))
        return ordered[-1] if rank == "largest" else ordered[len(ordered) // 2]


def company_sizes(rng: random.Random, users: int, companies: int) -> list[int]:
    """Log-normal sizes (sigma 0.8) adding up to `users`, each at least 2 (room for the administrators)."""
    weights = [rng.lognormvariate(0, 0.8) for _ in range(companies)]
    total = sum(weights)
    sizes = [max(2, int(users * w / total)) for w in weights]
    i = 0
    while sum(sizes) != users:  # spread the rounding difference one by one
        diff = users - sum(sizes)
        j = i % companies
        if diff > 0:
            sizes[j] += 1
        elif sizes[j] > 2:
            sizes[j] -= 1
        i += 1
    return sizes


class BatchInsert:
    """User.insert_many(batch, fields=...) for batches of BATCH rows, with peewee compiling the statement once.

    Compiling a 1,000-row INSERT (21,000 parameters) took peewee four fifths of the load time; the statement
    is the same for every full batch, so it is compiled from the first one and run again with each batch's
    values converted by the fields' own db_value (checked against peewee's parameters for the first batch).
    On PostgreSQL it runs with $1..$N placeholders through psycopg's RawCursor, as psycopg's parsing of the
    %s placeholders cost as much again."""

    def __init__(self, model, fields):
        self.model, self.fields, self.sql, self.raw = model, fields, None, False
        self.converters = [f.db_value for f in fields]

    def params(self, batch) -> list:
        converters = self.converters
        return [convert(value) for row in batch for convert, value in zip(converters, row)]

    def __call__(self, batch) -> None:
        from peewee import PostgresqlDatabase

        from portal.db import db

        if len(batch) != BATCH:
            self.model.insert_many(batch, fields=self.fields).execute()
            return
        params = self.params(batch)
        if self.sql is None:
            self.sql, expected = self.model.insert_many(batch, fields=self.fields).sql()
            if list(expected) != params:
                raise RuntimeError("peewee's parameters differ from the fields' db_value; cannot reuse the statement")
            if isinstance(db.obj, PostgresqlDatabase):  # psycopg would parse the %s of 21,000 parameters each time
                numbers = iter(range(1, len(params) + 1))
                self.sql = re.sub(r"%s", lambda _m: f"${next(numbers)}", self.sql)
                self.raw = True
        if self.raw:
            import psycopg

            with psycopg.RawCursor(db.connection()) as cursor:
                cursor.execute(self.sql, params)
        else:
            db.execute_sql(self.sql, params)


def load_users(app, users: int = 1_000_000, companies: int = 1_000, seed: int = 1, password_hash: str | None = None,
               progress=None) -> Loaded:
    """Insert the companies and users described in the module docstring; returns what was made."""
    from peewee import SqliteDatabase, chunked

    from portal import clock
    from portal.db import db
    from portal.models import ROLE_COMPANY_ADMIN, ROLE_USER, Company, User
    from portal.services import consent

    if users < 2 * companies:
        raise ValueError("need at least two users per company")
    rng = random.Random(seed)
    started = time.perf_counter()
    now = clock.now().replace(microsecond=0)
    today = now.date()
    with app.app_context(), db.connection_context():
        if isinstance(db.obj, SqliteDatabase):  # this connection only: the indexes outgrow Portal's 32 MB
            db.execute_sql(f"PRAGMA cache_size = -{512 * 1024}")
        terms = consent.document(consent.TERMS).version
        personal = consent.document(consent.PERSONAL_DATA).version
        with db.atomic():
            Company.insert_many([{"name": f"Company {n:04d} GmbH", "name_key": f"company {n:04d} gmbh",
                                  "created_at": now - dt.timedelta(days=3 * 365)} for n in range(1, companies + 1)]
                                ).execute()
        company_ids = [c for (c,) in Company.select(Company.id).order_by(Company.id).tuples()]
        sizes = company_sizes(rng, users, companies)
        owners = [cid for cid, size in zip(company_ids, sizes) for _ in range(size)]
        rng.shuffle(owners)  # users of all companies are created interleaved, so User IDs are too
        admins: dict[int, list[int]] = {}
        wanted = {cid: 1 + (rng.random() < 0.33) for cid in company_ids}
        fields = [getattr(User, name) for name in FIELDS]
        insert = BatchInsert(User, fields)
        thirteen_months = 395 * 86400
        rows = []
        for n, company in enumerate(owners, start=1):
            user_id = f"u{n:07d}"
            last = rng.choice(LAST_NAMES) + rng.choice(SUFFIXES)
            first = rng.choice(FIRST_NAMES)
            email = f"{first}.{last}.{n}@c{company:04d}.example".lower().translate(ASCII)
            is_admin = len(admins.get(company, ())) < wanted[company]
            if is_admin:
                admins.setdefault(company, []).append(n)
                active = True
                valid_until = today + dt.timedelta(days=rng.randint(90, 730))
                signed_in = now - dt.timedelta(seconds=rng.randint(0, 30 * 86400), microseconds=rng.randint(1, 999999))
                created = signed_in - dt.timedelta(days=rng.randint(0, 700))
            else:
                active = rng.random() >= 0.03
                if rng.random() < 0.05:
                    valid_until = today - dt.timedelta(days=rng.randint(1, 365))
                else:
                    valid_until = today + dt.timedelta(days=rng.randint(0, 730))
                moment = now - dt.timedelta(seconds=rng.randint(0, thirteen_months), microseconds=rng.randint(1, 999999))
                if rng.random() < 0.10:  # never signed in: activity counts from creation
                    signed_in, created = None, moment
                else:
                    signed_in, created = moment, moment - dt.timedelta(days=rng.randint(0, 700))
            rows.append((user_id, user_id, company, email, email, first, last, last.lower(), "",
                         ROLE_COMPANY_ADMIN if is_admin else ROLE_USER, active, valid_until, created, signed_in,
                         signed_in or created, password_hash, 0, 0, terms, rng.random() < 0.5, personal))
            if len(rows) == BATCH * BATCHES_PER_TRANSACTION or n == users:
                with db.atomic():
                    for batch in chunked(rows, BATCH):
                        insert(batch)
                rows = []
                if progress:
                    progress(n, time.perf_counter() - started)
        # Row ids of the administrators (User IDs are u + the creation number).
        admin_ids = {f"u{n:07d}": cid for cid, ns in admins.items() for n in ns}
        found: dict[int, list[int]] = {}
        for chunk in chunked(list(admin_ids), 1000):
            for row_id, user_id in User.select(User.id, User.user_id_key).where(User.user_id_key.in_(chunk)).tuples():
                found.setdefault(admin_ids[user_id], []).append(row_id)
    seconds = time.perf_counter() - started
    return Loaded(users, companies, seconds, company_ids, dict(zip(company_ids, sizes)), found, today)


def print_progress(done: int, seconds: float) -> None:
    if done % 100_000 == 0:
        print(f"  {done:,} users after {seconds:.1f} s", file=sys.stderr, flush=True)


# --- users who sign in over HTTP -------------------------------------------------------------

def ensure_postgres_database(url: str) -> None:
    """Create the database named in the URL when it does not exist (through the 'postgres' database)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created PostgreSQL database {name!r}.")


def init_db(env: dict) -> None:
    result = subprocess.run([str(BIN / "portal"), "init-db"], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"portal init-db failed:\n{result.stdout}{result.stderr}")


@dataclass
class Seeded:
    app: object
    company_id: int
    accounts: list  # (user_id, totp secret), in the order clients take them


def seed(app, count: int, tag: str, admins: int = 0) -> Seeded:
    """A company and `count` users sharing one password hash, each with an enrolled authenticator; the first
    `admins` of them are its Company Administrators."""
    from peewee import chunked

    from portal import clock
    from portal.db import db
    from portal.models import ROLE_COMPANY_ADMIN, ROLE_USER, Authenticator, Company, User
    from portal.security import crypto, passwords, totp
    from portal.services import consent

    with app.app_context(), db.connection_context():
        password_hash = passwords.hash_password(PASSWORD)  # once: production argon2 parameters
        # Returning users: the current Terms accepted and the personal-data choice made, so / opens.
        choices = {"terms_version": consent.document(consent.TERMS).version, "show_personal_data": False,
                   "personal_data_version": consent.document(consent.PERSONAL_DATA).version}
        now, valid_until = clock.now(), clock.today() + dt.timedelta(days=365)
        with db.atomic():
            company = Company.create(name=f"Bench {tag}", name_key=f"bench {tag}", created_at=now)
            user_ids = [f"bench-{tag}-{i:05d}" for i in range(count)]
            users = [{"user_id": u, "user_id_key": u, "company": company.id, "email": f"{u}@bench.example",
                      "email_key": f"{u}@bench.example", "first_name": "Bench", "last_name": f"User {i}",
                      "valid_until": valid_until, "created_at": now, "password_hash": password_hash,
                      "role": ROLE_COMPANY_ADMIN if i < admins else ROLE_USER, **choices}
                     for i, u in enumerate(user_ids)]
            for batch in chunked(users, 500):
                User.insert_many(batch).execute()
            ids = dict(User.select(User.user_id, User.id).where(User.company == company.id).tuples())
            totp_secrets = {u: totp.new_secret() for u in user_ids}
            rows = [{"user": ids[u], "device_name": "Bench phone", "secret_encrypted": crypto.encrypt(s),
                     "confirmed_at": now} for u, s in totp_secrets.items()]
            for batch in chunked(rows, 500):
                Authenticator.insert_many(batch).execute()
    return Seeded(app, company.id, [(u, totp_secrets[u]) for u in user_ids])


def remove_seeded(seeded: Seeded) -> None:
    """Delete what the run inserted (used on PostgreSQL; a SQLite run deletes its whole folder)."""
    from portal.db import db
    from portal.models import ALL_MODELS, AuditEvent, Company, User

    with seeded.app.app_context(), db.connection_context(), db.atomic():
        users = User.select(User.id).where(User.company == seeded.company_id)
        AuditEvent.delete().where((AuditEvent.company == seeded.company_id) | AuditEvent.subject.in_(users)).execute()
        for model in ALL_MODELS:  # sessions, authenticators and whatever else belongs to a user
            if model is not User and "user" in model._meta.fields:
                model.delete().where(model.user.in_(users)).execute()
        User.delete().where(User.company == seeded.company_id).execute()
        Company.delete().where(Company.id == seeded.company_id).execute()


# --- how busy the machine is ------------------------------------------------------------------

@dataclass
class Cpu:
    """CPU seconds so far: a process tree (gunicorn), the local PostgreSQL server (all its processes), this
    process with the children it has reaped (wrk), and all cores together (busy, from /proc/stat)."""

    server: float
    database: float
    client: float
    machine: float

    def __sub__(self, other: "Cpu") -> "Cpu":
        return Cpu(self.server - other.server, self.database - other.database, self.client - other.client,
                   self.machine - other.machine)

    def __add__(self, other: "Cpu") -> "Cpu":
        return Cpu(self.server + other.server, self.database + other.database, self.client + other.client,
                   self.machine + other.machine)

    def other(self) -> float:
        """CPU of everything else on the machine (other people's work)."""
        return max(self.machine - self.server - self.database - self.client, 0.0)


def cpu_now(master: int | None = None) -> Cpu:
    tick, table = os.sysconf("SC_CLK_TCK"), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            rest = text[text.rindex(")") + 2:].split()
            table[int(stat.parent.name)] = (text[text.index("(") + 1:text.rindex(")")], int(rest[1]),
                                            (int(rest[11]) + int(rest[12])) / tick,
                                            (int(rest[13]) + int(rest[14])) / tick)

    def tree(roots):  # the roots, their live children, and the children they have reaped
        return (sum(table[r][2] + table[r][3] for r in roots if r in table)
                + sum(p[2] for p in table.values() if p[1] in roots))

    postmasters = {pid for pid, p in table.items() if p[0] == "postgres" and table.get(p[1], ("",))[0] != "postgres"}
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    machine = (sum(ticks) - ticks[3] - ticks[4]) / tick
    own = os.times()
    return Cpu(tree({master}) if master else 0.0, tree(postmasters),
               own.user + own.system + own.children_user + own.children_system, machine)


def process_cpu(pids) -> dict:
    """CPU seconds so far of each of these processes that is still running."""
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(f"/proc/{pid}/stat").read_text()
            rest = text[text.rindex(")") + 2:].split()
            found[pid] = (int(rest[11]) + int(rest[12])) / tick
    return found


def postgres_backends(url: str) -> set:
    """Process ids of the PostgreSQL backends connected to the URL's database (a pool's, which stay), so that
    other people's queries on the same server are not counted as ours."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (parts.path.lstrip("/"),))
        return {pid for (pid,) in rows}


def busy_note(cpu: Cpu, seconds: float) -> str:
    """One line on who used the CPU while measuring, with a warning when other processes took over 10%."""
    available = seconds * os.cpu_count()
    line = (f"CPU while measuring: {cpu.machine:.1f} of {available:.1f} core-seconds busy (this benchmark "
            f"{cpu.client:.1f}" + (f", gunicorn {cpu.server:.1f}" if cpu.server else "")
            + f", PostgreSQL {cpu.database:.1f}, other processes {cpu.other():.1f})")
    if cpu.other() > 0.1 * available:
        line += "\nWARNING: other processes were busy while measuring; these are not the figures of a quiet machine."
    return line


# --- query plans -------------------------------------------------------------------------------

def interpolate(sql: str, params) -> str:
    """The SQL with its parameters written in, for reading only."""
    placeholder = "?" if "?" in sql else "%s"
    parts = sql.split(placeholder)
    out = [parts[0]]
    for value, part in zip(params, parts[1:]):
        out.append((f"'{value}'" if isinstance(value, (str, dt.date, dt.datetime)) else repr(value)) + part)
    return "".join(out)


def plan_of(app, sql: str, params, postgres: bool) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL; EXPLAIN QUERY PLAN on SQLite, indented as a tree."""
    from portal.db import db

    with app.app_context(), db.connection_context():
        rows = db.execute_sql(("EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN ") + sql,
                              params).fetchall()
    if postgres:
        return [row[0] for row in rows]
    depth, lines = {0: -1}, []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


# --- running a benchmark ------------------------------------------------------------------------

def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def run(benchmark, args, prefix: str, removed: str) -> int:
    """benchmark(args, workdir, cleanup) with a temporary folder; what it registers on `cleanup` is undone at
    the end, also on Ctrl-C, SIGTERM or an error. Exit status: 0, 1 on an error, 3 when it returns False (a
    target missed, an error counted), 130 when interrupted."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.ExitStack() as cleanup:
            workdir = Path(tempfile.mkdtemp(prefix=prefix))
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            ok = benchmark(args, workdir, cleanup)
    except KeyboardInterrupt:
        print(f"\nInterrupted; {removed} removed.", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 3 if ok is False else 0


# --- running it alone ---------------------------------------------------------------------------

def percentile(values: list, p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Time loading users into a fresh Portal database.")
    parser.add_argument("--users", type=int, default=1_000_000, help="users (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1_000, help="companies (default 1,000)")
    parser.add_argument("--database-url", help="postgresql://postgres@127.0.0.1:5432/NAME (dropped and created "
                                               "again) instead of a temporary SQLite file")
    args = parser.parse_args(argv)
    check_database_url(parser, args.database_url)

    def load_alone(args, workdir, cleanup):
        app, _ = fresh_app(workdir, args.database_url, cleanup)
        loaded = load_users(app, args.users, args.companies, progress=print_progress)
        print(f"{describe(args.database_url)}: {loaded.summary()}")

    return run(load_alone, args, "portal-data-", "temporary files (and the PostgreSQL database)")


if __name__ == "__main__":
    sys.exit(main())
