"""Second factor: enrolling an authenticator, codes accepted once each, backup codes, code-step lockout."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from portal import clock, i18n
from portal.db import Prepared, db
from portal.infrastructure import audit, outbox
from portal.models import (
    AuditEvent,
    Authenticator,
    BackupCode,
    LoginSession,
    Passkey,
    User,
)
from portal.security import crypto, passwords, totp
from portal.services import ServiceError, SignInRestart, sessions

WRONG_CODE = _l("That code is not correct. Enter the 6-digit code your authenticator app shows now.")
CLOCK_HINT = _l("That code is not correct. Enter the 6-digit code your authenticator app shows now. If your codes keep "
                "failing, check that your phone sets its date and time automatically.")
USED_CODE = _l("That code has already been used. Wait for the next code in your authenticator app.")
TOO_MANY = _l("Too many wrong codes. Please sign in again.")
BACKUP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i to misread
AMR = {"code": "otp", "enrollment": "otp", "backup code": "backup_code"}  # how -> the ID token's amr word


@dataclass
class Enrollment:
    secret: str
    uri: str
    renewed: bool  # an earlier sign-in showed another QR code, whose entry in the app no longer works


def has_authenticator(user: User) -> bool:
    return Authenticator.select().where(Authenticator.user == user).exists()


def enrollment_for(pending: LoginSession) -> Enrollment:
    """The secret offered to this pending sign-in, created once so a reload shows the same QR code."""
    if pending.enrollment_secret is None:
        candidate = crypto.encrypt(totp.new_secret())
        # Two parallel page loads must not show two different secrets.
        if (LoginSession.update(enrollment_secret=candidate)
                .where((LoginSession.id == pending.id) & LoginSession.enrollment_secret.is_null()).execute()):
            User.update(enrollment_offers=User.enrollment_offers + 1).where(User.id == pending.user_id).execute()
        pending.enrollment_secret = LoginSession.get_by_id(pending.id).enrollment_secret
    secret = crypto.decrypt(pending.enrollment_secret)
    issuer = current_app.config["TOTP_ISSUER"]
    offers = User.select(User.enrollment_offers).where(User.id == pending.user_id).scalar()
    return Enrollment(secret, totp.provisioning_uri(secret, pending.user.user_id, issuer), offers > 1)


CODE_STEP_CLOSED = _l("The code step of this User ID is closed after too many wrong codes. Sign in with a backup "
                      "code or get a link by e-mail (\u201cLost your device?\u201d), or ask your Company Administrator "
                      "to reset your MFA.")


_CODE_STATE = Prepared(lambda user_id: User.select(User.code_blocked_until, User.code_step_closed_at)
                       .where(User.id == user_id), int, tuples=True)


def code_state(user_id: int) -> tuple[dt.datetime | None, bool]:
    """Both rules of wrong codes, from one read of the user: until when the second factor rests (None when it
    does not), and whether the code step is closed.

    After 10 wrong codes in a row the second factor of the User ID rests for a while (codes and backup codes).
    After the code step rested CODE_RESTS_BEFORE_CLOSING times without a correct code, codes are refused until
    a backup code, a recovery link or an administrator's Reset MFA (at most 40 wrong codes in a row, ever)."""
    until, closed_at = _CODE_STATE.first(user_id) or (None, None)
    return (until if until and until > clock.now() else None), closed_at is not None


def resting_until(user_id: int) -> dt.datetime | None:
    return code_state(user_id)[0]


def resting_message(until: dt.datetime) -> str:
    return _("Too many wrong codes were entered for this User ID. You can try again after %(time)s.",
             time=i18n.clock_time(until))


def code_step_closed(user_id: int) -> bool:
    return code_state(user_id)[1]


def code_problem(user_id: int) -> str | None:
    """Why no authenticator code can be entered for this user now, or None (for re-authentication)."""
    until, closed = code_state(user_id)
    if until:
        return resting_message(until)
    return CODE_STEP_CLOSED if closed else None


