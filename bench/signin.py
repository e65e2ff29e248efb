"""Sign-in benchmark: complete sign-ins (password + TOTP code) against Portal under gunicorn.

Run from the project folder:

    .venv/bin/python bench/signin.py [--clients 8 --seconds 20 --database-url URL]

It starts gunicorn (the project's gunicorn.conf.py, with 2 workers) on a free port of 127.0.0.1 against
a fresh SQLite database in a temporary folder (or, with --database-url
postgresql://postgres@127.0.0.1:5432/portal_bench, or postgresql+pool://..., against that PostgreSQL
database, created when missing), runs `portal init-db`, inserts users with one known
password and enrolled authenticators with known TOTP secrets, then lets --clients threads do complete
sign-ins for --seconds, each with a user of its own (a TOTP step is accepted once per user), and
GET /sign-in alone for --page-seconds. It prints sign-ins per second, p50/p95 latencies, errors, the
cost of one argon2id verification alone and the ratio of a sign-in's server CPU to it; and, since a server whose
cores all hash pays more for each hash, the same verification with one process per core verifying side by side,
and the ratio to that.

Unless --no-fst, the same clients do as many complete sign-ins against Flask-Security-Too (bench/fst/app.py, in
a virtualenv of its own made from bench/fst/requirements.txt, see bench/_fst.py): TOTP required, the same
argon2id parameters, the same gunicorn workers and threads, a SQLite file; its steps are its own (/login,
/tf-validate, /) under Portal's step names. The two take turns in --rounds rounds of --seconds / --rounds
each (so that other people's load falls on both alike), and the report ends with Portal / FST.

Production argon2 parameters are kept: ambient PORTAL_* variables are ignored. Each simulated browser
sends an X-Forwarded-For address of its own (PORTAL_PROXY_COUNT=1), as real visitors come from many
addresses. gunicorn, the temporary folder and (on PostgreSQL) the rows the run inserted are removed
when it ends, also on Ctrl-C or an error.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402
import _fst  # noqa: E402
import _server  # noqa: E402
from _server import HOST, AccountPool, Browser, StepFailed, csrf_token, expect  # noqa: E402

from portal.security import totp  # noqa: E402  (pyotp only; the app is created once the settings are in place)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = _data.PASSWORD
WORKERS = 2
SIGN_IN_STEPS = ("GET /sign-in", "POST /sign-in", "GET /sign-in/verify", "POST /sign-in/verify", "GET /")


# --- command line -------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark complete Portal sign-ins under gunicorn.")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the sign-in run (default 20)")
    parser.add_argument("--page-seconds", type=float, default=5, help="duration of the GET /sign-in run (default 5)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of sign-ins not counted (default 2)")
    parser.add_argument("--users", type=int, default=3000, help="users to create, one per sign-in (default 3000)")
    parser.add_argument("--hash-samples", type=int, default=20, help="argon2 verifications to time (default 20)")
    parser.add_argument("--database-url", help="postgresql://USER@127.0.0.1:5432/NAME instead of a temporary "
                                               "SQLite file (the database is created when missing)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of sign-ins, alternating with "
                                                                "Flask-Security-Too's (default 2)")
    parser.add_argument("--no-fst", action="store_true", help="skip the Flask-Security-Too reference run")
    args = parser.parse_args(argv)
    if min(args.rounds, args.clients, args.users, args.hash_samples) < 1 or args.seconds <= 0 or args.page_seconds <= 0:
        parser.error("--clients, --seconds, --page-seconds, --users and --hash-samples must be positive")
    _data.check_database_url(parser, args.database_url)
    return args


# --- environment and database -------------------------------------------------------------------

# --- the two jobs -------------------------------------------------------------------------------

class Timer:
    """Times the steps of one job into a dict; the step running when it fails names the failure."""

    def __init__(self):
        self.steps: dict[str, float] = {}
        self.current = ""

    @contextlib.contextmanager
    def step(self, name: str):
        self.current = name
        start = time.perf_counter()
        yield
        self.steps[name] = time.perf_counter() - start


def sign_in(port: int, account: tuple[str, str], timer: Timer, browser: Browser | None = None) -> None:
    """A complete browser sign-in: page, password, code page, code, home page. A browser given stays open,
    signed in."""
    user_id, secret = account
    keep, browser = browser is not None, browser or Browser(port, own_address=True)
    try:
        _server.sign_in(browser, user_id, PASSWORD, lambda: totp.code_at(secret, time.time()), timer.step)
    finally:
        if not keep:
            browser.close()


def sign_in_page(port: int, _account, timer: Timer) -> None:
    """A first visit: GET /sign-in without cookies."""
    browser = Browser(port, own_address=True)
    try:
        with timer.step("GET /sign-in"):
            csrf_token(expect(browser.request("GET", "/sign-in"), 200).body)
    finally:
        browser.close()


# --- running a phase ----------------------------------------------------------------------------

@dataclass
class PhaseResult:
    name: str
    completed: int = 0
    elapsed: float = 0.0
    totals: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    cpu: _data.Cpu = field(default_factory=lambda: _data.Cpu(0.0, 0.0, 0.0, 0.0))
    out_of_users: bool = False

    def record(self, timer: Timer, error: str | None) -> None:
        for name, seconds in timer.steps.items():
            self.steps.setdefault(name, []).append(seconds)
        if error:
            self.errors[f"{timer.current}: {error}"] += 1
        else:
            self.completed += 1
            self.totals.append(sum(timer.steps.values()))


def client_loop(job, port: int, pool: AccountPool | None, deadline: float, stop: threading.Event,
                result: PhaseResult, lock: threading.Lock) -> None:
    while not stop.is_set() and time.perf_counter() < deadline:
        account = pool.take() if pool else None
        if pool and account is None:
            result.out_of_users = True
            return
        timer, error = Timer(), None
        try:
            job(port, account, timer)
        except StepFailed as failure:
            error = str(failure)
        except Exception as failure:  # a broken connection or page counts as an error, not a crash
            error = f"{type(failure).__name__}: {failure}"
        with lock:
            result.record(timer, error)


def run_phase(name: str, job, port: int, master: int, clients: int, seconds: float,
              pool: AccountPool | None = None, into: PhaseResult | None = None) -> PhaseResult:
    """`clients` threads repeat `job` until `seconds` have passed; the last jobs are allowed to finish. With
    `into`, the run is added to that result (one of several rounds)."""
    result, lock, stop = into or PhaseResult(name), threading.Lock(), threading.Event()
    cpu_before, start = _data.cpu_now(master), time.perf_counter()
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(job, port, pool, start + seconds, stop, result, lock))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        stop.set()
    result.elapsed += time.perf_counter() - start
    result.cpu = result.cpu + (_data.cpu_now(master) - cpu_before)
    return result


# --- the hash alone -----------------------------------------------------------------------------

@dataclass
class HashCost:
    wall: float
    cpu: float
    samples: int
    params: str
    cpu_side_by_side: float  # the same while every core verifies too


def measure_hash(samples: int) -> HashCost:
    """Median wall and CPU time of one argon2-cffi PasswordHasher() verification (library defaults), alone and
    with one process per core verifying side by side: a server whose cores all hash pays the second, which is the
    least a sign-in can cost there."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    walls, cpus = _verifications(samples)
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:  # before any thread is started
        side_by_side = [cpu for _walls, cpus_of_one in pool.map(_verifications, [samples] * os.cpu_count())
                        for cpu in cpus_of_one]
    params = f"t={hasher.time_cost}, m={hasher.memory_cost} KiB, p={hasher.parallelism}"
    return HashCost(statistics.median(walls), statistics.median(cpus), samples, params,
                    statistics.median(side_by_side))


