"""Signing in with a passkey or security key: as the second factor after the password (instead of a code), or
alone with a discoverable credential, where the device's PIN or biometrics (user verification, always required)
and the possession of the device are the two factors."""
from __future__ import annotations

import webauthn
from flask_babel import lazy_gettext as _l
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
)
from webauthn.helpers.structs import UserVerificationRequirement

from portal import clock
from portal.db import db
from portal.infrastructure import audit
from portal.models import LoginSession, Passkey, User
from portal.services import (
    ServiceError,
    SignInRestart,
    browsers,
    mfa,
    passkeys,
    sessions,
    signin,
)

NOT_VERIFIED = _l("Your passkey or security key could not be verified. Try again, or enter a code from your "
                "authenticator app.")
NOT_YOURS = _l("That passkey or security key is not registered for this User ID. Use another one, or enter a code "
             "from your authenticator app.")
NO_PASSKEY = _l("No passkey is registered for this User ID. Enter a code from your authenticator app.")
UNKNOWN = _l("That passkey is not registered with Portal. Sign in with your User ID and password.")
SIGN_IN_NOT_VERIFIED = _l("Your passkey could not be verified. Try again, or sign in with your User ID and "
                        "password.")
NO_AUTHENTICATOR = _l("Your User ID has no authenticator app at the moment. Sign in with your User ID and password "
                    "to register one.")
PASSWORD_BLOCKED = _l("The password of your User ID is blocked after too many wrong attempts in browsers you have not "
                    "signed in with before, so you cannot sign in here now. Ask your Company Administrator to send "
                    "you a password reset.")
HAS_ENDED = _l("Your authenticator has been reset. Please sign in again to register a new one.")


def amr(passkey: Passkey) -> str:
    """RFC 8176: a key that may be synced to a cloud is a software-secured key, one bound to its device (a
    security key, a platform key that is not backed up) a hardware-secured key."""
    return "swk" if passkey.synced else "hwk"


def _options(purpose: str, allowed: list[Passkey], login_session: LoginSession | None = None,
             browser_hash: str | None = None) -> str:
    rp = passkeys.require_relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, timeout=passkeys.timeout_ms(), allow_credentials=[passkeys.descriptor(p) for p in allowed],
        user_verification=UserVerificationRequirement.REQUIRED)
    passkeys.issue_challenge(options.challenge, purpose, login_session=login_session, browser_hash=browser_hash)
    return webauthn.options_to_json(options)


def _claim_counter(passkey: Passkey, new_count: int) -> None:
    """The authenticator's counter must grow (both 0: a passkey that keeps none). Checked after the signature,
    so a counter that goes backwards comes from the real key: a copy of it is in use. One compare-and-set."""
    stored = passkey.sign_count
    if (new_count > 0 or stored > 0) and new_count <= stored:
        raise passkeys.Refused("counter", f"the counter went from {stored} to {new_count}: the key may have been "
                                          "copied")
    claimed = (Passkey.update(sign_count=new_count, last_used_at=clock.now())
               .where((Passkey.id == passkey.id) & (Passkey.sign_count == stored)).execute())
    if not claimed:
        raise passkeys.Refused("counter", "used at the same moment elsewhere")


def _verified(credential: str, purpose: str, find, login_session: LoginSession | None = None,
              browser_hash: str | None = None) -> Passkey:
    """The passkey that answered the challenge of this session (or browser), checked by py_webauthn with user
    verification; Refused (with the passkey, if one was found) otherwise. The challenge is used up either way."""
    rp = passkeys.require_relying_party()
    passkey = None
    try:
        parsed = parse_authentication_credential_json(credential)
        answered = parse_client_data_json(parsed.response.client_data_json).challenge
        if not passkeys.take_challenge(answered, purpose, login_session=login_session, browser_hash=browser_hash):
            raise passkeys.Refused("challenge", "not issued to this sign-in, used before or expired")
        passkey = find(bytes_to_base64url(parsed.raw_id))
        if passkey is None:
            raise passkeys.Refused("unknown passkey", "not registered (or removed)")
        handle = parsed.response.user_handle
        if (handle is not None or login_session is None) and handle != base64url_to_bytes(passkey.user_handle):
            raise passkeys.Refused("user handle", "the passkey names another user")
        # The counter is checked by _claim_counter, after the signature (0 here turns py_webauthn's check off).
        verified = webauthn.verify_authentication_response(
            credential=parsed, expected_challenge=answered, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(passkey.public_key), credential_current_sign_count=0,
            require_user_verification=True)
        _claim_counter(passkey, verified.new_sign_count)
        return passkey
    except passkeys.MALFORMED as error:  # whatever a broken or hostile browser sends is refused, never a 500
        refused = passkeys.refusal(error)
        refused.passkey = passkey
        raise refused from None


