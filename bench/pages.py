"""Page benchmark: server CPU per request of Portal's pages against a bare Flask page, measured from outside.

Run from the project folder:

    .venv/bin/python bench/pages.py [--rounds 5 --seconds 5 --database-url URL]

It starts Portal (wsgi:app) and the bare Flask app of bench/bare/ (one Jinja template, a Flask-WTF form of two
fields with a CSRF token) under the same gunicorn settings, given on the command line and not from a
configuration file: 2 gthread workers of 4 threads, keep-alive 5 s. Portal gets a fresh SQLite database in a
temporary folder, or the PostgreSQL database of --database-url (postgresql+pool://postgres@127.0.0.1:5432/NAME?stale_timeout=3600,
dropped and created again, and dropped at the end). It inserts a company of --users users with enrolled
authenticators, signs one user and one Company Administrator in through the real pages, then loads each page
with wrk (Debian's, installed when missing: -t2 -c16 for --seconds) in --rounds alternating rounds:

    the bare page, GET /sign-in (no cookie), GET / and GET /profile (signed in), GET /admin/users (signed in
    as a Company Administrator)

and reads the server CPU of each run from /proc: every gunicorn process, and on PostgreSQL the backends
connected to the benchmark's database. It prints, per run and in a summary, CPU per request and requests/s, and
for each page the ratio of CPU per request "bare page / Portal page" (median and min-max over the rounds)
against the target. Throughput swings on a shared 2-core machine; CPU per request is the figure to compare.
A WARNING line marks runs during which other processes took more than 10 % of the CPU. Responses other than
200 are counted (wrk script bench/wrk_status.lua) and reported as errors.

With --against REV, Portal as it is at git revision REV (a worktree of it in the temporary folder, its catalogs
compiled, the same virtualenv) runs beside this checkout's on the same database, with the same signed-in
browsers; each of its pages is loaded right after this checkout's, and the summary adds, for each page, REV's
CPU per request divided by this checkout's (above 1: this checkout is cheaper). REV must have the same
migrations as this checkout.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402
import _server  # noqa: E402
from _server import HOST, Browser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
LUA = BENCH / "wrk_status.lua"
GUNICORN = ("--workers", "2", "--threads", "4", "--keep-alive", "5")
BARE = "bare page"
# label, path, who is signed in (None: nobody), target for CPU per request "bare / Portal" (None: none set)
PAGES = (("GET /sign-in", "/sign-in", None, 1.0),
         ("GET / signed in", "/", "user", 0.8),
         ("GET /profile", "/profile", "user", None),
         ("GET /admin/users", "/admin/users", "admin", 0.5))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Server CPU per request of Portal pages against a bare Flask page.")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of wrk per page and round (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--users", type=int, default=200, help="users of the company (default 200)")
    parser.add_argument("--database-url", help="postgresql+pool://postgres@127.0.0.1:5432/NAME instead of a "
                                               "temporary SQLite file (dropped and created again)")
    parser.add_argument("--against", metavar="REV", help="also load Portal at this git revision, alternating with "
                                                         "this checkout (the same migrations, one database)")
    args = parser.parse_args(argv)
    if min(args.rounds, args.seconds, args.connections, args.threads) < 1 or args.users < 2:
        parser.error("--rounds, --seconds, --connections and --threads must be positive, --users at least 2")
    _data.check_database_url(parser, args.database_url)
    return args


def ensure_wrk() -> str:
    """wrk from Debian; installed with apt-get when missing (the benchmark machine is a Debian one)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("Installing wrk (apt-get install -y wrk) ...")
    result = subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        result = subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, text=True)
    if result.returncode != 0 or not shutil.which("wrk"):
        raise RuntimeError(f"wrk is missing and could not be installed:\n{result.stderr[-2000:]}")
    return shutil.which("wrk")


# --- one wrk run -------------------------------------------------------------------------------

@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    not_200: int
    socket_errors: int
    cpu: _data.Cpu

    @property
    def server_cpu(self) -> float:
        return self.cpu.server + self.cpu.database

    @property
    def ms_per_request(self) -> float:
        return self.server_cpu / self.requests * 1000 if self.requests else float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def busy(self) -> bool:
        return self.cpu.other() > 0.1 * self.seconds * os.cpu_count()


class Target:
    """A gunicorn to load: its port, master pid and, on PostgreSQL, a way to find its database backends."""

    def __init__(self, port: int, master: int, database_url: str | None = None):
        self.port, self.master, self.database_url = port, master, database_url

    def backends(self) -> set:
        return _data.postgres_backends(self.database_url) if self.database_url else set()

    def load(self, wrk: str, args, label: str, path: str, cookie: str | None) -> Run:
        command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(LUA)]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        command.append(f"http://{HOST}:{self.port}{path}")
        pids = self.backends()
        before, database_before = _data.cpu_now(self.master), _data.process_cpu(pids)
        result = subprocess.run(command, capture_output=True, text=True)
        database_after = _data.process_cpu(pids | self.backends())  # those opened during the run from their start
        cpu = _data.cpu_now(self.master) - before
        if result.returncode != 0:
            raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
        # Only the backends of this database, not the server's other work (other people's tests); a backend that
        # ended during the run is left out (the pool's stale_timeout should outlast the benchmark).
        database = sum(seconds - database_before.get(pid, 0.0) for pid, seconds in database_after.items())
        return parse_wrk(label, result.stdout, dataclasses.replace(cpu, database=database))