def _verifications(samples: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of `samples` verifications in this process."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    walls, cpus = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        hasher.verify(stored, PASSWORD)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


# --- report -------------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report_phase(result: PhaseResult, unit: str, hash_cost: HashCost, step_names, postgres: bool) -> None:
    rate = result.completed / result.elapsed if result.elapsed else 0.0
    print(f"\n{result.name}: {result.completed} {unit}s in {result.elapsed:.1f} s = {rate:.1f} {unit}s/s, "
          f"errors: {sum(result.errors.values())}")
    report_latency(result, unit, step_names)
    if result.completed:
        report_cost(result, unit, hash_cost, postgres)
    report_cpu(result)
    for error, count in result.errors.most_common(5):
        print(f"  error x{count}: {error}")
    if result.out_of_users:
        print("  WARNING: ran out of users before the time was up; raise --users.")


def report_latency(result: PhaseResult, unit: str, step_names) -> None:
    print(f"  {'latency (ms)':<24}{'p50':>8}{'p95':>8}")
    rows = ([(f"complete {unit}", result.totals)] if len(step_names) > 1 else []) + [
        (name, result.steps.get(name, [])) for name in step_names]
    for name, values in rows:
        print(f"  {name:<24}{ms(_data.percentile(values, 50))}{ms(_data.percentile(values, 95))}")


def report_cost(result: PhaseResult, unit: str, hash_cost: HashCost, postgres: bool) -> None:
    """Server CPU per job against one hash's CPU; with PostgreSQL its server's CPU is part of the cost."""
    cpu, n = result.cpu, result.completed
    server = cpu.server + (cpu.database if postgres else 0.0)
    parts = f" (gunicorn {cpu.server / n * 1000:.1f} + PostgreSQL {cpu.database / n * 1000:.1f})" if postgres else ""
    print(f"  server CPU per {unit}: {server / n * 1000:.1f} ms{parts} = {server / n / hash_cost.cpu:.2f} x one "
          f"hash's CPU ({server / n / hash_cost.cpu_side_by_side:.2f} x one hash beside others); bench client CPU "
          f"per {unit}: {cpu.client / n * 1000:.1f} ms")
    print(f"  p50 {unit} latency = {_data.percentile(result.totals, 50) / hash_cost.wall:.2f} x one hash's wall time")


def report_cpu(result: PhaseResult) -> None:
    """Where the machine's CPU went during the run, so that a busy machine shows."""
    print("  " + _data.busy_note(result.cpu, result.elapsed).replace("\n", "\n  "))


def print_header(args, database: str, hash_cost: HashCost, load: float, worker: str) -> None:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nPortal sign-in benchmark, {now}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"gunicorn {WORKERS} workers ({worker}) on {HOST}, {args.clients} client threads, database: {database}, "
          f"load average before: {load:.2f}")
    print(f"argon2id verify alone (PasswordHasher() defaults: {hash_cost.params}), median of "
          f"{hash_cost.samples}: {hash_cost.wall * 1000:.1f} ms wall, {hash_cost.cpu * 1000:.1f} ms CPU")
    print(f"the same with {os.cpu_count()} processes verifying side by side (every core hashing): "
          f"{hash_cost.cpu_side_by_side * 1000:.1f} ms CPU = {hash_cost.cpu_side_by_side / hash_cost.cpu:.2f} x alone")


