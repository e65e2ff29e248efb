"""Flask-Security-Too as the reference of bench/signin.py: its own virtualenv, users, gunicorn and sign-in.

The virtualenv (.venv-bench-fst beside the project, never Portal's) gets bench/fst/requirements.txt from PyPI
once, and again only when that file changes. The app is bench/fst/app.py on a SQLite file in the run's
temporary folder, with TOTP required and Portal's argon2id parameters.
"""
from __future__ import annotations

import contextlib
import hashlib
import secrets
import subprocess
import sys
from pathlib import Path

import _server
from _server import Browser, csrf_token, expect

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "bench" / "fst"
REQUIREMENTS = APP / "requirements.txt"
VENV = ROOT / ".venv-bench-fst"
PASSWORD = "Quiet-Lantern-Harbor-93"  # bench/fst/app.py gives its users this one
GUNICORN = ("--workers", "2", "--threads", "4", "--keep-alive", "5", "--timeout", "30")


def virtualenv() -> Path:
    """The reference's virtualenv, made or brought up to date with the pinned requirements; its bin folder."""
    bin_dir, stamp = VENV / "bin", VENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == wanted and (bin_dir / "gunicorn").exists():
        return bin_dir
    print(f"Installing Flask-Security-Too into {VENV} (bench/fst/requirements.txt) ...")
    steps = ([sys.executable, "-m", "venv", str(VENV)],
             [str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)])
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    stamp.write_text(wanted + "\n")
    return bin_dir


def environment(workdir: Path, base: dict) -> dict:
    env = {k: v for k, v in base.items() if not k.startswith(("PORTAL_", "FST_"))}
    env.update({"FST_DATABASE": str(workdir / "fst.db"), "FST_SECRET_KEY": secrets.token_urlsafe(32),
                "FST_TOTP_KEY": secrets.token_urlsafe(32)})
    return env


def seed(bin_dir: Path, env: dict, workdir: Path, count: int) -> list[tuple[str, str]]:
    """`count` users with enrolled authenticators; (e-mail, base32 TOTP key) pairs."""
    out = workdir / "fst-accounts.txt"
    result = subprocess.run([str(bin_dir / "flask"), "--app", "app", "seed", str(count), str(out)], env=env,
                            cwd=APP, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"seeding Flask-Security-Too failed:\n{result.stdout}{result.stderr}")
    return [tuple(line.split()) for line in out.read_text().splitlines()]


def server(bin_dir: Path, env: dict, workdir: Path, port: int):
    """gunicorn of the reference's virtualenv, with the settings of Portal's gunicorn.conf.py that matter here."""
    options = (*GUNICORN, "--bind", f"{_server.HOST}:{port}", "--chdir", str(APP), "app:app")
    return _server.gunicorn(env, workdir / "fst-gunicorn.log", port, options, config=None,
                            binary=bin_dir / "gunicorn")


def sign_in(port: int, account: tuple[str, str], timer, code) -> None:
    """Flask-Security-Too's complete sign-in: page, password, code page, code, a signed-in page."""
    email, key = account
    browser = Browser(port, own_address=True)
    try:
        with timer.step("GET /sign-in"):
            token = csrf_token(expect(browser.request("GET", "/login"), 200).body)
        with timer.step("POST /sign-in"):
            form = {"email": email, "password": PASSWORD, "csrf_token": token}
            expect(browser.request("POST", "/login", form), 302, "/tf-validate")
        with timer.step("GET /sign-in/verify"):
            token = csrf_token(expect(browser.request("GET", "/tf-validate"), 200).body)
        with timer.step("POST /sign-in/verify"):
            expect(browser.request("POST", "/tf-validate", {"code": code(key), "csrf_token": token}), 302, "/")
        with timer.step("GET /"):
            if email not in expect(browser.request("GET", "/"), 200).body:
                raise _server.StepFailed("the signed-in page does not show the e-mail address")
    finally:
        with contextlib.suppress(Exception):
            browser.close()
