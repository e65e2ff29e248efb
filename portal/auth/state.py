"""The browser's side of a login session: a random token in the signed session cookie, nothing else."""
from __future__ import annotations

from flask import g, session

from portal.models import STAGE_ACTIVE, STAGE_PENDING, LoginSession
from portal.services import sessions

TOKEN_KEY = "sid"
NEXT_KEY = "next"


def current() -> LoginSession | None:
    """The live login session of this request (pending or active), looked up once per request."""
    if "login_session" not in g:
        g.login_session = sessions.resolve(session.get(TOKEN_KEY))
        if g.login_session is None and TOKEN_KEY in session:
            session.pop(TOKEN_KEY)
            g.session_ended = True
    return g.login_session


def pending() -> LoginSession | None:
    record = current()
    return record if record is not None and record.stage == STAGE_PENDING else None


def active() -> LoginSession | None:
    record = current()
    return record if record is not None and record.stage == STAGE_ACTIVE else None


def session_ended() -> bool:
    """True when this browser had a session that has just timed out or been ended elsewhere."""
    current()
    return g.get("session_ended", False)


def begin(started: sessions.Started, next_url: str | None = None) -> None:
    """Switch the browser to a new session token; the old cookie contents, CSRF token included, are dropped."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request
    session[TOKEN_KEY] = started.token
    if next_url:
        session[NEXT_KEY] = next_url
    g.login_session = started.login_session


def take_next() -> str | None:
    return session.pop(NEXT_KEY, None)


def end() -> None:
    sessions.end(current())
    session.clear()
    g.pop("csrf_token", None)
    g.login_session = None


def load_user(_request):
    """Flask-Login's request loader: only a signed-in (active) session has a user."""
    record = active()
    return record.user if record is not None else None