def reserve_attempt(pending: LoginSession, backup_code: bool = False) -> None:
    """Count this attempt before checking it, so parallel requests cannot exceed the limit. While the second
    factor rests the sign-in ends; a closed code step still takes backup codes."""
    until, closed = code_state(pending.user_id)
    if until:
        sessions.end(pending)
        raise SignInRestart(resting_message(until))
    if not backup_code and closed:
        raise ServiceError(CODE_STEP_CLOSED, "code")
    limit = current_app.config["CODE_ATTEMPTS_PER_SIGNIN"]
    reserved = (LoginSession.update(code_attempts=LoginSession.code_attempts + 1)
                .where((LoginSession.id == pending.id) & (LoginSession.code_attempts < limit)).execute())
    if not reserved:
        sessions.end(pending)
        raise SignInRestart(TOO_MANY)


def code_failed(pending: LoginSession, ip: str, message: str, reason: str) -> None:
    """Record a wrong code; raises the message, or ends the sign-in when its attempts are used up."""
    count_code_failure(pending.user, ip, reason)
    attempt_failed(pending)
    raise ServiceError(message, "code")


def attempt_failed(pending: LoginSession) -> None:
    """A second factor that was not accepted: the sign-in ends once its attempts are used up."""
    attempts = LoginSession.select(LoginSession.code_attempts).where(LoginSession.id == pending.id).scalar()
    if attempts is None or attempts >= current_app.config["CODE_ATTEMPTS_PER_SIGNIN"]:
        sessions.end(pending)
        raise SignInRestart(TOO_MANY)


def count_code_failure(user: User, ip: str, reason: str) -> None:
    """Wrong codes in a row, across sign-ins: at the limit the second factor rests and the owner is told; after
    CODE_RESTS_BEFORE_CLOSING rests without a correct code, the code step closes."""
    User.update(failed_code_count=User.failed_code_count + 1).where(User.id == user.id).execute()
    audit.record("sign_in.code_failed", subject=user, ip=ip, reason=reason)
    cfg = current_app.config
    now = clock.now()
    until = now + dt.timedelta(seconds=cfg["CODE_BLOCK_SECONDS"])
    rested = (User.update(code_blocked_until=until, failed_code_count=0, code_rests=User.code_rests + 1)
              .where((User.id == user.id) & (User.failed_code_count >= cfg["CODE_FAILURES_BEFORE_BLOCK"]))
              .execute())
    if not rested:
        return
    closed = (User.update(code_step_closed_at=now)
              .where((User.id == user.id) & (User.code_rests > cfg["CODE_RESTS_BEFORE_CLOSING"])
                     & User.code_step_closed_at.is_null()).execute())
    if closed:
        audit.record("mfa.code_step_closed", subject=user, ip=ip)
        outbox.queue(user.email, _l("the code step of your User ID is closed"), "code_step_closed", user=user)
    else:
        audit.record("mfa.code_step_blocked", subject=user, ip=ip, until=until)
        outbox.queue(user.email, _l("too many wrong codes for your User ID"), "code_step_blocked", user=user,
                     until=until)


SECOND_FACTOR_CLEARED = {User.failed_code_count: 0, User.code_rests: 0, User.code_step_closed_at: None,
                         User.code_blocked_until: None}


def _why_wrong(secret: str, code: str) -> str:
    """A code two steps off gets the hint about the phone's clock; any other wrong code the plain message."""
    return CLOCK_HINT if totp.off_by_a_little(secret, code, clock.timestamp()) else WRONG_CODE


def authenticator_of(user: User) -> Authenticator | None:
    return Authenticator.get_or_none(Authenticator.user == user)


def forget_authenticator(user: User, keep_passkeys: bool = False) -> None:
    """Delete the authenticator, all backup codes and (unless kept: Delete OTP while signed in) the passkeys, and
    end every session (call inside a transaction); the new authenticator starts with an open code step."""
    if not keep_passkeys:
        Passkey.delete().where(Passkey.user == user).execute()
    Authenticator.delete().where(Authenticator.user == user).execute()
    BackupCode.delete().where(BackupCode.user == user).execute()
    User.update(SECOND_FACTOR_CLEARED).where(User.id == user.id).execute()
    sessions.end_all(user)


