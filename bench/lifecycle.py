"""The lifecycle job at scale: `portal lifecycle run` over a million users, with work to do and then without.

Run from the project folder:

    .venv/bin/python bench/lifecycle.py [--users 1000000 --companies 1000]
    .venv/bin/python bench/lifecycle.py --database-url postgresql://postgres@127.0.0.1:5432/portal_scale_lifecycle

It loads --users users into --companies companies (bench/_data.py: last sign-ins spread over the last 13
months, Valid Until over the next 24 months and some in the past, nobody warned or notified yet) into a fresh
SQLite file in a temporary folder (or into that PostgreSQL database, dropped and created again first and
dropped at the end; never 'test'), then, with the real clock:

  1. a dry run (`--dry-run`: the counts alone),
  2. a first run with the whole backlog to do: portal.services.lifecycle.run() in this process, inside an
     app context, as `portal lifecycle run` calls it, with the time of each of its steps,
  3. a second run, which should find nothing to do,
  4. a run with the clock one day ahead: a day's work, what an hourly timer meets once the backlog is done
     (users whose 11 or 12 months run out that day, Valid Until dates that pass, new digests),
  5. the `portal lifecycle run` command itself (a new process: start-up included), with nothing to do,

and prints the times and counts, checks them against the database (outbox rows, audit events, deactivated
users), and prints the plan of the first query of each step (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE,
BUFFERS) on PostgreSQL, taken in the nothing-to-do state that every hourly run meets). Mail goes to the
outbox table only: nothing is sent (no `portal mail send`). Targets: the first run under --target-action
milliseconds per action (0.5; an action is a user warned, deactivated, listed in a digest or recorded as
expired, each with its mail or audit event), the second under --target-second seconds (2), the day's work
under --target-day seconds (10).

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
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The steps of portal.services.lifecycle.run(), in order; those the installed version lacks are left out.
STEPS = ("warn_inactive", "deactivate_inactive", "digest_expiring", "record_expired", "purge_stale")


# --- command line -------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark `portal lifecycle run` with many users.")
    parser.add_argument("--users", type=int, default=1_000_000, help="users to load (default 1,000,000)")
    parser.add_argument("--companies", type=int, default=1_000, help="companies (default 1,000)")
    parser.add_argument("--target-action", type=float, default=0.5,
                        help="milliseconds per action allowed in the first run (0.5)")
    parser.add_argument("--target-day", type=float, default=10, help="seconds allowed for a day's work (10)")
    parser.add_argument("--target-second", type=float, default=2, help="seconds allowed for the second run (2)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE on SQLite too (Portal does not)")
    parser.add_argument("--database-url", help="postgresql://postgres@127.0.0.1:5432/NAME instead of a temporary "
                                               "SQLite file (dropped and created again, then dropped)")
    args = parser.parse_args(argv)
    if args.users < 2 * args.companies or args.companies < 1:
        parser.error("--companies must be positive, with at least two users per company")
    _data.check_database_url(parser, args.database_url)
    return args


# --- one run, step by step ----------------------------------------------------------------------

class FirstSelects(logging.Handler):
    """The first SELECT peewee runs in each step (the query that finds the step's first batch)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.step = ""
        self.first: dict[str, tuple] = {}
        self.statements: dict[str, int] = {}

    def emit(self, record):
        if not (isinstance(record.msg, tuple) and len(record.msg) == 2):
            return
        self.statements[self.step] = self.statements.get(self.step, 0) + 1
        sql = record.msg[0]
        if sql.lstrip().upper().startswith("SELECT") and "job_locks" not in sql and self.step not in self.first:
            self.first[self.step] = record.msg


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)  # step -> seconds
    statements: dict = field(default_factory=dict)  # step -> statements run
    first_selects: dict = field(default_factory=dict)
    skipped: bool = False


