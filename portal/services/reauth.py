"""Proving again, while signed in, that it is the owner: the password and a code before changes that matter.

Guesses here count like guesses at sign-in (toward the password block and the code step's rests), so a
stolen session is no way to guess a password; a session that gets too many wrong ones is ended."""
from __future__ import annotations

import datetime as dt
import json

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.infrastructure import audit
from portal.models import LoginSession
from portal.security import crypto
from portal.services import ServiceError, SignInRestart, mfa, sessions, signin

FRESH_FOR = dt.timedelta(minutes=10)
ADMIN_FRESH_FOR = dt.timedelta(minutes=30)
NEEDS_REAUTH = _l("For your safety, enter your password and a code again first.")
WRONG_PASSWORD = {"password": _l("The password is not correct."),
                  "current_password": _l("The current password is not correct.")}  # as each form labels it
SIGNED_OUT = _l("For your safety you have been signed out after too many wrong passwords or codes. "
                "Please sign in again.")


def confirm_identity(login_session: LoginSession, password: str, code: str, ip: str = "",
                     browser: str | None = None, password_field: str = "password") -> None:
    """The password and a current, unused code of the signed-in person; ServiceError (on the field that was
    wrong) otherwise, or SignInRestart once this session has given CODE_ATTEMPTS_PER_SIGNIN wrong ones."""
    user = login_session.user
    if not signin.password_matches(user, password, ip, browser):
        _failed(login_session, ip, "password")
        raise ServiceError(WRONG_PASSWORD[password_field], password_field)
    problem = mfa.code_problem(user.id)  # resting or closed: no code is even looked at
    if problem:
        raise ServiceError(problem, "code")
    problem = mfa.check_code(user, code)
    if problem:
        mfa.count_code_failure(user, ip, "confirmation")
        _failed(login_session, ip, "code")
        raise ServiceError(problem, "code")
    if login_session.failed_confirmations:
        LoginSession.update(failed_confirmations=0).where(LoginSession.id == login_session.id).execute()


def _failed(login_session: LoginSession, ip: str, what: str) -> None:
    limit = current_app.config["CODE_ATTEMPTS_PER_SIGNIN"]
    audit.record("reauth.failed", subject=login_session.user, ip=ip, reason=what)
    LoginSession.update(failed_confirmations=LoginSession.failed_confirmations + 1).where(
        LoginSession.id == login_session.id).execute()
    failures = LoginSession.select(LoginSession.failed_confirmations).where(
        LoginSession.id == login_session.id).scalar()
    if failures is None or failures >= limit:
        sessions.end(login_session)
        audit.record("session.ended", subject=login_session.user, ip=ip, reason="wrong confirmations")
        raise SignInRestart(SIGNED_OUT)


def reauthenticate(login_session: LoginSession, password: str, code: str, ip: str = "",
                   browser: str | None = None) -> None:
    """Password and a fresh code again; allows sensitive changes for ten minutes."""
    confirm_identity(login_session, password, code, ip, browser)
    now = clock.now()
    LoginSession.update(reauthenticated_at=now).where(LoginSession.id == login_session.id).execute()
    login_session.reauthenticated_at = now
    audit.record("reauth.succeeded", subject=login_session.user, ip=ip)


def is_fresh(login_session: LoginSession) -> bool:
    """Password and code were entered again in the last ten minutes (for changing one's own second factor)."""
    at = login_session.reauthenticated_at
    return at is not None and clock.now() - at <= FRESH_FOR


def recently_authenticated(login_session: LoginSession) -> bool:
    """Signed in, or re-authenticated, within ADMIN_FRESH_FOR: enough for administrative actions."""
    latest = max(filter(None, (login_session.authenticated_at, login_session.reauthenticated_at)))
    return clock.now() - latest <= ADMIN_FRESH_FOR


# Secrets are typed again; a passkey's answer belongs to a challenge that is used up by then.
_NEVER_KEPT = {"csrf_token", "password", "current_password", "confirm", "code", "credential"}
KEEP_FOR = dt.timedelta(minutes=15)


def keep_action(login_session: LoginSession, path: str, page: str, fields: list[tuple[str, str]]) -> None:
    """Keep a form sent to `path` from `page` while a confirmation was due, to send it again once it is done."""
    kept = [(name, value) for name, value in fields if name not in _NEVER_KEPT][:400]
    data = json.dumps({"path": path, "page": page, "fields": kept, "at": clock.now().isoformat()})
    LoginSession.update(kept_action=crypto.encrypt(data)).where(LoginSession.id == login_session.id).execute()


def take_action(login_session: LoginSession, page: str) -> dict | None:
    """The form kept for the page the person came from (and no older than KEEP_FOR), used up by taking it."""
    stored = LoginSession.select(LoginSession.kept_action).where(LoginSession.id == login_session.id).scalar()
    if not stored:
        return None
    LoginSession.update(kept_action=None).where(LoginSession.id == login_session.id).execute()
    kept = json.loads(crypto.decrypt(stored))
    fresh = clock.now() - dt.datetime.fromisoformat(kept["at"]) <= KEEP_FOR
    return kept if fresh and kept["page"] == page else None


def require_fresh(login_session: LoginSession) -> None:
    if not is_fresh(login_session):
        raise ServiceError(NEEDS_REAUTH)
