"""The browser's side of a login session: a random token in the signed session cookie (and where to go
after sign-in), plus the cookie of a browser that completed a sign-in before (portal.services.browsers)."""
from __future__ import annotations

import re
import secrets

from flask import after_this_request, current_app, g, request, session
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.models import STAGE_ACTIVE, STAGE_PENDING, LoginSession
from portal.security.tokens import hash_token
from portal.services import browsers, sessions

TOKEN_KEY = "sid"
NEXT_KEY = "next"
RECOVERY_LINK_SENT_KEY = "recovery_link_sent"  # shows "check your mail" only after a link was sent
PASSKEY_KEY = "passkey"  # binds a challenge for a sign-in with a passkey alone to this browser
_BROWSER_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NOT_LOOKED_UP = object()


def current() -> LoginSession | None:
    """The live login session of this request (pending or active), looked up once per request."""
    found = g.get("login_session", _NOT_LOOKED_UP)
    if found is _NOT_LOOKED_UP:
        found, g.session_ended = sessions.resolve(session.get(TOKEN_KEY))
        g.login_session = found
        if found is None and TOKEN_KEY in session:
            session.pop(TOKEN_KEY)
    return found


def pending() -> LoginSession | None:
    record = current()
    return record if record is not None and record.stage == STAGE_PENDING else None


def active() -> LoginSession | None:
    record = current()
    return record if record is not None and record.stage == STAGE_ACTIVE else None


def session_ended() -> str | None:
    """Why this browser's session has just ended (portal.services.sessions: timed out, ended elsewhere, no
    longer allowed), or None when it had none."""
    current()
    return g.get("session_ended")


def ended_message() -> str | None:
    """What to tell a person whose session has just ended, in words that fit why."""
    why = session_ended()
    if why is None:
        return None
    minutes = current_app.config["SESSION_IDLE_SECONDS"] // 60
    hours = current_app.config["SESSION_ABSOLUTE_SECONDS"] // 3600
    if why == sessions.IDLE:
        return ngettext("You were signed out after %(num)s minute without activity. Sign in again to go on where "
                        "you were.", "You were signed out after %(num)s minutes without activity. Sign in again to "
                        "go on where you were.", minutes)
    if why == sessions.SIGNED_IN_TOO_LONG:
        return ngettext("You were signed out: a sign-in lasts at most %(num)s hour. Sign in again to go on where "
                        "you were.", "You were signed out: a sign-in lasts at most %(num)s hours. Sign in again to "
                        "go on where you were.", hours)
    if why == sessions.ENDED:
        return _("You were signed out: your session was ended from another browser or by a change to your "
                 "account. Sign in again to go on.")
    if why == sessions.NOT_ALLOWED:
        return _("You were signed out: your User ID can no longer sign in.")
    return _("Your sign-in has ended or took too long. Please sign in again.")


def begin(started: sessions.Started, next_url: str | None = None) -> None:
    """Switch the browser to a new session token; the old cookie contents, CSRF token included, are dropped."""
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request
    session[TOKEN_KEY] = started.token
    if next_url:
        session[NEXT_KEY] = next_url
    g.login_session = started.login_session
    if started.login_session.stage == STAGE_ACTIVE:
        _remember_browser(started.login_session.user_id)


def _browser_cookie() -> str:
    # __Host-: set only over HTTPS, for this host and path /, so no other site or subdomain can plant one.
    return "__Host-portal-browser" if current_app.config["SESSION_COOKIE_SECURE"] else "portal_browser"


def browser() -> str | None:
    """The token of this browser's known-browser cookie, if it has a well-formed one."""
    token = request.cookies.get(_browser_cookie(), "")
    return token if _BROWSER_TOKEN.match(token) else None


def _remember_browser(user_id: int) -> None:
    """A complete sign-in: this browser is known for the user (its cookie is kept for a year, renewed here)."""
    token = browser() or browsers.new_browser_token()
    browsers.remember(user_id, token)

    @after_this_request
    def _set_cookie(response):
        response.set_cookie(_browser_cookie(), token, max_age=int(browsers.FORGET_UNUSED_AFTER.total_seconds()),
                            path="/", secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                            samesite="Lax")
        return response


def passkey_browser(new: bool = False) -> str | None:
    """The hash of this browser's token for a sign-in with a passkey alone (a new token when asked for one),
    or None when it has none; the token itself stays in the signed session cookie."""
    if new:
        session[PASSKEY_KEY] = secrets.token_urlsafe(32)
    token = session.get(PASSKEY_KEY)
    return hash_token(token) if isinstance(token, str) and token else None


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