# --- main ---------------------------------------------------------------------------------------

def benchmark(args, workdir: Path, cleanup: contextlib.ExitStack) -> None:
    load = os.getloadavg()[0]
    hash_cost = measure_hash(args.hash_samples)  # first, while nothing else runs
    port = _server.free_port()
    database_url = args.database_url or f"sqlite:///{workdir / 'portal.db'}"
    env = _data.portal_environment(workdir / "instance", database_url, f"http://{HOST}:{port}")
    env["PORTAL_PROXY_COUNT"] = "1"  # trust one X-Forwarded-For hop: each Browser has an address of its own
    os.environ.clear()
    os.environ.update(env)  # the app that seeds, in this process, reads the same settings (no other PORTAL_*)
    if args.database_url:
        _data.ensure_postgres_database(database_url)
    _data.init_db(env)

    from portal import create_app

    seeded = _data.seed(create_app(), args.users, secrets.token_hex(3))
    if args.database_url:
        cleanup.callback(_data.remove_seeded, seeded)
    pool = AccountPool(seeded.accounts)
    print(f"Inserted {args.users} users with enrolled authenticators; starting gunicorn on port {port}.")
    options = ("--workers", str(WORKERS), "--bind", f"{HOST}:{port}", "--chdir", str(ROOT), "wsgi:app")
    server = cleanup.enter_context(_server.gunicorn(env, workdir / "gunicorn.log", port, options))
    fst = None if args.no_fst else cleanup.enter_context(fst_reference(args, workdir, env))
    run_phase("warm-up", sign_in, port, server.pid, min(args.clients, WORKERS * 2), args.warmup, pool)
    signins = PhaseResult(f"Complete sign-ins ({args.seconds:g} s in {args.rounds} rounds)")
    reference = None if fst is None else PhaseResult(
        f"Flask-Security-Too, complete sign-ins ({args.seconds:g} s in {args.rounds} rounds; /login, /tf-validate, /)")
    for _ in range(args.rounds):  # alternating, so that other people's load falls on both sides alike
        run_phase(signins.name, sign_in, port, server.pid, args.clients, args.seconds / args.rounds, pool, signins)
        if fst is not None:
            fst(reference, args.seconds / args.rounds)
    page = run_phase(f"Sign-in page alone, GET /sign-in without cookies ({args.page_seconds:g} s)",
                     sign_in_page, port, server.pid, args.clients, args.page_seconds)
    print_header(args, _data.describe(args.database_url), hash_cost, load, _server.worker_kind(workdir / "gunicorn.log"))
    report_phase(signins, "sign-in", hash_cost, SIGN_IN_STEPS, bool(args.database_url))
    report_phase(page, "request", hash_cost, ("GET /sign-in",), bool(args.database_url))
    if reference is not None:
        report_phase(reference, "sign-in", hash_cost, SIGN_IN_STEPS, False)
        compare(signins, reference, bool(args.database_url))