@contextlib.contextmanager
def timed_steps(run: Run):
    """Wrap the step functions of portal.services.lifecycle (run() looks them up at each call) to time
    them and to note their statements; restored afterwards."""
    from portal.services import lifecycle

    handler, logger = FirstSelects(), logging.getLogger("peewee")
    originals = {name: getattr(lifecycle, name) for name in STEPS if hasattr(lifecycle, name)}

    def wrap(name, fn):
        def timed(*args, **kwargs):
            handler.step = name
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                run.steps[name] = time.perf_counter() - start
                handler.step = ""
        return timed

    for name, fn in originals.items():
        setattr(lifecycle, name, wrap(name, fn))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        for name, fn in originals.items():
            setattr(lifecycle, name, fn)
        run.first_selects = handler.first
        run.statements = {k: v for k, v in handler.statements.items() if k}


def run_in_process(app, name: str, dry_run: bool = False, days_ahead: int = 0) -> Run:
    """lifecycle.run() as the CLI calls it: app context, one connection, the real clock (days_ahead later)."""
    from portal import clock
    from portal.db import db
    from portal.services import lifecycle

    clock.set_source((lambda: clock.system_now() + dt.timedelta(days=days_ahead)) if days_ahead else None)
    run = Run(name)
    with app.app_context():
        db.connect(reuse_if_open=True)
        try:
            with timed_steps(run):
                start = time.perf_counter()
                summary = lifecycle.run(dry_run=dry_run)
                run.seconds = time.perf_counter() - start
        finally:
            db.close()
            clock.set_source(None)
    run.counts, run.skipped = dict(summary.counts), summary.skipped
    return run


def actions(run: Run) -> int:
    """Users acted on: warned, deactivated, listed in a digest, or recorded as expired."""
    return sum(run.counts.get(k, 0) for k in ("warned", "deactivated", "digest_users", "expired"))


