"""A bounded load run: 50 browsers signing in and browsing, against Portal under gunicorn on PostgreSQL.

Run from the project folder:

    .venv/bin/python bench/load.py [--clients 50 --seconds 60 --users 1000000]
    .venv/bin/python bench/load.py --database-url "postgresql+pool://postgres@127.0.0.1:5432/portal_scale_load?max_connections=8&stale_timeout=300"

It drops and creates the PostgreSQL database of --database-url (by default portal_scale_load on 127.0.0.1;
never 'test'), migrates it through Portal, loads --users users in --companies companies (bench/_data.py, one
argon2id hash with production parameters shared by all), gives --signin-users of them, picked at random
among the active and valid ones, an enrolled authenticator with a known TOTP secret, and starts gunicorn
with the project's gunicorn.conf.py (PORTAL_BIND on a free port of 127.0.0.1, PORTAL_WORKERS workers).

Then --clients threads (plain http.client, keep-alive, cookies) each repeat a visit: a complete sign-in
(GET /sign-in, POST /sign-in, GET /sign-in/verify, POST /sign-in/verify with the current TOTP code, GET /)
with a user of their own (each 30-s TOTP step is accepted once per user, so no user signs in twice), then
--rounds rounds of GET /, /profile, /security and /directory, then POST /sign-out. A warm-up is not counted
(until --clients visits are complete, so that every page has been served, at most --warmup seconds); the timed
part lasts --seconds (at most 300). It prints requests/s, errors (anything but the
expected status, or a broken connection), p50/p95/max per kind of request, where the CPU went, and the
resident memory (VmRSS from /proc) of each gunicorn worker after start-up, after the warm-up, every second
and at the end, to show whether memory stays flat (see MemoryWatch).

Rate limits are switched off (PORTAL_RATELIMIT_ENABLED=false): every client comes from 127.0.0.1, and 50
people signing in from one address would be limited as an attack. Mail is not involved (nothing in these
pages sends any). gunicorn, the temporary folder and the database are removed at the end, also on Ctrl-C or
an error.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402
import _server  # noqa: E402
from _server import HOST, AccountPool, Browser, StepFailed, csrf_token, expect  # noqa: E402

PASSWORD = "Quiet-Lantern-Harbor-93"
DEFAULT_URL = "postgresql+pool://postgres@127.0.0.1:5432/portal_scale_load?max_connections=8&stale_timeout=300"
MAX_SECONDS = 300
BROWSE = ("/", "/profile", "/security", "/directory")
KINDS = ("GET /sign-in", "POST /sign-in", "GET /sign-in/verify", "POST /sign-in/verify", "GET / (after sign-in)",
         *(f"GET {p}" for p in BROWSE), "POST /sign-out")


class TimeUp(Exception):
    """The timed part is over; visits under way stop at their next request."""


# --- command line -------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A bounded load run against Portal under gunicorn on PostgreSQL.")
    parser.add_argument("--clients", type=int, default=50, help="concurrent browsers (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help=f"timed duration (default 60, at most {MAX_SECONDS})")
    parser.add_argument("--warmup", type=float, default=30,
                        help="uncounted load first, until --clients visits are done, at most this long (default 30 s)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the four pages per visit (default 5)")
    parser.add_argument("--users", type=int, default=1_000_000, help="users in the database (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1_000, help="companies (default 1,000)")
    parser.add_argument("--signin-users", type=int, default=4000,
                        help="users with an authenticator, one per sign-in (default 4000)")
    parser.add_argument("--workers", type=int, default=2, help="PORTAL_WORKERS (default 2, one per core here)")
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="postgresql[+pool]://postgres@127.0.0.1:5432/NAME, dropped and created again, then "
                             "dropped (default: portal_scale_load with a pool of 8 per worker)")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS or args.warmup < 0:
        parser.error(f"--seconds must be more than 0 and at most {MAX_SECONDS}; --warmup not negative")
    if min(args.clients, args.rounds, args.workers, args.signin_users) < 1 or args.users < 2 * args.companies:
        parser.error("--clients, --rounds, --workers and --signin-users must be positive, with at least two users "
                     "per company")
    if args.signin_users > args.users // 2:
        parser.error("--signin-users must be at most half of --users")
    _data.check_database_url(parser, args.database_url)
    return args


# --- the users who sign in ----------------------------------------------------------------------

def enroll(app, count: int) -> list:
    """`count` random users who may sign in (active, valid for a while) get an authenticator; returns
    (User ID, TOTP secret) pairs in random order."""
    from peewee import chunked, fn

    from portal import clock
    from portal.db import db
    from portal.models import Authenticator, User
    from portal.security import crypto, totp

    with app.app_context(), db.connection_context():
        soon = clock.today() + dt.timedelta(days=7)
        chosen = list(User.select(User.id, User.user_id).where(User.active & (User.valid_until > soon))
                      .order_by(fn.Random()).limit(count).tuples())
        now = clock.now()
        accounts = [(user_id, totp.new_secret()) for _, user_id in chosen]
        rows = [{"user": row_id, "device_name": "Load phone", "secret_encrypted": crypto.encrypt(secret),
                 "confirmed_at": now} for (row_id, _), (_, secret) in zip(chosen, accounts)]
        with db.atomic():
            for batch in chunked(rows, 1000):
                Authenticator.insert_many(batch).execute()
    return accounts


# --- /proc: memory and CPU ----------------------------------------------------------------------

def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            if int(text[text.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


def rss_mib(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


class MemoryWatch:
    """RSS of every gunicorn worker, sampled every `every` seconds on a thread of its own.

    A sign-in's argon2id hash takes 64 MiB while it runs (up to one per worker thread), so single samples jump
    by hundreds of MiB and fall back; what would show a leak is the floor: the smallest sample of a worker at
    the start of the timed part against the smallest at its end."""

    def __init__(self, master: int, every: float = 1.0):
        self.master, self.every = master, every
        self.samples: list[tuple[float, dict[int, float]]] = []  # (seconds since start, {pid: MiB})
        self.marks: dict[str, tuple[float, dict[int, float]]] = {}
        self.started = time.perf_counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def now(self) -> float:
        return time.perf_counter() - self.started

    def snapshot(self) -> dict[int, float]:
        return {pid: rss for pid in children(self.master) if (rss := rss_mib(pid)) is not None}

    def mark(self, name: str) -> None:
        self.marks[name] = (self.now(), self.snapshot())

    def floor(self, pid: int, start: float, end: float) -> float | None:
        values = [snap[pid] for t, snap in self.samples if start <= t <= end and pid in snap]
        return min(values) if values else None

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            self.samples.append((self.now(), self.snapshot()))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


# --- a visit ------------------------------------------------------------------------------------

class Recorder:
    """Latencies per kind of request and errors, shared by the client threads; only while counting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counting = False
        self.latency: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.errors: Counter = Counter()
        self.visits = 0
        self.warm_visits = 0
        self.deadline = float("inf")  # set once the warm-up is over

    def timed(self, kind: str, call):
        if time.perf_counter() >= self.deadline:
            raise TimeUp  # the run is over: leave the visit where it is (nothing is counted any more)
        start = time.perf_counter()
        try:
            return call()
        except Exception as failure:
            if self.counting:
                with self.lock:
                    self.errors[f"{kind}: {failure if isinstance(failure, StepFailed) else type(failure).__name__}"] += 1
            raise
        finally:
            elapsed = time.perf_counter() - start
            if self.counting:
                with self.lock:
                    self.latency[kind].append(elapsed)


