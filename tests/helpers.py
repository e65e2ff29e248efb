"""Factories and sign-in helpers for tests (in the manner of CTFd's tests/helpers.py)."""
from __future__ import annotations

import contextlib
import email
import functools
import os
import re
import socket
import threading
from email import policy
from html.parser import HTMLParser

import pyotp
from aiosmtpd.controller import Controller
from flask import has_app_context
from werkzeug.datastructures import MultiDict

from portal import clock
from portal.security import totp
from portal.services import accounts

APP = None  # the app of the running test, set by the `app` fixture
PASSWORD = "Quiet-Lantern-Harbor-93"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'id="totp-key">([^<]+)<')


@contextlib.contextmanager
def context():
    """An app context for calling services directly from a test (reuses one that is already there)."""
    if has_app_context():
        yield
        return
    with APP.app_context():
        yield


def in_context(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with context():
            return fn(*args, **kwargs)
    return wrapper


@in_context
def make_company(name: str = "ACME Components"):
    return accounts.create_company(name)


@in_context
def make_user(company, user_id: str = "jdoe", password: str | None = PASSWORD, **fields):
    """A user as the `portal` command creates one. A Valid Until in the past (nobody may set one) is written
    afterwards, as if that much time had passed."""
    from portal.models import User

    values = {"email": f"{user_id}@acme.example", "first_name": "Jane", "last_name": "Doe", **fields}
    past = values.get("valid_until") and values["valid_until"] < clock.today() and values.pop("valid_until")
    user = accounts.create_user(company=company, user_id=user_id, password=password, **values)
    if past:
        User.update(valid_until=past).where(User.id == user.id).execute()
        user.valid_until = past
    return user


def csrf_token(html: str | bytes) -> str:
    if isinstance(html, bytes):
        html = html.decode()
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def without_csrf(html: str | bytes) -> str:
    """The page with its CSRF tokens blanked: they are signed with the time, so they differ by the second."""
    if isinstance(html, bytes):
        html = html.decode()
    return re.sub(r'(csrf_token" (?:type="hidden" )?value=|"X-CSRFToken": )"[^"]+"', r'\1""', html)


def post_form(client, url: str, data: dict, headers: dict | None = None, token_from: str | None = None):
    """POST a form the way a browser does: with the CSRF token of the page it came from."""
    page = client.get(token_from or url)
    return client.post(url, data={"csrf_token": csrf_token(page.data), **data}, headers=headers or {})


def enter_password(client, user_id: str = "jdoe", password: str = PASSWORD, headers=None):
    return post_form(client, "/sign-in", {"user_id": user_id, "password": password}, headers)


def code_now(secret: str, steps: int = 0) -> str:
    """The code an authenticator app shows now (or `steps` periods later), by the injected clock."""
    return totp.code_at(secret, clock.timestamp() + steps * totp.PERIOD)


class _FormFields(HTMLParser):
    """The fields a browser would send from the form whose action is `action` (hidden ones included)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields = action, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif tag == "input" and self.inside and attrs.get("name") and attrs.get("type") != "submit":
            self.fields.append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def submit(client, url: str, action: str | None = None, **values):
    """Submit the form of the page at `url` as a browser does: every field it renders (duplicates and
    hidden ones in their order; the first of a duplicated name wins in WTForms), plus `values`."""
    parser = _FormFields(action or url)
    parser.feed(client.get(url).data.decode())
    assert parser.fields, f"no form with action {action or url} on {url}"
    fields = [(k, v) for k, v in parser.fields if k not in values] + list(values.items())
    return client.post(action or url, data=MultiDict(fields))


def first_sign_in_choices(client, allow: bool = True) -> None:
    """Accept the Terms of Use and make the personal-data choice, as every person does at first sign-in."""
    assert submit(client, "/terms").status_code == 303
    assert submit(client, "/personal-settings", choice="allow" if allow else "refuse").status_code == 303


def enroll(client, user_id: str = "jdoe", password: str = PASSWORD, device_name: str = "Work phone",
           choices: bool = True) -> str:
    """Sign in for the first time and register an authenticator (and, unless told not to, accept the
    Terms and make the personal-data choice); returns the authenticator's secret."""
    response = enter_password(client, user_id, password)
    assert response.headers["Location"].endswith("/sign-in/enroll"), response.headers.get("Location")
    page = client.get("/sign-in/enroll").data.decode()
    secret = KEY.search(page).group(1).replace(" ", "")
    response = client.post("/sign-in/enroll", data={"csrf_token": csrf_token(page), "device_name": device_name,
                                                     "code": code_now(secret)})
    assert response.headers["Location"].endswith("/sign-in/backup-codes"), response.data
    page = client.get("/sign-in/backup-codes").data.decode()
    client.post("/sign-in/backup-codes", data={"csrf_token": csrf_token(page)})
    if choices:
        first_sign_in_choices(client)
    return secret


def sign_in(client, secret: str, user_id: str = "jdoe", password: str = PASSWORD, clock_=None):
    """A full sign-in with password and a fresh code; moves the clock one step so the code is new."""
    if clock_ is not None:
        clock_.advance(seconds=totp.PERIOD)
    enter_password(client, user_id, password)
    response = post_form(client, "/sign-in/verify", {"code": code_now(secret)})
    assert response.status_code in (302, 303), response.data
    return response


def session_cookie(client, app) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with a handler that keeps parsed messages."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.received = threading.Condition()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.received:
            self.messages.append(message)
            self.received.notify_all()
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 5.0):
        with self.received:
            self.received.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages

    def config(self) -> dict:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port}


def _delivered_or_queued(message):
    """The mail as its recipient gets it: its parts decrypted from the outbox while it waits, or parsed from
    the .eml file the file transport wrote once delivered (the outbox keeps no body then)."""
    from portal.infrastructure import outbox
    from portal.models import OutboxMessage

    message = OutboxMessage.get_by_id(message.id)
    if message.body_text is not None:
        return outbox.bodies(message)
    path = os.path.join(APP.config["MAIL_DIR"], f"{message.id:08d}.eml")
    with open(path, "rb") as fh:
        parsed = email.message_from_binary_file(fh, policy=policy.default)
    html = parsed.get_body(preferencelist=("html",))
    return parsed.get_body(preferencelist=("plain",)).get_content(), html.get_content() if html else None


@in_context
def mail_text(message) -> str:
    return _delivered_or_queued(message)[0]


@in_context
def mail_html(message) -> str:
    return _delivered_or_queued(message)[1] or ""


def otpauth_secret(uri: str) -> str:
    return pyotp.parse_uri(uri).secret


def shown(day) -> str:
    """A date as English pages and mails show it (portal.i18n.day): "Apr 15, 2026"."""
    from babel.dates import format_date

    return format_date(day, "medium", locale="en")