def run_cli(env: dict) -> tuple[float, str]:
    """`portal lifecycle run` in a process of its own; wall time including start-up."""
    start = time.perf_counter()
    result = subprocess.run([str(BIN / "portal"), "lifecycle", "run"], env=env, cwd=ROOT, capture_output=True,
                            text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"portal lifecycle run failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return seconds, result.stdout.strip()


# --- checks and plans ---------------------------------------------------------------------------

def database_counts(app) -> dict:
    from peewee import fn

    from portal.db import db
    from portal.models import AuditEvent, OutboxMessage, User

    with app.app_context(), db.connection_context():
        events = dict(AuditEvent.select(AuditEvent.event, fn.COUNT(AuditEvent.id)).group_by(AuditEvent.event).tuples())
        return {"outbox": OutboxMessage.select().count(), "inactive users": User.select().where(~User.active).count(),
                **{f"audit {k}": v for k, v in sorted(events.items())}}


def matches(run: Run, before: dict, after: dict) -> bool:
    """The rows a run added are what it counted."""
    counts = run.counts
    expected = {"outbox": counts.get("warned", 0) + counts.get("deactivated", 0) + counts.get("digest_mails", 0),
                "audit lifecycle.inactivity_warning": counts.get("warned", 0),
                "audit lifecycle.deactivated_for_inactivity": counts.get("deactivated", 0),
                "audit lifecycle.expired": counts.get("expired", 0),
                "inactive users": counts.get("deactivated", 0)}
    return all(after.get(key, 0) - before.get(key, 0) == value for key, value in expected.items())


# --- report -------------------------------------------------------------------------------------

def print_run(run: Run, target: float | None = None) -> bool:
    counts = run.counts
    verdict = "" if target is None else (f"  (target under {target:g} s: "
                                         f"{'ok' if run.seconds < target else 'OVER'})")
    print(f"\n{run.name}: {run.seconds:.2f} s{verdict}" + ("  SKIPPED (lease held)" if run.skipped else ""))
    print(f"  warned {counts.get('warned', 0):,}, deactivated {counts.get('deactivated', 0):,}, digest mails "
          f"{counts.get('digest_mails', 0):,} about {counts.get('digest_users', 0):,} users, expiries recorded "
          f"{counts.get('expired', 0):,}" + (f", stale rows purged {counts['purged']:,}" if "purged" in counts else ""))
    for step in STEPS:
        if step in run.steps:
            print(f"  {step:<20} {run.steps[step]:7.2f} s  {run.statements.get(step, 0):,} statements")
    return target is None or run.seconds < target


def benchmark(args, workdir: Path, cleanup: contextlib.ExitStack) -> bool:
    postgres = bool(args.database_url)
    load_start = os.getloadavg()[0]
    app, env = _data.fresh_app(workdir, args.database_url, cleanup)
    print(f"Loading {args.users:,} users into {_data.describe(args.database_url)} ...", flush=True)
    loaded = _data.load_users(app, args.users, args.companies, progress=_data.print_progress)
    print(loaded.summary(), flush=True)
    if postgres or args.analyze:
        started = time.perf_counter()
        _data.analyze(app)
        print(f"ANALYZE took {time.perf_counter() - started:.1f} s", flush=True)
    load = os.getloadavg()[0]
    cpu_before, started = _data.cpu_now(), time.perf_counter()
    print("Dry run ...", file=sys.stderr, flush=True)
    dry = run_in_process(app, "Dry run (--dry-run: counts only)", dry_run=True)
    before = database_counts(app)
    print("First run ...", file=sys.stderr, flush=True)
    first = run_in_process(app, "First run (the whole backlog)")
    after_first = database_counts(app)
    print("Second run ...", file=sys.stderr, flush=True)
    second = run_in_process(app, "Second run (nothing new to do)")
    after_second = database_counts(app)
    print("A day later ...", file=sys.stderr, flush=True)
    day = run_in_process(app, "A day later (a day's work)", days_ahead=1)
    after_day = database_counts(app)
    busy = _data.busy_note(_data.cpu_now() - cpu_before, time.perf_counter() - started)
    print("`portal lifecycle run` ...", file=sys.stderr, flush=True)
    cli_seconds, cli_output = run_cli(env)
    load_after = os.getloadavg()[0]

    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nPortal lifecycle benchmark, {now}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"database: {_data.describe(args.database_url)}; {loaded.summary()}")
    print(f"load average at start {load_start:.2f}, before the runs {load:.2f} (after loading the users), after "
          f"{load_after:.2f}"
          + ("; PostgreSQL analyzed after the load" if postgres else
             "; SQLite analyzed (--analyze)" if args.analyze else "; SQLite without ANALYZE, as Portal runs it"))
    print(busy)
    print_run(dry)
    per_action = first.seconds * 1000 / max(actions(first), 1)
    ok = per_action < args.target_action
    print_run(first)
    print(f"  {actions(first):,} actions, {per_action:.2f} ms each (target under {args.target_action:g} ms: "
          f"{'ok' if ok else 'OVER'})")
    ok &= print_run(second, args.target_second)
    ok &= print_run(day, args.target_day)
    print(f"\n`portal lifecycle run` as a command (new process, nothing to do): {cli_seconds:.2f} s wall")
    for line in cli_output.splitlines():
        print(f"  | {line}")

    print("\nIn the database (before / after the first run / after the second / a day later):")
    snapshots = [before, after_first, after_second, after_day]
    for key in sorted(set().union(*snapshots)):
        print(f"  {key:<45}" + "".join(f" {snapshot.get(key, 0):>9,}" for snapshot in snapshots))
    consistent = all(matches(run, *pair) for run, pair in zip((first, second, day), zip(snapshots, snapshots[1:])))
    print("  consistent (each run's counts = the rows it added: mail = warned + deactivated + digests, audit "
          f"events per kind, users made inactive): {'yes' if consistent else 'NO'}")
    if any(second.counts.get(k) for k in ("warned", "deactivated")):
        print("  (the second run's warnings/deactivations are users whose 11 or 12 months ran out between the two "
              "runs: the clock is the real one)")
    if dry.counts.get("digest_users") != first.counts.get("digest_users"):
        print("  (the dry run counts digest users before the deactivation step, which the real run does first)")
    ok &= consistent
    print("\nPlans of each step's first query, in the nothing-to-do state (as the second run ran them):")
    for step in STEPS:
        if step not in second.first_selects:
            continue
        sql, params = second.first_selects[step]
        print(f"\n== {step}\n   {_data.interpolate(sql, params)}")
        for line in _data.plan_of(app, sql, params, postgres):
            print(f"   | {line}")
    return ok


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-bench-lifecycle-",
                     "temporary files (and the PostgreSQL database)")


if __name__ == "__main__":
    sys.exit(main())
