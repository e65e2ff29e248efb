"""Portal as the README deploys it: `portal init-db`, then gunicorn with gunicorn.conf.py and
PORTAL_ENV=production, serving real TLS (a certificate made here) under a host name of its own, with
TRUSTED_HOSTS, a real SMTP server and (with PORTAL_TEST_REDIS_URL) Redis for the rate limits. Chromium
resolves the name to 127.0.0.1 and signs in, enrolls and signs in again, with JavaScript on and off.

gunicorn runs in processes of its own, so the test clock cannot reach it: codes come from the real time,
and a second sign-in takes the step after the one enrollment used (the server accepts one step ahead).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import secrets
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.db import open_database
from portal.models import ALL_MODELS
from portal.security import totp
from tests import helpers
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, TIMEOUT_MS
from tests.browser.steps import (
    BOTH,
    enter_password,
    expect_step,
    make_first_sign_in_choices,
    open_sign_in,
    read_key,
    register,
    sign_out,
    verify,
)
from tests.conftest import PG_URL, REDIS_URL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST_NAME = "portal.test"
COMPANY = "TLS Components"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for HOST_NAME and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST_NAME)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST_NAME)]), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Deployment:
    url: str  # PORTAL_BASE_URL, what Chromium opens
    env: dict
    smtp: helpers.SmtpServer

    def portal(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """The `portal` command, as an operator runs it on the production host."""
        result = subprocess.run([str(BIN / "portal"), *args], env=self.env, cwd=ROOT, input=stdin, text=True,
                                capture_output=True, timeout=60)
        assert result.returncode == 0, f"portal {' '.join(args)}: {result.stderr}"
        return result


def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.db'}"
    request.getfixturevalue("postgres_ready")  # the wiped and migrated test database; emptied here
    database = open_database(PG_URL)
    with database.connection_context():
        database.execute_sql("TRUNCATE " + ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
                             + " RESTART IDENTITY CASCADE")
    database.close()
    return PG_URL


def production_env(tmp_path: Path, port: int, db_url: str, smtp: helpers.SmtpServer) -> dict:
    cert, key = make_certificate(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_ENV": "production",
        "PORTAL_BASE_URL": f"https://{HOST_NAME}:{port}",
        "PORTAL_TRUSTED_HOSTS": f'["{HOST_NAME}"]',
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": str(smtp.port),
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_TLS_CERTFILE": str(cert),
        "PORTAL_TLS_KEYFILE": str(key),
        # Several workers need shared rate-limit counters; without Redis, one worker counts them alone.
        "PORTAL_WORKERS": "2" if REDIS_URL else "1",
        "PORTAL_RATELIMIT_STORAGE_URI": REDIS_URL or "memory://",
    })
    return env


def wait_until_serving(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    """/healthz over TLS, asked for by the host name the server trusts."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"gunicorn exited with {proc.returncode}:\n{log.read_text()}"
        with contextlib.suppress(OSError):
            connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
            try:
                connection.request("GET", "/healthz", headers={"Host": f"{HOST_NAME}:{port}"})
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["sqlite"] + (["postgresql"] if PG_URL else []))
def deployment(request, tmp_path_factory):
    """`portal init-db` and gunicorn -c gunicorn.conf.py, with the production configuration over TLS."""
    tmp_path = tmp_path_factory.mktemp("production")
    smtp = helpers.SmtpServer()
    smtp.start()
    port = helpers.free_port()
    env = production_env(tmp_path, port, database_url(request, tmp_path), smtp)
    deployed = Deployment(f"https://{HOST_NAME}:{port}", env, smtp)
    deployed.portal("init-db")
    deployed.portal("create-company", COMPANY)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_serving(proc, port, log)
        yield deployed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        smtp.stop()


@pytest.fixture(scope="module")
def chromium_resolving_host(chromium, deployment):
    """Chromium that resolves HOST_NAME to 127.0.0.1 (a name of its own, as a real deployment has), launched
    by the Playwright of the session's browser (one Playwright per thread)."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=[*LAUNCH_ARGS, f"--host-resolver-rules=MAP {HOST_NAME} 127.0.0.1"])
    yield browser
    browser.close()


@pytest.fixture
def tls_page(chromium_resolving_host, deployment, javascript):
    context = chromium_resolving_host.new_context(base_url=deployment.url, java_script_enabled=javascript,
                                                  ignore_https_errors=True)  # the certificate is self-signed
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def code_for_step(secret: str, step: int) -> str:
    return totp.code_at(secret, step * totp.PERIOD)


def current_step() -> int:
    return int(time.time()) // totp.PERIOD


@BOTH
def test_production_over_tls_signs_in_enrolls_and_signs_in_again(tls_page, javascript, deployment):
    page = tls_page
    user_id = f"tls-{'js' if javascript else 'nojs'}"
    deployment.portal("create-user", "--company", COMPANY, "--user-id", user_id, "--email",
                      f"{user_id}@tls.example", "--first-name", "Tess", "--last-name", "Layer",
                      "--password-stdin", stdin=helpers.PASSWORD + "\n")

    assert "max-age=" in page.goto("/sign-in").headers["strict-transport-security"]
    open_sign_in(page, javascript)
    enter_password(page, user_id)
    expect_step(page, deployment, "/sign-in/enroll", "Register your authenticator app")
    secret = read_key(page)
    enrolled_step = current_step()
    register(page, code_for_step(secret, enrolled_step))
    expect_step(page, deployment, "/sign-in/backup-codes", "Save your backup codes")
    page.get_by_role("button", name="I have saved my backup codes", exact=True).click()
    make_first_sign_in_choices(page, deployment)
    expect_step(page, deployment, "/", "Welcome, Tess")

    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-portal")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/" and cookie["sameSite"] == "Lax"

    sign_out(page, deployment)
    enter_password(page, user_id)
    expect_step(page, deployment, "/sign-in/verify", "Enter your verification code")
    # Each step is accepted once: the next one (the server takes one step ahead of its clock) or a later one.
    verify(page, code_for_step(secret, max(current_step(), enrolled_step + 1)))
    expect_step(page, deployment, "/", "Welcome, Tess")
