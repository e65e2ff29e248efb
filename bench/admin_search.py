"""Administration > User search at scale: the query alone and the whole page, with their query plans.

Run from the project folder:

    .venv/bin/python bench/admin_search.py [--users 1000000 --companies 1000 --samples 200]
    .venv/bin/python bench/admin_search.py --database-url postgresql+pool://postgres@127.0.0.1:5432/portal_scale_search

It loads --users users into --companies companies (bench/_data.py) into a fresh SQLite file in a temporary
folder (or into that PostgreSQL database, dropped and created again first and dropped at the end; never
'test'), then measures, in this process (Flask's test client: no server, no network):

  (a) the search query alone: portal.services.user_search.search(company_id, q, filter) returning a page,
  (b) the whole page: GET /admin/users?q=... signed in as that company's Company Administrator (a login
      session made with portal.services.sessions, as after a complete sign-in), and, for the Service Center,
      GET /service-center/users?q=... signed in as a Service Center user,

for a User ID prefix, a last-name prefix and the filter "expiring" in a company of median size and in the
largest company, and for the Service Center's search over all companies with a User ID, a last-name and an
e-mail prefix, a last-name prefix with the filter "active", and the filter "blocked" (which matches nobody:
the whole table would be read without its partial index). Prefixes vary per sample (--samples each; the same
ones for query and page), drawn from the loaded users. It prints p50/p95/max per case, whether p95 stays under --target-ms, the plan of each case's query
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL) with the SQL taken from the peewee
query as it ran (peewee logs each query's .sql()), and every statement of one page request in the largest
company with its own time and plan (where the page's time goes besides the search).

SQLite gets no ANALYZE (Portal never runs it) unless --analyze; PostgreSQL is analyzed after the load, as
autovacuum would soon do. The temporary folder and the PostgreSQL database are removed when it ends, also on
Ctrl-C or an error.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402

TARGET_MS = 50.0


# --- command line -------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark Administration > User search with many users.")
    parser.add_argument("--users", type=int, default=1_000_000, help="users to load (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1_000, help="companies (default 1,000)")
    parser.add_argument("--samples", type=int, default=200, help="timed searches per case, each for query "
                                                                 "and page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed searches per case first (default 10)")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="p95 target in ms (default 50)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE on SQLite too (Portal does not)")
    parser.add_argument("--database-url", help="postgresql[+pool]://postgres@127.0.0.1:5432/NAME instead of a "
                                               "temporary SQLite file (dropped and created again, then dropped)")
    args = parser.parse_args(argv)
    if args.users < 2 * args.companies or args.companies < 1 or args.samples < 1 or args.warmup < 0:
        parser.error("--companies and --samples must be positive, with at least two users per company")
    _data.check_database_url(parser, args.database_url)
    return args


# --- the cases ----------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    company_id: int | None  # None: the Service Center, all companies
    filter_name: str
    queries: list  # one q per sample (warm-up ones first)
    path: str  # the page
    signed_in_as: int  # row id of the user whose session opens the page
    query_ms: list = field(default_factory=list)
    page_ms: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # users on the page, per sample
    plan: list = field(default_factory=list)
    sql: str = ""


def prefixes_of(rng: random.Random, values: list, low: int, high: int, count: int) -> list:
    """`count` prefixes of random lengths low..high of values picked at random, lowercased as the search does."""
    return [rng.choice(values)[:rng.randint(low, high)].lower() for _ in range(count)]


def build_cases(app, loaded: _data.Loaded, service_center_id: int, args) -> list:
    from portal.db import db
    from portal.models import User

    rng = random.Random(7)
    count = args.warmup + args.samples
    last_names = [name + suffix for name in _data.LAST_NAMES for suffix in dict.fromkeys(_data.SUFFIXES)]
    cases = []
    with app.app_context(), db.connection_context():
        for rank in ("median", "largest"):
            company = loaded.company_by_rank(rank)
            size = loaded.company_sizes[company]
            admin = loaded.admins[company][0]
            colleagues = [u for (u,) in User.select(User.user_id).where(User.company == company).tuples()]
            label = f"{rank} company ({size:,} users)"
            cases += [
                Case(f"User ID prefix, {label}", company, "", prefixes_of(rng, colleagues, 5, 8, count),
                     "/admin/users", admin),
                Case(f"last-name prefix, {label}", company, "", prefixes_of(rng, last_names, 3, 5, count),
                     "/admin/users", admin),
                Case(f"filter expiring, {label}", company, "expiring", [""] * count, "/admin/users", admin),
            ]
        everybody = [f"u{n:07d}" for n in range(1, loaded.users + 1)]
        cases += [
            Case("Service Center, User ID prefix, all companies", None, "", prefixes_of(rng, everybody, 5, 8, count),
                 "/service-center/users", service_center_id),
            Case("Service Center, last-name prefix, all companies", None, "",
                 prefixes_of(rng, last_names, 3, 5, count), "/service-center/users", service_center_id),
            Case("Service Center, e-mail prefix, all companies", None, "",
                 prefixes_of(rng, [f.lower() + "." for f in _data.FIRST_NAMES], 3, 6, count), "/service-center/users",
                 service_center_id),
            Case("Service Center, last-name prefix and filter active", None, "active",
                 prefixes_of(rng, last_names, 3, 5, count), "/service-center/users", service_center_id),
            Case("Service Center, filter password blocked", None, "blocked", [""] * count, "/service-center/users",
                 service_center_id),
        ]
    return cases


def make_service_center_user(app) -> int:
    """The operator's company and one Service Center user (consent given, so pages open)."""
    from portal import clock
    from portal.db import db
    from portal.models import ROLE_SERVICE_CENTER, Company, User
    from portal.services import accounts, consent

    with app.app_context(), db.connection_context(), db.atomic():
        company = Company.create(name="Operator Service Center", name_key="operator service center")
        user = User.create(company=company, role=ROLE_SERVICE_CENTER, valid_until=clock.today() + dt.timedelta(days=365),
                           terms_version=consent.document(consent.TERMS).version, show_personal_data=False,
                           personal_data_version=consent.document(consent.PERSONAL_DATA).version,
                           **accounts.with_keys({"user_id": "sc-bench", "email": "sc-bench@operator.example",
                                                 "first_name": "Service", "last_name": "Center"}))
    return user.id


