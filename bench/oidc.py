"""OpenID Provider benchmark: authorization + token exchange for people who are signed in, under gunicorn.

Run from the project folder:

    .venv/bin/python bench/oidc.py [--clients 8 --seconds 20 --database-url URL]

It starts gunicorn (the project's gunicorn.conf.py, 2 workers) on a free port of 127.0.0.1 against a fresh
SQLite database in a temporary folder (or the PostgreSQL database of --database-url, created when missing),
registers a confidential first-party application, and signs in one browser per client thread (password and
TOTP code, once). Then each thread repeats what an application does for a person already signed in to Portal:
GET /oidc/authorize (PKCE S256, nonce) answered by a 302 with a code, then POST /oidc/token with
client_secret_basic for the tokens and a signed ID token. A second phase does the authorization request alone,
so that the token endpoint's CPU per call is the difference; it is set against one RS256 signature of an ID
token alone (joserfc, this process). Rate limits are off (every client is 127.0.0.1).
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import queue
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _data  # noqa: E402
import _server  # noqa: E402
import signin  # noqa: E402
from _server import HOST, Browser, StepFailed  # noqa: E402

WORKERS = 2
FLOW_STEPS = ("GET /oidc/authorize", "POST /oidc/token")
CALLBACK = "http://127.0.0.1:9/callback"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark authorization + token exchange under gunicorn.")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the flow run (default 20)")
    parser.add_argument("--authorize-seconds", type=float, default=10,
                        help="duration of the authorization-only run (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of flows not counted (default 2)")
    parser.add_argument("--signatures", type=int, default=500, help="RS256 signatures to time alone (default 500)")
    parser.add_argument("--database-url", help="postgresql://USER@127.0.0.1:5432/NAME instead of a temporary "
                                               "SQLite file (the database is created when missing)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.authorize_seconds <= 0 or args.signatures < 1:
        parser.error("--clients, --seconds, --authorize-seconds and --signatures must be positive")
    _data.check_database_url(parser, args.database_url)
    return args


def register_application(app, cleanup) -> tuple[str, str]:
    """The application, removed at the end with its codes and tokens (they cascade)."""
    from portal.db import db
    from portal.services import oidc_clients

    with app.app_context(), db.connection_context():
        created = oidc_clients.create_client("Bench application", [CALLBACK], first_party=True)

    def remove():
        with app.app_context(), db.connection_context():
            oidc_clients.delete_client(created.client.client_id)
    cleanup.callback(remove)
    return created.client.client_id, created.secret


class Flows:
    """The signed-in browsers (one per thread, handed out and back) and each thread's application connection."""

    def __init__(self, port: int, browsers: list[Browser], client_id: str, secret: str):
        self.port, self.client_id = port, client_id
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.browsers: queue.Queue = queue.Queue()
        for browser in browsers:
            self.browsers.put(browser)
        self.local = threading.local()

    def _application(self) -> Browser:
        if not hasattr(self.local, "application"):
            self.local.application = Browser(self.port, agent="bench-application/1")
            self.local.application.headers["Authorization"] = self.basic
        return self.local.application

    def authorize(self, browser: Browser, timer) -> tuple[str, str]:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": self.client_id, "redirect_uri": CALLBACK,
                           "scope": "openid profile email company", "state": secrets.token_urlsafe(12),
                           "nonce": secrets.token_urlsafe(12), "code_challenge": challenge,
                           "code_challenge_method": "S256"})
        with timer.step("GET /oidc/authorize"):
            response = browser.request("GET", "/oidc/authorize?" + query)
            if response.status != 302 or not response.location.startswith(CALLBACK):
                raise StepFailed(f"authorize answered {response.status} {response.location[:80]}")
            code = parse_qs(urlsplit(response.location).query).get("code", [None])[0]
            if code is None:
                raise StepFailed("no code: " + response.location[:120])
        return code, verifier

    def flow(self, _port, _account, timer) -> None:
        browser = self.browsers.get()
        try:
            code, verifier = self.authorize(browser, timer)
            with timer.step("POST /oidc/token"):
                response = self._application().request("POST", "/oidc/token", {
                    "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                    "code_verifier": verifier})
                if response.status != 200 or "id_token" not in json.loads(response.body):
                    raise StepFailed(f"token endpoint answered {response.status}: {response.body[:120]}")
        finally:
            self.browsers.put(browser)

    def authorize_only(self, _port, _account, timer) -> None:
        browser = self.browsers.get()
        try:
            self.authorize(browser, timer)
        finally:
            self.browsers.put(browser)


def signature_cpu(samples: int) -> float:
    """Median CPU of one RS256 signature (2048-bit key, as Portal's) of an ID token's claims, with joserfc."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, private=True, auto_kid=True)
    now = int(time.time())
    claims = {"iss": "https://portal.example", "sub": secrets.token_urlsafe(24), "aud": "x" * 24, "iat": now,
              "exp": now + 600, "auth_time": now, "nonce": "n" * 16, "amr": ["pwd", "otp"], "sid": "s" * 32,
              "at_hash": "h" * 22, "name": "Bench User", "email": "bench@bench.example"}
    jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    times = []
    for _ in range(samples):
        start = time.process_time()
        jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        times.append(time.process_time() - start)
    return statistics.median(times)


def report(flows, authorizations, signature: float, postgres: bool) -> None:
    def server_cpu(result):
        return result.cpu.server + (result.cpu.database if postgres else 0.0)

    for result, unit, steps in ((flows, "flow", FLOW_STEPS), (authorizations, "authorization", FLOW_STEPS[:1])):
        rate = result.completed / result.elapsed if result.elapsed else 0.0
        print(f"\n{result.name}: {result.completed} in {result.elapsed:.1f} s = {rate:.1f} {unit}s/s, "
              f"errors: {sum(result.errors.values())}")
        signin.report_latency(result, unit, steps)
        if result.completed:
            print(f"  server CPU per {unit}: {server_cpu(result) / result.completed * 1000:.2f} ms"
                  + (f" (PostgreSQL {result.cpu.database / result.completed * 1000:.2f})" if postgres else ""))
        signin.report_cpu(result)
        for error, count in result.errors.most_common(5):
            print(f"  error x{count}: {error}")
    if flows.completed and authorizations.completed:
        token = server_cpu(flows) / flows.completed - server_cpu(authorizations) / authorizations.completed
        print(f"\nToken endpoint CPU per call (flow - authorization): {token * 1000:.2f} ms; one RS256 signature "
              f"alone: {signature * 1000:.2f} ms; signature / token call = {signature / token:.2f}"
              if token > 0 else "\nToken endpoint CPU could not be told apart from the noise.")


def benchmark(args, workdir: Path, cleanup) -> bool:
    load = os.getloadavg()[0]
    signature = signature_cpu(args.signatures)
    port = _server.free_port()
    database_url = args.database_url or f"sqlite:///{workdir / 'portal.db'}"
    env = _data.portal_environment(workdir / "instance", database_url, f"http://{HOST}:{port}")
    env["PORTAL_PROXY_COUNT"], env["PORTAL_RATELIMIT_ENABLED"] = "1", "false"
    os.environ.clear()
    os.environ.update(env)
    if args.database_url:
        signin.ensure_postgres_database(database_url)
    signin.init_db(env)

    from portal import create_app

    app = create_app()
    seeded = signin.seed(app, args.clients, secrets.token_hex(3))
    if args.database_url:
        cleanup.callback(signin.remove_seeded, seeded)
    client_id, secret = register_application(app, cleanup)
    options = ("--workers", str(WORKERS), "--bind", f"{HOST}:{port}", "--chdir", str(_server.ROOT), "wsgi:app")
    server = cleanup.enter_context(_server.gunicorn(env, workdir / "gunicorn.log", port, options))
    browsers = []
    for account in seeded.accounts:
        browser = Browser(port, own_address=True)
        signin.sign_in(port, account, signin.Timer(), browser)
        browsers.append(browser)
    flows = Flows(port, browsers, client_id, secret)
    signin.run_phase("warm-up", flows.flow, port, server.pid, args.clients, args.warmup)
    flow_result = signin.run_phase(f"Authorization + token exchange ({args.seconds:g} s)", flows.flow, port,
                                   server.pid, args.clients, args.seconds)
    authorize_result = signin.run_phase(f"Authorization request alone ({args.authorize_seconds:g} s)",
                                        flows.authorize_only, port, server.pid, args.clients, args.authorize_seconds)
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    print(f"\nPortal OpenID Provider benchmark, {now}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"gunicorn {WORKERS} workers ({_server.worker_kind(workdir / 'gunicorn.log')}) on {HOST}, {args.clients} "
          f"signed-in people (one client thread each), database: {_data.describe(args.database_url)}, "
          f"load average before: {load:.2f}")
    report(flow_result, authorize_result, signature, bool(args.database_url))
    if flow_result.errors or authorize_result.errors:
        print(_server.tail(workdir / "gunicorn.log", 40))
    return not (flow_result.errors or authorize_result.errors)


def main(argv=None) -> int:
    return _data.run(benchmark, parse_args(argv), "portal-bench-oidc-", "gunicorn stopped and temporary files")


if __name__ == "__main__":
    sys.exit(main())