def claim_step(authenticator: Authenticator, step: int) -> bool:
    """Accept a time step only if it is newer than the last one used: one atomic compare-and-set."""
    return (Authenticator.update(last_used_step=step, last_used_at=clock.now())
            .where((Authenticator.id == authenticator.id)
                   & (Authenticator.last_used_step.is_null() | (Authenticator.last_used_step < step)))
            .execute()) == 1


def check_code(user: User, code: str, authenticator: Authenticator | None = None) -> str | None:
    """None when the code of the user's authenticator (read here unless the caller has just read it) is right and
    unused (and now used); else why not."""
    authenticator = authenticator or authenticator_of(user)
    if authenticator is None:
        return WRONG_CODE
    secret = crypto.decrypt(authenticator.secret_encrypted)
    step = totp.match_step(secret, code, clock.timestamp())
    if step is None:
        return _why_wrong(secret, code)
    return None if claim_step(authenticator, step) else USED_CODE


def complete_sign_in(pending: LoginSession, ip: str, how: str = "code", factor: str | None = None,
                     **details) -> sessions.Started:
    """The second factor passed: the pending sign-in becomes a signed-in session with a new token. `factor` is
    the amr word when `how` alone does not tell it (a passkey: hwk or swk)."""
    started = sessions.promote(pending, factor or AMR[how])
    if started is None:
        raise SignInRestart(_("This sign-in has already been completed or has ended. Please sign in again."))
    now = clock.now()
    # A correct code or backup code: the count of wrong codes starts again, and a closed code step opens.
    User.update({User.last_sign_in_at: now, User.activity_at: now, **SECOND_FACTOR_CLEARED}).where(
        User.id == pending.user_id).execute()
    audit.record("sign_in.passkey" if how == "passkey" else "sign_in.succeeded", subject=pending.user, ip=ip,
                 second_factor=how, **details)
    return started


def verify(pending: LoginSession, code: str, ip: str = "") -> sessions.Started:
    """Step 2b: a code from the registered authenticator completes the sign-in."""
    authenticator = authenticator_of(pending.user)
    if authenticator is None:
        sessions.end(pending)
        raise SignInRestart(_("Your authenticator has been reset. Please sign in again to register a new one."))
    reserve_attempt(pending)
    problem = check_code(pending.user, code, authenticator)
    if problem:
        code_failed(pending, ip, problem, "replayed" if problem == USED_CODE else "wrong")
    with db.atomic():
        return complete_sign_in(pending, ip)


def clean_device_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Enter a device name, such as \u201cWork phone\u201d."), "device_name")
    if len(name) > 100:
        raise ServiceError(_("The device name must be at most 100 characters."), "device_name")
    return name


def confirm_enrollment(pending: LoginSession, device_name: str, code: str, ip: str = "") -> sessions.Started:
    """Step 2a: the first correct code registers the authenticator, issues backup codes and signs in."""
    device_name = clean_device_name(device_name)
    if pending.enrollment_secret is None:
        raise SignInRestart(_("This sign-in has ended. Please sign in again."))
    reserve_attempt(pending)
    secret = crypto.decrypt(pending.enrollment_secret)
    step = totp.match_step(secret, code, clock.timestamp())
    if step is None:
        code_failed(pending, ip, _why_wrong(secret, code), "wrong")
    user = pending.user
    try:
        with db.atomic():
            Authenticator.create(user=user, device_name=device_name, secret_encrypted=crypto.encrypt(secret),
                                 confirmed_at=clock.now(), last_used_step=step, last_used_at=clock.now())
            User.update(enrollment_offers=0).where(User.id == user.id).execute()
            started = complete_sign_in(pending, ip, "enrollment")
            show_new_backup_codes(started.login_session)
            audit.record("mfa.enrolled", subject=user, ip=ip, device_name=device_name)
            outbox.queue(user.email, _l("a new authenticator was registered"), "authenticator_registered",
                         user=user, device_name=device_name, when=clock.now())
    except IntegrityError:
        sessions.end(pending)
        raise SignInRestart(_("An authenticator was registered for this User ID in the meantime. "
                              "Please sign in again.")) from None
    return started