def _refused(refused: passkeys.Refused, user: User | None, ip: str, **details) -> None:
    audit.record("sign_in.passkey_refused", subject=user, ip=ip, reason=refused.reason, detail=refused.detail,
                 passkey=refused.passkey.name if getattr(refused, "passkey", None) else None, **details)


# --- the second factor after the password ---------------------------------------------------------------------

def second_factor_options(pending: LoginSession) -> str:
    """Options for navigator.credentials.get() with the pending user's passkeys, bound to this pending sign-in."""
    mine = passkeys.of_user(pending.user)
    if not mine:
        raise ServiceError(NO_PASSKEY)
    return _options(passkeys.SECOND_FACTOR, mine, login_session=pending)


def verify_second_factor(pending: LoginSession, credential: str, ip: str = "") -> sessions.Started:
    """Step 2, with a passkey instead of a code: the same attempts per sign-in, rests and rate limits; a refused
    answer counts as an attempt and is audited with why. A closed code step still takes a passkey (as it takes
    backup codes): it cannot be guessed."""
    if not mfa.has_authenticator(pending.user):
        sessions.end(pending)
        raise SignInRestart(HAS_ENDED)
    mfa.reserve_attempt(pending, backup_code=True)
    try:
        passkey = _verified(credential, passkeys.SECOND_FACTOR,
                            lambda cid: Passkey.get_or_none((Passkey.credential_id == cid)
                                                            & (Passkey.user == pending.user_id)),
                            login_session=pending)
    except passkeys.Refused as refused:
        _refused(refused, pending.user, ip, password=True)
        mfa.attempt_failed(pending)
        raise ServiceError(NOT_YOURS if refused.reason == "unknown passkey" else NOT_VERIFIED) from None
    with db.atomic():
        return mfa.complete_sign_in(pending, ip, "passkey", factor=amr(passkey), passkey=passkey.name,
                                    password=True)


# --- a sign-in with a passkey alone ------------------------------------------------------------------------

def sign_in_options(browser_hash: str) -> str:
    """Options for a discoverable credential (no User ID yet), bound to this browser's token."""
    return _options(passkeys.SIGN_IN, [], browser_hash=browser_hash)


def _may_sign_in(user: User, ip: str, browser: str | None) -> None:
    """The account's rules, as for a password sign-in and told only now that the passkey was verified: a blocked
    password (outside a browser that signed the user in before), Active, Valid Until, a resting second factor."""
    refusal = None
    if not mfa.has_authenticator(user):
        refusal = ("no authenticator", NO_AUTHENTICATOR)
    elif user.password_blocked_at is not None and browsers.find(user, browser) is None:
        refusal = ("password blocked", PASSWORD_BLOCKED)
    elif not user.active:
        refusal = ("inactive", signin.NOT_ACTIVE)
    elif user.is_expired(clock.today()):
        refusal = ("expired", signin.EXPIRED)
    elif until := mfa.resting_until(user.id):
        refusal = ("second factor resting", mfa.resting_message(until))
    if refusal:
        audit.record("sign_in.refused", subject=user, ip=ip, reason=refusal[0], second_factor="passkey")
        raise ServiceError(refusal[1])


def sign_in(browser_hash: str | None, credential: str, ip: str, user_agent: str,
            browser: str | None = None) -> sessions.Started:
    """Sign in with a discoverable passkey alone: possession and the device's PIN or biometrics meet the MFA rule
    (amr: hwk or swk, and mfa); the account's rules apply as for a password sign-in."""
    try:
        passkey = _verified(credential, passkeys.SIGN_IN,
                            lambda cid: Passkey.get_or_none(Passkey.credential_id == cid), browser_hash=browser_hash)
    except passkeys.Refused as refused:
        found = getattr(refused, "passkey", None)
        _refused(refused, User.get_by_id(found.user_id) if found else None, ip, password=False)
        raise ServiceError(UNKNOWN if refused.reason == "unknown passkey" else SIGN_IN_NOT_VERIFIED) from None
    user = User.get_by_id(passkey.user_id)
    _may_sign_in(user, ip, browser)
    with db.atomic():
        pending = sessions.start_pending(user, ip, user_agent, amr=amr(passkey)).login_session
        return mfa.complete_sign_in(pending, ip, "passkey", factor="mfa", passkey=passkey.name, password=False)
