"""In-process page costs: CPU per request through Flask's test client (no HTTP, no gunicorn), with a profile.

Run from the project folder:

    .venv/bin/python bench/inprocess.py [--requests 300 --repeats 3 --database-url URL]
    .venv/bin/python bench/inprocess.py --profile "GET /admin/users" [--sort tottime --lines 40]

It makes a fresh Portal database (SQLite in a temporary folder, or the PostgreSQL database of --database-url,
dropped and created again, and dropped at the end) with a company of --users users (as bench/pages.py does),
signs one user and one Company Administrator in through the real pages, and loads in this process the bare
Flask app of bench/bare/ beside it. For each page it sends --requests requests --repeats times and prints the
best CPU per request (time.process_time, so other processes' load counts less than in bench/pages.py; the test
client's own work is in every figure, the bare page's too). "sign-in without the hash" is the five requests of a
complete sign-in (GET /sign-in, POST /sign-in, GET /sign-in/verify, POST /sign-in/verify, GET /) with the
argon2id verification stubbed out, each with a user of its own.

--profile PAGE runs cProfile over --requests requests of that page (a label printed by the run) and prints the
functions by --sort. This is the tool behind the README's "measured in-process with and without it".
"""
from __future__ import annotations

import argparse
import cProfile
import importlib.util
import logging
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402

BENCH = Path(__file__).resolve().parent
BARE = "bare page"
SIGN_IN = "sign-in without the hash"
# label, path, who is signed in (None: nobody)
PAGES = (("GET /sign-in", "/sign-in", None), ("GET / signed in", "/", "user"), ("GET /profile", "/profile", "user"),
         ("GET /admin/users", "/admin/users", "admin"))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="CPU per request of Portal pages in-process, and profiles.")
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per page; the best counts (default 3)")
    parser.add_argument("--users", type=int, default=200, help="users of the company (default 200)")
    parser.add_argument("--sign-ins", type=int, default=100, help="complete sign-ins per measurement (default 100)")
    parser.add_argument("--only", metavar="PAGE", action="append", help="measure only this page (repeatable)")
    parser.add_argument("--profile", metavar="PAGE", help="profile this page (a label of the report) instead")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key for --profile (default cumulative)")
    parser.add_argument("--lines", type=int, default=45, help="lines of the profile to print (default 45)")
    parser.add_argument("--database-url", help="postgresql+pool://postgres@127.0.0.1:5432/NAME instead of a "
                                               "temporary SQLite file (dropped and created again)")
    args = parser.parse_args(argv)
    labels = [BARE, SIGN_IN] + [label for label, _path, _who in PAGES]
    if any(page not in labels for page in [args.profile or BARE, *(args.only or ())]):
        parser.error(f"--profile and --only take one of: {', '.join(labels)}")
    if min(args.requests, args.repeats, args.sign_ins) < 1 or args.users < 3:
        parser.error("--requests, --repeats and --sign-ins must be positive, --users at least 3")
    _data.check_database_url(parser, args.database_url)
    return args


def bare_app():
    spec = importlib.util.spec_from_file_location("bench_bare_app", BENCH / "bare" / "app.py")
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # Flask finds its templates so
    spec.loader.exec_module(module)
    return module.app


def sign_in(app, account) -> object:
    """A test client signed in through the real pages (password, then the current code)."""
    from portal.security import totp

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _address()  # as people come from many (the limits per address)
    user_id, secret = account
    page = client.get("/sign-in")
    assert page.status_code == 200, page.status_code
    response = client.post("/sign-in", data={"user_id": user_id, "password": _data.PASSWORD,
                                             "csrf_token": _token(page.data)})
    assert response.status_code == 303 and response.location.endswith("/sign-in/verify"), response.status_code
    page = client.get("/sign-in/verify")
    response = client.post("/sign-in/verify", data={"code": totp.code_at(secret, time.time()),
                                                    "csrf_token": _token(page.data)})
    assert response.status_code == 303 and response.location.endswith("/"), (response.status_code, response.location)
    home = client.get("/")
    assert home.status_code == 200 and user_id.encode() in home.data, home.status_code
    return client


_addresses = iter(range(1, 2 ** 24))


def _address() -> str:
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _token(body: bytes) -> str:
    from _server import csrf_token

    return csrf_token(body.decode())


def page_job(client, path: str):
    def job():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    return job


def sign_in_job(app, accounts):
    def job():
        sign_in(app, accounts.pop())
    return job


def cpu_per_call(job, count: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(count):
            job()
        best = min(best, (time.process_time() - start) / count)
    return best


def prepare(args, workdir: Path, cleanup) -> tuple[object, dict, dict]:
    """The app with its users signed in: (app, {label: (job, count)}, {who: test client}), warmed up."""
    database_url = args.database_url or f"sqlite:///{workdir / 'portal.db'}"
    env = _data.portal_environment(workdir / "instance", database_url)
    os.environ.clear()
    os.environ.update(env)
    if args.database_url:
        _data.recreate_postgres_database(database_url)
        cleanup.callback(_data.drop_postgres_database, database_url)
    _data.init_db(env)

    from portal import create_app
    from portal.security import passwords

    app = create_app()
    for handler in logging.getLogger("portal.request").handlers:  # the log line written, as gunicorn's to a file
        handler.setStream(cleanup.enter_context(open(workdir / "requests.log", "w")))
    sign_ins = args.sign_ins * (args.repeats + 1)
    seeded = _data.seed(app, args.users + sign_ins, secrets.token_hex(3), admins=2)
    clients = {None: app.test_client(), "user": sign_in(app, seeded.accounts[2]),
               "admin": sign_in(app, seeded.accounts[0])}
    accounts = seeded.accounts[args.users:]
    passwords._verify = lambda _hasher, _stored, _password: True  # the hash stubbed out, from here on
    jobs = {BARE: (page_job(bare_app().test_client(), "/"), args.requests)}
    jobs.update({label: (page_job(clients[who], path), args.requests) for label, path, who in PAGES})
    jobs[SIGN_IN] = (sign_in_job(app, accounts), args.sign_ins)
    for label, (job, count) in jobs.items():  # warm-up: templates compiled, connections opened, caches filled
        for _ in range(min(count, 20)):
            job()
    return app, jobs, clients


def benchmark(args, workdir: Path, cleanup) -> None:
    _app, jobs, _clients = prepare(args, workdir, cleanup)
    if args.profile:
        job, count = jobs[args.profile]
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [job() for _ in range(count)])
        print(f"{args.profile}: {count} calls under cProfile")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        return
    print(f"In-process CPU per request, best of {args.repeats} x {args.requests} ({args.sign_ins} for sign-ins), "
          f"database: {_data.describe(args.database_url)}, Python {sys.version.split()[0]}")
    bare = cpu_per_call(*jobs[BARE], args.repeats)
    print(f"  {BARE:<26} {bare * 1000:7.3f} ms")
    for label in [label for label, _path, _who in PAGES] + [SIGN_IN]:
        if args.only and label not in args.only:
            continue
        cost = cpu_per_call(*jobs[label], args.repeats)
        ratio = "" if label == SIGN_IN else f", bare / this {bare / cost:.2f}"
        print(f"  {label:<26} {cost * 1000:7.3f} ms{ratio}")


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-inprocess-", "temporary files")


if __name__ == "__main__":
    sys.exit(main())