def visit(port: int, account: tuple[str, str], rounds: int, rec: Recorder) -> None:
    """Sign in, browse the four pages `rounds` times, sign out."""
    user_id, secret = account
    browser = Browser(port, agent="portal-load/1")
    try:
        page = rec.timed("GET /sign-in", lambda: expect(browser.request("GET", "/sign-in"), 200))
        form = {"user_id": user_id, "password": PASSWORD, "csrf_token": csrf_token(page.body)}
        rec.timed("POST /sign-in", lambda: expect(browser.request("POST", "/sign-in", form), 303, "/sign-in/verify"))
        page = rec.timed("GET /sign-in/verify", lambda: expect(browser.request("GET", "/sign-in/verify"), 200))
        form = {"code": totp_code(secret), "csrf_token": csrf_token(page.body)}
        rec.timed("POST /sign-in/verify", lambda: expect(browser.request("POST", "/sign-in/verify", form), 303, "/"))
        page = rec.timed("GET / (after sign-in)", lambda: expect(browser.request("GET", "/"), 200))
        if user_id not in page.body:
            raise StepFailed("the home page does not show the User ID")
        for _ in range(rounds):
            for path in BROWSE:
                page = rec.timed(f"GET {path}", lambda: expect(browser.request("GET", path), 200))
        form = {"csrf_token": csrf_token(page.body)}
        rec.timed("POST /sign-out", lambda: expect(browser.request("POST", "/sign-out", form), 303, "/sign-in"))
        with rec.lock:
            if rec.counting:
                rec.visits += 1
            else:
                rec.warm_visits += 1
    finally:
        browser.close()


