"""Browser fixtures: the real app on a live server, driven by Debian's Chromium through Playwright.

Browser tests run only with PORTAL_TEST_BROWSER=1. In CI (CI=true) a missing Chromium or a failed
launch fails the run: a skipped browser suite would look green while testing nothing.
"""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.db import db
from tests import helpers
from tests.conftest import make_config

ENABLED = os.environ.get("PORTAL_TEST_BROWSER") == "1"
IN_CI = os.environ.get("CI") == "true"
CHROMIUM = "/usr/bin/chromium"
# No sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 5_000  # every step is local and fast; a long wait only hides a hang
NOT_ENABLED = "browser tests run only with PORTAL_TEST_BROWSER=1 (they drive Debian's Chromium at /usr/bin/chromium)"
# axe-core comes from npm, pinned in tests/browser/package.json and package-lock.json; `npm ci --prefix
# tests/browser` (run by .ci/run) installs it here, so the tests themselves need no network.
AXE_MIN_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skip browser tests unless asked for, before any fixture starts a server or a browser."""
    if item.get_closest_marker("browser") is None or ENABLED:
        return
    if IN_CI:  # tests/conftest.py already refuses this; kept so this file is safe on its own
        pytest.fail("CI=true but PORTAL_TEST_BROWSER is not 1: browser tests must run in CI.", pytrace=False)
    pytest.skip(NOT_ENABLED)


def _unavailable(reason: str):
    """Chromium cannot be used: fail in CI, skip (with the reason) on a developer's machine."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The source of axe-core (the npm package) from disk. Missing: skipped with the way to install it,
    except in CI (CI=true), where a skipped accessibility suite would look green while checking nothing."""
    if not AXE_MIN_JS.is_file():
        reason = (f"axe-core is not installed ({AXE_MIN_JS} is missing); "
                  "install it with `npm ci --prefix tests/browser`")
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the accessibility tests must run)", pytrace=False)
        pytest.skip(reason)
    return AXE_MIN_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source, javascript):
    """Checks pages with axe-core against WCAG 2.1 A and AA: `axe.check(page)` fails with a readable list
    of the violations (see tests.browser.steps.Axe). Ask for it before `page`, so that a missing axe-core
    skips the test before a server or a browser starts."""
    from tests.browser.steps import Axe
    return Axe(axe_source, javascript)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run; each test gets its own context (cookies, JS setting)."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing; install Debian's chromium package")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as error:
        _unavailable(f"the playwright package is not installed: {error}")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    except Error as error:
        manager.stop()
        _unavailable(f"Playwright could not launch {CHROMIUM}: {error}")
    yield browser
    browser.close()
    manager.stop()


@dataclass
class LiveServer:
    """The running app and the address the browser uses (also the app's BASE_URL)."""

    app: object
    url: str


def _refuse(environ, start_response):
    """Answers only in the moment between binding the port and creating the app."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]


@pytest.fixture
def server_host() -> str:
    """The host name in the live server's address (and BASE_URL); passkey tests use localhost, since an IP address
    cannot be a WebAuthn relying party id. The server listens on 127.0.0.1 either way."""
    return "127.0.0.1"


@pytest.fixture
def live_server(tmp_path, sqlite_template, clock, app_config, server_host):
    """The real app on 127.0.0.1 in a background thread, on its own copy of the SQLite database.

    The frozen `clock` is module-wide, so the server's threads see the same time as the test.
    `app_config` (tests/conftest.py, {} unless a test module overrides it) adds configuration,
    such as a real SMTP server: `def app_config(smtp): return smtp.config()`.
    """
    path = tmp_path / "portal.db"
    shutil.copy(sqlite_template, path)
    # Bind to port 0 first so the OS picks a free port without a race, then build the app with
    # that address as BASE_URL (the request handler reads server.app on every request).
    server = make_server("127.0.0.1", 0, _refuse, threaded=True)
    url = f"http://{server_host}:{server.server_port}"
    app = create_app(make_config(tmp_path, f"sqlite:///{path}", **{**app_config, "BASE_URL": url}))
    server.app = app
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    helpers.APP = app  # lets helpers.make_user() and friends push this app's context
    yield LiveServer(app, url)
    helpers.APP = None
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()
    if not db.is_closed():
        db.close()


@pytest.fixture
def javascript() -> bool:
    """Whether the browser runs JavaScript; flow tests parametrize this ("js-on", "js-off")."""
    return True


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors (CSP violations are reported there too) and uncaught exceptions of the page."""
    return []


def _record_console_error(console_errors: list[str], message) -> None:
    """Keep console errors with the URL they came from, except the known favicon 404."""
    if message.type != "error":
        return
    url = message.location.get("url") or ""
    console_errors.append(f"{message.text} ({url})")


@pytest.fixture
def new_page(chromium, live_server, javascript, console_errors):
    """Opens a page in a browser context of its own (its own cookies: another person, or another device),
    with the same JavaScript setting, console recording and relative URLs as `page`."""
    contexts = []

    def open_page():
        context = chromium.new_context(base_url=live_server.url, java_script_enabled=javascript)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        opened = context.new_page()
        opened.on("console", lambda message: _record_console_error(console_errors, message))
        opened.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
        return opened

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A fresh page in its own browser context, with relative URLs resolved against the live server."""
    return new_page()
