"""Managing one's own second factor and sessions: re-authentication first, then replace or regenerate."""
from __future__ import annotations

from functools import lru_cache

import ua_parser
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock, i18n
from portal.db import db
from portal.models import Authenticator, LoginSession, User
from portal.services import audit, mfa, outbox, recovery, sessions
from portal.services.reauth import require_fresh


def authenticator(user: User) -> Authenticator | None:
    return Authenticator.get_or_none(Authenticator.user == user)


def replace_authenticator(login_session: LoginSession, ip: str = "") -> sessions.Started:
    """Delete OTP: the authenticator and all backup codes go, other sessions end, and this browser
    continues as a pending sign-in that must register a new authenticator at once."""
    require_fresh(login_session)
    user = login_session.user
    with db.atomic():
        recovery.forget_authenticator(user)
        started = sessions.start_pending(user, ip, login_session.user_agent)
        audit.record("mfa.authenticator_deleted", subject=user, actor=user, ip=ip)
        outbox.queue(user.email, _l("your authenticator was deleted"), "authenticator_deleted", user=user,
                     when=clock.now())
    return started


def new_backup_codes(login_session: LoginSession, ip: str = "") -> None:
    """Replace every backup code; the new ones are shown once."""
    require_fresh(login_session)
    user = login_session.user
    with db.atomic():
        mfa.show_new_backup_codes(login_session)
        audit.record("mfa.backup_codes_regenerated", subject=user, actor=user, ip=ip)
        outbox.queue(user.email, _l("new backup codes were made"), "backup_codes_regenerated", user=user,
                     when=clock.now())


def own_sessions(user: User, current: LoginSession) -> list[LoginSession]:
    """The user's signed-in sessions, this one first, then the most recently seen."""
    found = list(LoginSession.select().where((LoginSession.user == user) & (LoginSession.stage == "active"))
                 .order_by(LoginSession.last_seen_at.desc()))
    return sorted(found, key=lambda s: s.id != current.id)


def browser_in_words(user_agent: str) -> str:
    """"Chrome 156 on Linux", "Mobile Safari 17 on iOS 17 (iPhone)", from the browser's User-Agent with
    ua-parser's rules; "Unknown browser" when it says nothing known. Names of browsers and systems stay as they
    are; the words around them are the reader's."""
    return _in_words(user_agent, i18n.current())


@lru_cache(maxsize=512)
def _in_words(user_agent: str, _language: str) -> str:
    found = ua_parser.parse(user_agent or "")
    browser = " ".join(filter(None, (found.user_agent.family, found.user_agent.major))) if found.user_agent else ""
    system = " ".join(filter(None, (found.os.family, found.os.major))) if found.os else ""
    device = found.device.family if found.device and found.device.family not in ("Other", "Spider") else ""
    if browser and system:
        words = _("%(browser)s on %(system)s", browser=browser, system=system)
    else:
        words = browser or (_("Unknown browser on %(system)s", system=system) if system else _("Unknown browser"))
    return _("%(words)s (%(device)s)", words=words, device=device) if device and device not in words else words


def end_own_session(user: User, session_id: int) -> None:
    """End one of the user's own sessions (another person's id does nothing)."""
    ended = sessions.end_where((LoginSession.id == session_id) & (LoginSession.user == user))
    if ended:
        audit.record("session.ended", subject=user, actor=user, session=session_id)


def end_other_sessions(login_session: LoginSession) -> int:
    count = sessions.end_all(login_session.user, keep=login_session)
    audit.record("session.ended_others", subject=login_session.user, actor=login_session.user, count=count)
    return count
