"""Managing one's own second factor and sessions: re-authentication first, then replace or regenerate."""
from __future__ import annotations

import datetime as dt

from portal import clock
from portal.db import db
from portal.models import Authenticator, LoginSession, User
from portal.security import passwords
from portal.services import ServiceError, audit, mfa, outbox, recovery, sessions

FRESH_FOR = dt.timedelta(minutes=10)
ADMIN_FRESH_FOR = dt.timedelta(minutes=30)
NEEDS_REAUTH = "For your safety, enter your password and a code again first."


def reauthenticate(login_session: LoginSession, password: str, code: str, ip: str = "") -> None:
    """Password and a fresh code again; allows sensitive changes for ten minutes."""
    user = login_session.user
    if not passwords.verify_password(user.password_hash, password or ""):
        audit.record("reauth.failed", subject=user, ip=ip, reason="password")
        raise ServiceError("The password is not correct.", "password")
    problem = mfa.check_code(user, code)
    if problem:
        mfa.count_code_failure(user, ip, "reauth")
        raise ServiceError(problem, "code")
    now = clock.now()
    LoginSession.update(reauthenticated_at=now).where(LoginSession.id == login_session.id).execute()
    login_session.reauthenticated_at = now
    audit.record("reauth.succeeded", subject=user, ip=ip)


def is_fresh(login_session: LoginSession) -> bool:
    """Password and code were entered again in the last ten minutes (for changing one's own second factor)."""
    at = login_session.reauthenticated_at
    return at is not None and clock.now() - at <= FRESH_FOR


def recently_authenticated(login_session: LoginSession) -> bool:
    """Signed in, or re-authenticated, within ADMIN_FRESH_FOR: enough for administrative actions."""
    latest = max(filter(None, (login_session.authenticated_at, login_session.reauthenticated_at)))
    return clock.now() - latest <= ADMIN_FRESH_FOR


def _require_fresh(login_session: LoginSession) -> None:
    if not is_fresh(login_session):
        raise ServiceError(NEEDS_REAUTH)


def authenticator(user: User) -> Authenticator | None:
    return Authenticator.get_or_none(Authenticator.user == user)


def replace_authenticator(login_session: LoginSession, ip: str = "") -> sessions.Started:
    """Delete OTP: the authenticator and all backup codes go, other sessions end, and this browser
    continues as a pending sign-in that must register a new authenticator at once."""
    _require_fresh(login_session)
    user = login_session.user
    with db.atomic():
        recovery.forget_authenticator(user)
        started = sessions.start_pending(user, ip, login_session.user_agent)
        audit.record("mfa.authenticator_deleted", subject=user, actor=user, ip=ip)
        outbox.queue(user.email, "your authenticator was deleted", "authenticator_deleted", user=user,
                     when=clock.now())
    return started


def new_backup_codes(login_session: LoginSession, ip: str = "") -> None:
    """Replace every backup code; the new ones are shown once."""
    _require_fresh(login_session)
    user = login_session.user
    with db.atomic():
        mfa.show_new_backup_codes(login_session)
        audit.record("mfa.backup_codes_regenerated", subject=user, actor=user, ip=ip)
        outbox.queue(user.email, "new backup codes were made", "backup_codes_regenerated", user=user,
                     when=clock.now())


def own_sessions(user: User) -> list[LoginSession]:
    return list(LoginSession.select().where((LoginSession.user == user) & (LoginSession.stage == "active"))
                .order_by(LoginSession.last_seen_at.desc()))


def end_own_session(user: User, session_id: int) -> None:
    """End one of the user's own sessions (another person's id does nothing)."""
    sessions.end_where((LoginSession.id == session_id) & (LoginSession.user == user))
    audit.record("session.ended", subject=user, actor=user, session=session_id)


def end_other_sessions(login_session: LoginSession) -> int:
    count = sessions.end_all(login_session.user, keep=login_session)
    audit.record("session.ended_others", subject=login_session.user, actor=login_session.user, count=count)
    return count