def new_backup_code() -> str:
    raw = "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normalized(code: str) -> str:
    """A backup code as typed or copied, in any case, with or without its dash or spaces."""
    return "".join(c for c in (code or "").lower() if c.isalnum())[:40]


def _lookup(normalized: str) -> str:
    """A short keyed fingerprint of a code: it finds the one stored code to verify and tells nothing about it."""
    return crypto.keyed_hash(normalized, "backup-code-lookup")[:8]


def _legacy_hash(normalized: str) -> str:
    """How codes were stored before argon2id: HMAC-SHA256 (kept for the codes made then, until used or replaced)."""
    return crypto.keyed_hash(normalized, "backup-code")


def replace_backup_codes(user: User) -> list[str]:
    """Ten new single-use codes (shown once, stored as argon2id hashes); the old ones stop working."""
    codes = [new_backup_code() for _ in range(current_app.config["BACKUP_CODE_COUNT"])]
    now = clock.now()
    BackupCode.delete().where(BackupCode.user == user).execute()
    BackupCode.insert_many([{"user": user.id, "code_hash": passwords.hash_backup_code(_normalized(c)),
                             "lookup": _lookup(_normalized(c)), "created_at": now} for c in codes]).execute()
    return codes


def spend_backup_code(user_id: int, code: str) -> bool:
    """Use up one of the user's backup codes, if this is one: exactly one argon2id verification, and one of two
    parallel requests with the same code wins."""
    normalized = _normalized(code)
    candidate = (BackupCode.select().where((BackupCode.user == user_id) & BackupCode.used_at.is_null()
                                           & ((BackupCode.lookup == _lookup(normalized))
                                              | (BackupCode.lookup.is_null()
                                                 & (BackupCode.code_hash == _legacy_hash(normalized)))))
                 .first())
    legacy = candidate is not None and candidate.lookup is None  # its HMAC matched in the query itself
    # One verification whatever was found, so that a wrong code costs what a right one does.
    verified = passwords.verify_backup_code(None if candidate is None or legacy else candidate.code_hash, normalized)
    if not (legacy or verified):
        return False
    return (BackupCode.update(used_at=clock.now())
            .where((BackupCode.id == candidate.id) & BackupCode.used_at.is_null()).execute()) == 1


def show_new_backup_codes(login_session: LoginSession) -> None:
    """Replace the codes and keep them, encrypted, on this session until the person has saved them."""
    codes = replace_backup_codes(login_session.user)
    login_session.backup_codes_to_show = crypto.encrypt(" ".join(codes))
    LoginSession.update(backup_codes_to_show=login_session.backup_codes_to_show).where(
        LoginSession.id == login_session.id).execute()


def first_backup_codes(user: User) -> bool:
    """The codes shown now are the user's first ones (no older codes to tell them about)."""
    return AuditEvent.select().where((AuditEvent.subject == user) & AuditEvent.event.in_(
        ("mfa.enrolled", "mfa.backup_codes_regenerated"))).count() <= 1


def backup_codes_left(user: User) -> int:
    return BackupCode.select().where((BackupCode.user == user) & BackupCode.used_at.is_null()).count()


def backup_codes_to_show(login_session: LoginSession) -> list[str]:
    if not login_session.backup_codes_to_show:
        return []
    return crypto.decrypt(login_session.backup_codes_to_show).split()


def backup_codes_saved(login_session: LoginSession) -> None:
    """The person has saved the codes: they are never shown again."""
    LoginSession.update(backup_codes_to_show=None).where(LoginSession.id == login_session.id).execute()
    login_session.backup_codes_to_show = None