def totp_code(secret: str) -> str:
    from portal.security import totp

    return totp.code_at(secret, time.time())


def client_loop(port: int, pool: AccountPool, rounds: int, rec: Recorder, ran_out: list) -> None:
    while time.perf_counter() < rec.deadline:
        account = pool.take()
        if account is None:
            ran_out.append(True)
            return
        with contextlib.suppress(Exception):  # recorded by Recorder.timed; the browser starts over
            visit(port, account, rounds, rec)


# --- report -------------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report(args, rec: Recorder, elapsed: float, cpu: _data.Cpu, memory: MemoryWatch, load: float, load_after: float,
           loaded: _data.Loaded, ran_out: bool, worker: str, warmup: float) -> bool:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    total = sum(len(v) for v in rec.latency.values())
    errors = sum(rec.errors.values())
    print(f"\nPortal load run, {now}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"gunicorn -c gunicorn.conf.py: {args.workers} workers ({worker}) on {HOST}; database "
          f"{_data.describe(args.database_url)}; {loaded.users:,} users in {loaded.companies:,} companies")
    print(f"{args.clients} clients, {args.seconds:g} s timed after {warmup:.0f} s warm-up ({rec.warm_visits} visits); "
          "visit = sign-in, "
          f"{args.rounds} x (GET {', '.join(BROWSE)}), sign-out; rate limits OFF (PORTAL_RATELIMIT_ENABLED=false)")
    print(f"load average before {load:.2f}, after {load_after:.2f}")
    print(f"\nrequests: {total:,} in {elapsed:.1f} s = {total / elapsed:.1f} requests/s; visits completed "
          f"{rec.visits:,} ({rec.visits / elapsed * 60:.0f}/min, sign-ins {len(rec.latency['POST /sign-in/verify']) / elapsed:.1f}/s); "
          f"errors: {errors}")
    for error, count in rec.errors.most_common(8):
        print(f"  error x{count}: {error}")
    if ran_out:
        print("  WARNING: ran out of users before the time was up; raise --signin-users.")
    everything = [x for v in rec.latency.values() for x in v]
    print(f"\n  {'latency (ms)':<26}{'count':>7}{'p50':>8}{'p95':>8}{'max':>8}")
    for kind, values in [("all requests", everything), *rec.latency.items()]:
        print(f"  {kind:<26}{len(values):7d}{ms(_data.percentile(values, 50))}{ms(_data.percentile(values, 95))}"
              f"{ms(max(values) if values else 0)}")
    print("\n" + _data.busy_note(cpu, elapsed))
    flat = report_memory(memory)
    return errors == 0 and flat