def parse_wrk(label: str, output: str, cpu: _data.Cpu) -> Run:
    found = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if not found:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[found.group(3)]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    not_200 = re.search(r"not_200 (\d+)", output)
    return Run(label, int(found.group(1)), float(found.group(2)) * scale, int(not_200.group(1)) if not_200 else -1,
               sum(int(n) for n in errors.groups()) if errors else 0, cpu)


# --- setting up --------------------------------------------------------------------------------

def signed_in_cookie(port: int, account: tuple[str, str]) -> str:
    """Sign in through the real pages; the Cookie header of that browser."""
    from portal.security import totp

    user_id, secret = account
    browser = Browser(port)
    try:
        _server.sign_in(browser, user_id, _data.PASSWORD, lambda: totp.code_at(secret, time.time()))
        return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    finally:
        browser.close()


def start_servers(args, workdir: Path, cleanup) -> tuple[Target, Target, dict, Target | None]:
    """Portal on its database with the users seeded, and the bare app, both under GUNICORN settings; and with
    --against, Portal at that revision on the same database."""
    checkout = checkout_of(args.against, workdir, cleanup) if args.against else None  # refused before the setting up
    database_url = args.database_url or f"sqlite:///{workdir / 'portal.db'}"
    env = _data.portal_environment(workdir / "instance", database_url, "http://127.0.0.1:5000")
    os.environ.clear()
    os.environ.update(env)  # the app that seeds, in this process, reads the same settings
    if args.database_url:
        _data.recreate_postgres_database(database_url)
        cleanup.callback(_data.drop_postgres_database, database_url)
    _data.init_db(env)

    from portal import create_app

    seeded = _data.seed(create_app(), args.users, secrets.token_hex(3), admins=2)
    portal_port, bare_port = _server.free_port(), _server.free_port()
    portal = cleanup.enter_context(_server.gunicorn(
        env, workdir / "portal.log", portal_port,
        (*GUNICORN, "--bind", f"{HOST}:{portal_port}", "--chdir", str(ROOT), "wsgi:app"), config=None))
    bare_env = {k: v for k, v in env.items() if not k.startswith("PORTAL_")}
    bare = cleanup.enter_context(_server.gunicorn(
        bare_env, workdir / "bare.log", bare_port,
        (*GUNICORN, "--bind", f"{HOST}:{bare_port}", "--chdir", str(BENCH / "bare"), "app:app"), config=None))
    cookies = {None: None, "user": signed_in_cookie(portal_port, seeded.accounts[2]),
               "admin": signed_in_cookie(portal_port, seeded.accounts[0])}
    print(f"Portal (gunicorn {_server.worker_kind(workdir / 'portal.log')}) on port {portal_port}, the bare page on "
          f"{bare_port}; {args.users} users, one user and one Company Administrator signed in.")
    against = None
    if checkout:  # the sessions are rows of the shared database: the same cookies are signed in there too
        against_port = _server.free_port()
        other = cleanup.enter_context(_server.gunicorn(
            env, workdir / "against.log", against_port,
            (*GUNICORN, "--bind", f"{HOST}:{against_port}", "--chdir", str(checkout), "wsgi:app"), config=None))
        against = Target(against_port, other.pid, args.database_url)
        print(f"Portal at {args.against} on port {against_port}, on the same database.")
    return Target(portal_port, portal.pid, args.database_url), Target(bare_port, bare.pid), cookies, against


def revision() -> str:
    """This checkout's commit, with "+ changes" when files differ from it."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode:
        return "(not a git checkout)"
    changed = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD"]).returncode
    return head.stdout.strip() + (" + changes" if changed else "")


def checkout_of(rev: str, workdir: Path, cleanup) -> Path:
    """A worktree of `rev` in workdir with its catalogs compiled (they are built, not committed), removed on the
    way out; refused when its migrations are not this checkout's, since both Portals use one database."""
    git = ["git", "-C", str(ROOT)]
    if subprocess.run([*git, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], capture_output=True).returncode:
        raise RuntimeError(f"--against {rev}: git knows no such revision")
    if subprocess.run([*git, "diff", "--quiet", rev, "--", "migrations"]).returncode:
        raise RuntimeError(f"--against {rev}: its migrations differ from this checkout's, and both Portals would "
                           "share one database")
    path = workdir / "against"
    added = subprocess.run([*git, "worktree", "add", "--detach", str(path), rev], capture_output=True, text=True)
    if added.returncode:
        raise RuntimeError(f"--against {rev}: git worktree add failed:\n{added.stderr}")
    cleanup.callback(subprocess.run, [*git, "worktree", "remove", "--force", str(path)], capture_output=True)
    subprocess.run([str(_server.BIN / "pybabel"), "-q", "compile", "-d", str(path / "translations")], check=True,
                   capture_output=True)
    return path