# --- measuring ----------------------------------------------------------------------------------

class Captured(logging.Handler):
    """The (sql, params) peewee logs for each query it runs: the query's own .sql()."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries: list = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.queries.append(record.msg)


@contextlib.contextmanager
def captured_queries():
    logger, handler = logging.getLogger("peewee"), Captured()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.queries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def measure_queries(app, case: Case, warmup: int) -> None:
    """search() alone, on one open connection (a request opens it once, before its first query)."""
    from portal.db import db
    from portal.services import user_search

    with app.app_context(), db.connection_context():
        for i, q in enumerate(case.queries):
            start = time.perf_counter()
            page = user_search.search(case.company_id, q, case.filter_name)
            elapsed = time.perf_counter() - start
            if i >= warmup:
                case.query_ms.append(elapsed * 1000)
                case.rows.append(len(page.users))


def signed_in_client(app, user_row_id: int):
    """A test client holding the cookie of an active login session, as after password and code."""
    from portal.db import db
    from portal.models import User
    from portal.services import sessions

    with app.app_context(), db.connection_context(), db.atomic():
        pending = sessions.start_pending(User.get_by_id(user_row_id), "127.0.0.1", "portal-bench/1")
        started = sessions.promote(pending.login_session)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["sid"] = started.token
    return client


def measure_pages(app, case: Case, warmup: int) -> None:
    """The whole request: session lookup, consent gate, role check, search, count of administrators,
    template, request log line; the connection opened and closed as in production."""
    client = signed_in_client(app, case.signed_in_as)
    for i, q in enumerate(case.queries):
        params = {"q": q, "status": case.filter_name} if q or case.filter_name else {}
        url = case.path + ("?" + urlencode(params) if params else "")
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}, not 200 (location "
                               f"{response.headers.get('Location')})")
        if i >= warmup:
            case.page_ms.append(elapsed * 1000)


def explain(app, case: Case, postgres: bool) -> None:
    """The plan of the case's search query for its last timed prefix, with the SQL peewee ran."""
    from portal.db import db
    from portal.services import user_search

    q = case.queries[-1]
    with app.app_context(), db.connection_context():
        with captured_queries() as queries:
            user_search.search(case.company_id, q, case.filter_name)
    sql, params = queries[-1]
    case.sql = _data.interpolate(sql, params)
    case.plan = _data.plan_of(app, sql, params, postgres)


def page_statements(app, case: Case, postgres: bool, repeat: int = 20) -> list:
    """Every statement one page request runs, each SELECT run again `repeat` times on a new connection each
    time (as a request has), with its median time and plan: where a page's time goes besides the search."""
    from portal.db import db

    client = signed_in_client(app, case.signed_in_as)
    client.get(case.path)  # the first request after sign-in may write to the session; not counted
    q = case.queries[-1]
    with captured_queries() as queries:
        client.get(case.path + "?" + urlencode({"q": q, "status": case.filter_name}))
    found = []
    for sql, params in queries:
        if not sql.lstrip().upper().startswith("SELECT"):
            found.append((sql, None, []))
            continue
        times = []
        with app.app_context():
            for _ in range(repeat):
                with db.connection_context():
                    start = time.perf_counter()
                    db.execute_sql(sql, params).fetchall()
                    times.append((time.perf_counter() - start) * 1000)
        found.append((_data.interpolate(sql, params), _data.percentile(times, 50),
                      _data.plan_of(app, sql, params, postgres)))
    return found