def report_memory(memory: MemoryWatch) -> bool:
    """Per worker: RSS at the marks, the floor (smallest sample) in the first and the last fifth of the timed
    part, and the peak. Flat: no worker's floor grew by more than 10% + 5 MiB."""
    print(f"\nWorker memory (VmRSS from /proc/PID/status, MiB; sampled every {memory.every:g} s):")
    t0, t1 = memory.marks["after warm-up"][0], memory.marks["end"][0]
    fifth = (t1 - t0) / 5
    pids = sorted({pid for _, snap in [*memory.marks.values(), *memory.samples] for pid in snap})
    names = list(memory.marks)
    print(f"  {'worker':>8}" + "".join(f"{name:>14}" for name in names)
          + f"{'floor, first 1/5':>18}{'floor, last 1/5':>17}{'peak':>8}")
    flat = True
    for pid in pids:
        first, last = memory.floor(pid, t0, t0 + fifth), memory.floor(pid, t1 - fifth, t1)
        peak = max((snap[pid] for _, snap in memory.samples if pid in snap), default=None)
        cells = "".join(f"{cell(memory.marks[name][1].get(pid)):>14}" for name in names)
        print(f"  {pid:>8}{cells}{cell(first):>18}{cell(last):>17}{cell(peak):>8}")
        if first is not None and last is not None and last > first * 1.10 + 5:
            flat = False
    recycled = set(memory.marks["after warm-up"][1]) ^ set(memory.marks["end"][1])
    if recycled:
        print(f"  workers started or stopped during the run (gunicorn max_requests recycling): {sorted(recycled)}")
    buckets = {}
    for t, snap in memory.samples:
        if t0 <= t <= t1:
            key = int((t - t0) // 10) * 10
            for pid, rss in snap.items():
                buckets.setdefault(key, {}).setdefault(pid, []).append(rss)
    print("  floor of all workers together per 10 s of the timed part (s: MiB): "
          + "  ".join(f"{k}:{sum(min(v) for v in b.values()):.0f}" for k, b in sorted(buckets.items())))
    print(f"  memory flat (no worker's floor grew by more than 10% + 5 MiB): {'yes' if flat else 'NO'}")
    return flat


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# --- main ---------------------------------------------------------------------------------------

def benchmark(args, workdir: Path, cleanup: contextlib.ExitStack) -> bool:
    port = _server.free_port()
    app, env = _data.fresh_app(workdir, args.database_url, cleanup, RATELIMIT_ENABLED="false")
    env.update({"PORTAL_BIND": f"{HOST}:{port}", "PORTAL_WORKERS": str(args.workers),
                "PORTAL_BASE_URL": f"http://{HOST}:{port}"})
    from portal.db import db
    from portal.security import passwords

    with app.app_context(), db.connection_context():
        password_hash = passwords.hash_password(PASSWORD)  # once, with production argon2 parameters
    print(f"Loading {args.users:,} users into {_data.describe(args.database_url)} ...", flush=True)
    loaded = _data.load_users(app, args.users, args.companies, password_hash=password_hash,
                              progress=_data.print_progress)
    print(loaded.summary(), flush=True)
    accounts = enroll(app, args.signin_users)
    _data.analyze(app)
    print(f"{len(accounts):,} users enrolled with an authenticator; starting gunicorn on port {port}.", flush=True)
    log_path = workdir / "gunicorn.log"
    server = cleanup.enter_context(_server.gunicorn(env, log_path, port))
    memory = cleanup.enter_context(MemoryWatch(server.pid))
    memory.mark("after start")
    pool, rec, ran_out = AccountPool(accounts), Recorder(), []
    load = os.getloadavg()[0]
    start = time.perf_counter()
    threads = [threading.Thread(target=client_loop, daemon=True, args=(port, pool, args.rounds, rec, ran_out))
               for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    while time.perf_counter() < start + args.warmup and rec.warm_visits < args.clients and not ran_out:
        time.sleep(0.2)  # every page compiled and every thread busy before counting
    warmup = time.perf_counter() - start
    memory.mark("after warm-up")
    rec.counting, cpu_before, counted = True, _data.cpu_now(server.pid), time.perf_counter()
    rec.deadline = counted + args.seconds
    while time.perf_counter() < rec.deadline and any(t.is_alive() for t in threads):
        time.sleep(0.2)
    rec.counting, cpu_after, elapsed = False, _data.cpu_now(server.pid), time.perf_counter() - counted
    memory.mark("end")
    load_after = os.getloadavg()[0]
    for thread in threads:  # each stops at its next request (TimeUp) before gunicorn stops
        thread.join(120)
    return report(args, rec, elapsed, cpu_after - cpu_before, memory, load, load_after, loaded, bool(ran_out),
                  _server.worker_kind(log_path), warmup)


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-bench-load-",
                     "gunicorn stopped, temporary files and the database")


if __name__ == "__main__":
    sys.exit(main())