# --- report ------------------------------------------------------------------------------------

def at(label: str, rev: str) -> str:
    """The label of a page of Portal at --against REV."""
    return f"{label} @{rev}"


def describe_run(run: Run, bare: Run | None, width: int = 18) -> str:
    ratio = f", bare / this {bare.ms_per_request / run.ms_per_request:.2f}" if bare and run.label != BARE else ""
    database = f" (PostgreSQL {run.cpu.database / run.requests * 1000:.2f})" if run.cpu.database and run.requests else ""
    problems = (f", NOT 200: {run.not_200}" if run.not_200 else "") + (
        f", socket errors: {run.socket_errors}" if run.socket_errors else "")
    line = (f"  {run.label:<{width}} {run.ms_per_request:6.2f} ms CPU per request{database}, {run.rate:7.0f} requests/s"
            f"{ratio}; wrk {run.cpu.client:.1f} s, other processes {run.cpu.other():.1f} s{problems}")
    if run.busy():
        line += "\n  WARNING: other processes were busy during this run; its figures are not those of a quiet machine."
    return line


def summary(rounds: list[dict], rev: str | None = None) -> bool:
    """The table over all rounds; False when a page of this checkout missed its target, or any page answered
    other than 200. With `rev`, each page's figures at --against REV follow, and REV's CPU per request ÷ this
    checkout's."""
    width = max(len(label) for label in rounds[0])
    bare = [r[BARE] for r in rounds]
    print(f"\n{'page':<{width}} {'CPU ms/request':>15} {'requests/s':>11} {'bare / page: median (min-max)':>31} "
          f"{'target':>7}")
    print(f"{BARE:<{width}} {statistics.median(r.ms_per_request for r in bare):15.2f} "
          f"{statistics.median(r.rate for r in bare):11.0f}")
    ok, compared = True, []
    for label, _path, _who, target in PAGES:
        for shown in [label] + ([at(label, rev)] if rev else []):
            runs = [r[shown] for r in rounds]
            ratios = [b.ms_per_request / r.ms_per_request for b, r in zip(bare, runs)]
            met = target is None or statistics.median(ratios) >= target
            failed = sum(r.not_200 + r.socket_errors for r in runs)
            ok = ok and (met or shown != label) and not failed
            verdict = "" if target is None else f">= {target:.1f} {'met' if met else 'MISSED'}"
            print(f"{shown:<{width}} {statistics.median(r.ms_per_request for r in runs):15.2f} "
                  f"{statistics.median(r.rate for r in runs):11.0f} "
                  f"{statistics.median(ratios):>15.2f} ({min(ratios):.2f}-{max(ratios):.2f}){'':>5} {verdict}"
                  + (f"  ERRORS: {failed}" if failed else ""))
        if rev:
            compared.append((label, [r[at(label, rev)].ms_per_request / r[label].ms_per_request for r in rounds]))
    if compared:
        print(f"\nCPU per request at {rev} ÷ this checkout's (above 1: this checkout is cheaper), median (min-max):")
        for label, ratios in compared:
            print(f"  {label:<18} {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")
    busy = sum(r.busy() for rnd in rounds for r in rnd.values())
    if busy:
        print(f"WARNING: other processes were busy during {busy} of {sum(len(r) for r in rounds)} runs.")
    return ok


def benchmark(args, workdir: Path, cleanup) -> bool:
    wrk = ensure_wrk()
    load = os.getloadavg()[0]
    portal, bare, cookies, against = start_servers(args, workdir, cleanup)
    plan = [(BARE, bare, "/", None)]
    for label, path, who, _target in PAGES:  # each page at REV right after this checkout's
        plan.append((label, portal, path, cookies[who]))
        if against:
            plan.append((at(label, args.against), against, path, cookies[who]))
    width = max(len(label) for label, *_rest in plan)
    for label, target, path, cookie in plan:  # warm-up: templates compiled, connections opened
        target.load(wrk, argparse.Namespace(**{**vars(args), "seconds": 1}), label, path, cookie)
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nPortal page benchmark, {now}, this checkout at {revision()}"
          + (f" against {args.against}" if args.against else "")
          + f", {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, database: "
          f"{_data.describe(args.database_url)}, wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, "
          f"load average before: {load:.2f}")
    rounds = []
    for number in range(1, args.rounds + 1):
        order = plan if number % 2 else plan[::-1]  # alternate, so that a drift of the machine hits both sides
        runs = {label: target.load(wrk, args, label, path, cookie) for label, target, path, cookie in order}
        print(f"round {number}:")
        for label, *_rest in plan:
            print(describe_run(runs[label], runs[BARE], width))
        rounds.append(runs)
    return summary(rounds, args.against)


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-pages-", "gunicorn stopped and temporary files")


if __name__ == "__main__":
    sys.exit(main())
