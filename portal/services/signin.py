"""Sign-in, step 1: User ID and password, without telling which of the two was wrong."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.db import db
from portal.infrastructure import audit, outbox
from portal.models import User
from portal.security import passwords
from portal.services import ServiceError, browsers, sessions
from portal.services.accounts import user_id_key

INVALID = _l("The User ID or password is incorrect.")
NOT_ACTIVE = _l("Login not allowed. Your account is not active. Please contact your Company Administrator.")
EXPIRED = _l("Login not allowed. Your account has expired. Please contact your Company Administrator.")


def check_password(user_id: str, password: str, ip: str = "", browser: str | None = None) -> User:
    """The user whose password this is, if the account may sign in; ServiceError otherwise.

    An unknown User ID costs one hash verification too, so timing does not tell it apart. `browser` is the
    token of this browser's cookie: a browser that signed the user in before is not blocked by failures from
    elsewhere (portal.services.browsers)."""
    user = User.get_or_none(User.user_id_key == user_id_key(user_id))
    if user is None or user.password_hash is None:
        passwords.verify_password(None, password)
        audit.record("sign_in.failed", subject=user, ip=ip, reason="unknown" if user is None else "no password")
        raise ServiceError(INVALID)
    if not password_matches(user, password, ip, browser):
        raise ServiceError(INVALID)
    if not user.active or user.is_expired(clock.today()):
        audit.record("sign_in.refused", subject=user, ip=ip, reason="inactive" if not user.active else "expired")
        raise ServiceError(NOT_ACTIVE if not user.active else EXPIRED)
    return user


def password_matches(user: User, password: str, ip: str, browser: str | None) -> bool:
    """Check the password as sign-in does, wherever it is asked for (sign-in, recovery, confirmations while
    signed in): a wrong one counts on the browser that signed the user in before, or else on the User ID, which
    is blocked at the limit; a blocked password works only in such a known browser."""
    known = browsers.find(user, browser)
    correct = passwords.verify_password(user.password_hash, password or "")
    if user.password_blocked_at is not None and known is None:
        # Same words as any failure: the owner learns of the block by mail, a guesser learns nothing.
        audit.record("sign_in.failed", subject=user, ip=ip, reason="password blocked")
        return False
    if not correct:
        if known is not None:
            browsers.count_failure(known, ip)
        else:
            _count_password_failure(user, ip)
        return False
    _after_correct_password(user, password, known)
    return True


def _count_password_failure(user: User, ip: str) -> None:
    """Wrong passwords in a row from browsers that never signed the user in: at the limit the password is
    blocked for all such browsers until an administrator resets it. Known browsers and sessions stay."""
    User.update(failed_password_count=User.failed_password_count + 1).where(User.id == user.id).execute()
    audit.record("sign_in.failed", subject=user, ip=ip, reason="password")
    limit = current_app.config["PASSWORD_FAILURES_BEFORE_BLOCK"]
    if not limit:
        return
    blocked = (User.update(password_blocked_at=clock.now())
               .where((User.id == user.id) & (User.failed_password_count >= limit)
                      & User.password_blocked_at.is_null()).execute())
    if blocked:
        with db.atomic():
            audit.record("password.blocked", subject=user, ip=ip)
            outbox.queue(user.email, _l("your password has been blocked"), "password_blocked", user=user)


def _after_correct_password(user: User, password: str, known) -> None:
    changes = {}
    if known is not None:
        browsers.reset_count(known)
    elif user.failed_password_count:
        changes[User.failed_password_count] = 0
    if passwords.needs_rehash(user.password_hash):
        changes[User.password_hash] = passwords.hash_password(password)
    if changes:
        User.update(changes).where(User.id == user.id).execute()


def start(user_id: str, password: str, ip: str, user_agent: str, browser: str | None = None) -> sessions.Started:
    """Step 1: a pending sign-in (5 minutes) that allows only the code step."""
    user = check_password(user_id, password, ip, browser)
    with db.atomic():
        started = sessions.start_pending(user, ip, user_agent)
        audit.record("sign_in.password_accepted", subject=user, ip=ip)
    return started