# --- report -------------------------------------------------------------------------------------

def short_columns(sql: str) -> str:
    """A long SELECT list (every column of users and companies) shortened to a count."""
    head, sep, rest = sql.partition(" FROM ")
    if not head.startswith("SELECT ") or not sep or head.count(",") < 5:
        return sql
    return f"SELECT <{head.count(',') + 1} columns> FROM {rest}"


def stats(values: list) -> tuple:
    return _data.percentile(values, 50), _data.percentile(values, 95), max(values) if values else 0.0


def report(cases: list, args, loaded: _data.Loaded, database: str, loads: tuple, busy: str,
           page_case: Case, page_statements: list) -> bool:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nPortal admin search benchmark, {now}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"database: {database}; {loaded.summary()}")
    print(f"{args.samples} timed samples per case after {args.warmup} untimed; load average at start "
          f"{loads[0]:.2f}, before measuring {loads[1]:.2f} (after loading the users), after {loads[2]:.2f}"
          + ("" if not args.database_url else "; PostgreSQL analyzed after the load")
          + ("; SQLite analyzed (--analyze)" if args.analyze and not args.database_url else
             "; SQLite without ANALYZE, as Portal runs it" if not args.database_url else ""))
    ok = True
    width = max(len(c.name) for c in cases)
    print(f"\n{'case':<{width}}  {'rows':>5}  {'query p50':>9} {'p95':>6} {'max':>6}   {'page p50':>8} {'p95':>6} "
          f"{'max':>6}  target")
    for case in cases:
        q50, q95, qmax = stats(case.query_ms)
        p50, p95, pmax = stats(case.page_ms)
        rows = sum(case.rows) / len(case.rows) if case.rows else 0
        passed = q95 < args.target_ms and p95 < args.target_ms
        ok &= passed
        print(f"{case.name:<{width}}  {rows:5.1f}  {q50:9.1f} {q95:6.1f} {qmax:6.1f}   {p50:8.1f} {p95:6.1f} {pmax:6.1f}  "
              f"{'ok' if passed else 'OVER'}")
    print(f"(ms; rows = users on the page, average; target: p95 under {args.target_ms:g} ms for the query and "
          "for the whole page, which includes it)")
    print(busy)
    print(f"\nOne page request ({page_case.name}, q={page_case.queries[-1]!r}) runs {len(page_statements)} "
          "statements; each SELECT again on a new connection each time (median of 20) and its plan:")
    for sql, median, plan in page_statements:
        print(f"\n  {'(not a SELECT)' if median is None else f'{median:6.2f} ms'}  {short_columns(sql)}")
        for line in plan:
            print(f"     | {line}")
    print("\nQuery plans (the last timed prefix of each case; SQL with its parameters written in):")
    for case in cases:
        print(f"\n== {case.name}")
        print(f"   {short_columns(case.sql)}")
        for line in case.plan:
            print(f"   | {line}")
    return ok


# --- main ---------------------------------------------------------------------------------------

def benchmark(args, workdir: Path, cleanup: contextlib.ExitStack) -> bool:
    load_start = os.getloadavg()[0]
    app, _env = _data.fresh_app(workdir, args.database_url, cleanup)
    request_log = open(workdir / "requests.log", "a")  # Portal's one JSON line per request, kept off the screen
    cleanup.callback(request_log.close)
    for handler in logging.getLogger("portal.request").handlers:
        if hasattr(handler, "setStream"):
            handler.setStream(request_log)
    print(f"Loading {args.users:,} users into {_data.describe(args.database_url)} ...", flush=True)
    loaded = _data.load_users(app, args.users, args.companies, progress=_data.print_progress)
    print(loaded.summary(), flush=True)
    if args.database_url or args.analyze:
        started = time.perf_counter()
        _data.analyze(app)
        print(f"ANALYZE took {time.perf_counter() - started:.1f} s", flush=True)
    service_center = make_service_center_user(app)
    cases = build_cases(app, loaded, service_center, args)
    load = os.getloadavg()[0]
    cpu_before, started = _data.cpu_now(), time.perf_counter()
    for case in cases:
        print(f"  {case.name} ...", file=sys.stderr, flush=True)
        measure_queries(app, case, args.warmup)
        measure_pages(app, case, args.warmup)
    busy = _data.busy_note(_data.cpu_now() - cpu_before, time.perf_counter() - started)
    load_after = os.getloadavg()[0]
    for case in cases:
        explain(app, case, bool(args.database_url))
    page_case = next(c for c in cases if c.name.startswith("User ID prefix, largest"))
    statements = page_statements(app, page_case, bool(args.database_url))
    return report(cases, args, loaded, _data.describe(args.database_url), (load_start, load, load_after), busy,
                  page_case, statements)


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-bench-search-",
                     "temporary files (and the PostgreSQL database)")


if __name__ == "__main__":
    sys.exit(main())