@contextlib.contextmanager
def fst_reference(args, workdir: Path, env: dict):
    """Flask-Security-Too in its own virtualenv and gunicorn, seeded and warmed up; yields run(into, seconds),
    which lets the same clients sign in there and adds the round to `into`."""
    bin_dir = _fst.virtualenv()
    fst_env = _fst.environment(workdir, env)
    pool = AccountPool(_fst.seed(bin_dir, fst_env, workdir, args.users))
    port = _server.free_port()

    def job(port, account, timer):
        _fst.sign_in(port, account, timer, lambda key: totp.code_at(key, time.time()))

    with _fst.server(bin_dir, fst_env, workdir, port) as server:
        run_phase("warm-up", job, port, server.pid, min(args.clients, WORKERS * 2), args.warmup, pool)
        yield lambda into, seconds: run_phase(into.name, job, port, server.pid, args.clients, seconds, pool, into)


def compare(portal: PhaseResult, reference: PhaseResult, postgres: bool) -> None:
    """Portal / Flask-Security-Too: sign-ins per second (higher is better) and server CPU per sign-in."""
    if not portal.completed or not reference.completed:
        print("\nPortal / Flask-Security-Too: no comparison (a side completed no sign-in).")
        return
    rate = portal.completed / portal.elapsed, reference.completed / reference.elapsed
    cpu = ((portal.cpu.server + (portal.cpu.database if postgres else 0.0)) / portal.completed,
           reference.cpu.server / reference.completed)
    print(f"\nPortal / Flask-Security-Too: complete sign-ins per second {rate[0]:.1f} / {rate[1]:.1f} = "
          f"{rate[0] / rate[1]:.2f}; server CPU per sign-in {cpu[0] * 1000:.0f} / {cpu[1] * 1000:.0f} ms = "
          f"{cpu[0] / cpu[1]:.2f}")


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-bench-", "gunicorn stopped and temporary files")


if __name__ == "__main__":
    sys.exit(main())
