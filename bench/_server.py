"""Shared by the benchmarks that load Portal over HTTP: gunicorn started and stopped, and a browser.

gunicorn runs with the project's gunicorn.conf.py on a free port of 127.0.0.1, in a process group of its own
(Ctrl-C reaches the benchmark, which stops gunicorn in order). The browser is http.client with keep-alive and a
cookie store; it follows no redirects, so each step's status and Location can be checked.
"""
from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE = re.compile(r'\bvalue="([^"]+)"')


class StepFailed(Exception):
    """A response other than the one a browser expects at this step."""


# --- gunicorn -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path, port: int, options: tuple = (), config: Path | None = ROOT / "gunicorn.conf.py",
             binary: Path = BIN / "gunicorn"):
    """gunicorn -c CONFIG [options] (no -c when config is None), answering on port; stopped (then killed) on the
    way out. `binary` may be another virtualenv's gunicorn (the Flask-Security-Too reference).

    Without -c, gunicorn still reads a gunicorn.conf.py in the folder it starts in: it starts in the log's folder
    then, so that only the command line's settings apply (options name the app's folder with --chdir)."""
    command = [str(binary), *(("-c", str(config)) if config else ()), *no_control_socket(), *options]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, env=env, cwd=ROOT if config else log_path.parent, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)  # Ctrl-C reaches only us
    try:
        wait_until_serving(proc, port, log_path)
        yield proc
    finally:
        stop_process(proc)


def no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket in ~/.gunicorn unless told not to; none is needed."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS) else []


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group gunicorn leads: its workers too
        proc.wait()


def wait_until_serving(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {proc.returncode}:\n{tail(log_path)}")
        with contextlib.suppress(OSError):
            browser = Browser(port)
            try:
                if browser.request("GET", "/healthz").status == 200:
                    return
            finally:
                browser.close()
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{tail(log_path)}")


def worker_kind(log_path: Path) -> str:
    """The worker class gunicorn reports ("sync", or "gthread" when threads are configured)."""
    found = re.search(r"Using worker: (\S+)", log_path.read_text(errors="replace"))
    return found.group(1) if found else "unknown"


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the browser --------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    location: str
    body: str


class Browser:
    """One browser: a keep-alive connection to 127.0.0.1 and a cookie store; redirects are not followed.

    With own_address, each browser sends an X-Forwarded-For address of its own (for a Portal told it sits
    behind one proxy), as people come from many addresses: per-address rate limits then see many people."""

    count = itertools.count(1)

    def __init__(self, port: int, own_address: bool = False, agent: str = "portal-bench/1"):
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.headers = {"User-Agent": agent}
        if own_address:
            n = next(self.count)
            self.headers["X-Forwarded-For"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

    def request(self, method: str, path: str, form: dict | None = None) -> Response:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            raw = self.conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
        except Exception:
            self.conn.close()
            raise
        self._store_cookies(raw.headers.get_all("Set-Cookie") or [])
        return Response(raw.status, raw.headers.get("Location", ""), text)

    def _store_cookies(self, headers: list[str]) -> None:
        for header in headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def close(self) -> None:
        self.conn.close()


class AccountPool:
    """Hands every visit a user of its own (a TOTP step is accepted once per user); None when all are used."""

    def __init__(self, accounts: list):
        self.accounts, self.next, self.lock = accounts, 0, threading.Lock()

    def take(self):
        with self.lock:
            if self.next >= len(self.accounts):
                return None
            self.next += 1
            return self.accounts[self.next - 1]


def csrf_token(body: str) -> str:
    tag = CSRF_INPUT.search(body)
    value = VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise StepFailed("no csrf_token input on the page")
    return value.group(1)


def expect(response: Response, status: int, location: str | None = None) -> Response:
    if response.status != status:
        raise StepFailed(f"status {response.status}, expected {status}")
    if location is not None and urlsplit(response.location).path != location:
        raise StepFailed(f"redirect to {response.location or 'nowhere'}, expected {location}")
    return response


def sign_in(browser: Browser, user_id: str, password: str, code, step=lambda _name: contextlib.nullcontext()):
    """A complete browser sign-in to Portal: page, password, code page, code (code() gives the current one), home
    page; step(name) is entered around each request (a timer, or nothing)."""
    with step("GET /sign-in"):
        token = csrf_token(expect(browser.request("GET", "/sign-in"), 200).body)
    with step("POST /sign-in"):
        form = {"user_id": user_id, "password": password, "csrf_token": token}
        expect(browser.request("POST", "/sign-in", form), 303, "/sign-in/verify")
    with step("GET /sign-in/verify"):
        token = csrf_token(expect(browser.request("GET", "/sign-in/verify"), 200).body)
    with step("POST /sign-in/verify"):
        expect(browser.request("POST", "/sign-in/verify", {"code": code(), "csrf_token": token}), 303, "/")
    with step("GET /"):
        if user_id not in expect(browser.request("GET", "/"), 200).body:
            raise StepFailed("the home page does not show the User ID")
