"""Passkeys and security keys (WebAuthn, with py_webauthn): registering and removing them, and the single-use
challenges of every ceremony. Signing in with them is in portal.services.passkey_sign_in."""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import webauthn
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal import clock
from portal.db import db
from portal.infrastructure import audit, outbox
from portal.models import LoginSession, Passkey, PasskeyChallenge, User
from portal.security import crypto
from portal.services import NotFound, ServiceError
from portal.services.reauth import require_fresh

REGISTER, SECOND_FACTOR, SIGN_IN = "register", "second_factor", "sign_in"
UNAVAILABLE = _l("Passkeys cannot be used at this address of Portal.")
NOT_CREATED = _l("Your passkey could not be added: your device's answer could not be verified. Try again, or use "
               "another passkey or security key.")
ALREADY_REGISTERED = _l("That passkey or security key is already registered.")
NO_SUCH_PASSKEY = _l("There is no such passkey.")
_TRANSPORTS = {t.value for t in AuthenticatorTransport}
# What py_webauthn and the JSON and CBOR parsers raise for an answer that is broken or forged.
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)
# Words in py_webauthn's messages -> the reason audited (first match; "signature" before "verif").
_REASONS = (("challenge", "challenge"), ("origin", "origin"), ("rp id", "relying party id"),
            ("signature", "signature"), ("not verified", "user verification"), ("not present", "user presence"),
            ("sign count", "counter"))


class Refused(ValueError):
    """A WebAuthn answer that is not accepted, with the reason the audit log records."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason, self.detail = reason, detail or reason


def refusal(error: Exception) -> Refused:
    """The reason for refusing an answer, in a few fixed words, whatever raised it."""
    if isinstance(error, Refused):
        return error
    text = str(error)
    reason = next((word for needle, word in _REASONS if needle in text.lower()), "malformed")
    return Refused(reason, text[:200])


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser and authenticator think they talk to: an id (the host of PORTAL_BASE_URL) and the one
    origin a response may come from (scheme, host and a port other than the scheme's default, as browsers write
    it). A copy of Portal under another address cannot use its passkeys, and a fake page cannot relay them."""

    id: str
    origin: str


def relying_party() -> RelyingParty | None:
    """The relying party of PORTAL_BASE_URL; None where passkeys cannot work (an IP address is no RP id)."""
    parts = urlsplit(current_app.config["BASE_URL"])
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if not host:
        return None
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return RelyingParty(host, f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else ""))


def available() -> bool:
    return relying_party() is not None


def require_relying_party() -> RelyingParty:
    found = relying_party()
    if found is None:
        raise ServiceError(UNAVAILABLE)
    return found


def _lifetime() -> dt.timedelta:
    """A challenge lives as long as a pending sign-in may (and goes sooner with its session)."""
    return dt.timedelta(seconds=current_app.config["PENDING_SIGNIN_SECONDS"])


def timeout_ms() -> int:
    return int(_lifetime().total_seconds() * 1000)


# --- challenges -------------------------------------------------------------------------------------------

def _binding(purpose: str, login_session: LoginSession | None, browser_hash: str | None):
    condition = PasskeyChallenge.purpose == purpose
    if login_session is not None:
        return condition & (PasskeyChallenge.login_session == login_session.id)
    return condition & (PasskeyChallenge.browser_hash == browser_hash) & PasskeyChallenge.login_session.is_null()


def issue_challenge(challenge: bytes, purpose: str, login_session: LoginSession | None = None,
                    browser_hash: str | None = None) -> None:
    """Keep a new challenge for this session (or browser) and purpose; an earlier one no longer counts."""
    if login_session is None and not browser_hash:
        raise ValueError("a challenge is bound to a login session or a browser")
    now = clock.now()
    with db.atomic():
        PasskeyChallenge.delete().where(_binding(purpose, login_session, browser_hash)
                                        | (PasskeyChallenge.expires_at < now)).execute()
        PasskeyChallenge.create(purpose=purpose, login_session=login_session, browser_hash=browser_hash,
                                challenge=bytes_to_base64url(challenge), expires_at=now + _lifetime())


def take_challenge(answered: bytes, purpose: str, login_session: LoginSession | None = None,
                   browser_hash: str | None = None) -> bool:
    """Use up the challenge the browser answered, if it was issued to this session (or browser) for this purpose
    and has not expired: true for exactly one of two parallel requests. Every challenge of the binding goes."""
    if login_session is None and not browser_hash:
        return False
    binding = _binding(purpose, login_session, browser_hash)
    used = (PasskeyChallenge.delete().where(binding & (PasskeyChallenge.challenge == bytes_to_base64url(answered))
                                            & (PasskeyChallenge.expires_at >= clock.now())).execute())
    PasskeyChallenge.delete().where(binding).execute()
    return used == 1


# --- the person's passkeys ----------------------------------------------------------------------------------

def of_user(user: User) -> list[Passkey]:
    return list(Passkey.select().where(Passkey.user == user).order_by(Passkey.created_at, Passkey.id))


def has_passkeys(user_id: int) -> bool:
    return Passkey.select().where(Passkey.user == user_id).exists()


def own(user: User, passkey_id: int) -> Passkey:
    found = Passkey.get_or_none((Passkey.id == passkey_id) & (Passkey.user == user))
    if found is None:
        raise NotFound(NO_SUCH_PASSKEY)
    return found


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Enter a name for the passkey, such as \u201cLaptop\u201d or \u201cBlue security key\u201d."),
                           "name")
    if len(name) > 100:
        raise ServiceError(_("The name must be at most 100 characters."), "name")
    return name


def descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports.split(",") if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id), transports=transports or None)


def _user_handle(user: User, existing: list[Passkey]) -> str:
    """One random-looking handle per user for all their passkeys (an authenticator keeps one passkey per handle):
    never the User ID or a number, so a device's list of passkeys tells nothing about Portal's records."""
    if existing:
        return existing[0].user_handle
    return bytes_to_base64url(bytes.fromhex(crypto.keyed_hash(str(user.id), "passkey-user-handle")))


def registration_options(login_session: LoginSession, name: str) -> str:
    """The options for navigator.credentials.create() (JSON), after the fresh confirmation a change of the second
    factor needs: user verification required, a discoverable credential preferred, attestation none."""
    require_fresh(login_session)
    clean_name(name)
    rp = require_relying_party()
    user = login_session.user
    existing = of_user(user)
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=current_app.config["PRODUCT_NAME"], user_name=user.user_id,
        user_display_name=user.full_name, user_id=base64url_to_bytes(_user_handle(user, existing)),
        timeout=timeout_ms(), attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[descriptor(p) for p in existing])
    issue_challenge(options.challenge, REGISTER, login_session=login_session)
    return webauthn.options_to_json(options)


def _verified_registration(login_session: LoginSession, credential: str, rp: RelyingParty, ip: str):
    """py_webauthn's check of the browser's answer to the challenge of this session; refused ones are audited."""
    try:
        parsed = parse_registration_credential_json(credential)
        answered = parse_client_data_json(parsed.response.client_data_json).challenge
        if not take_challenge(answered, REGISTER, login_session=login_session):
            raise Refused("challenge", "not issued to this session, used before or expired")
        return parsed, webauthn.verify_registration_response(
            credential=parsed, expected_challenge=answered, expected_rp_id=rp.id, expected_origin=rp.origin,
            require_user_verification=True)
    except MALFORMED as error:  # whatever a broken or hostile browser sends is refused, never a 500
        refused = refusal(error)
        audit.record("passkey.add_refused", subject=login_session.user, actor=login_session.user, ip=ip,
                     reason=refused.reason, detail=refused.detail)
        raise ServiceError(NOT_CREATED) from None


def add(login_session: LoginSession, name: str, credential: str, ip: str = "") -> Passkey:
    """Register the passkey the browser created for the challenge of this session; the owner is told by mail."""
    require_fresh(login_session)
    name = clean_name(name)
    rp = require_relying_party()
    user = login_session.user
    parsed, verified = _verified_registration(login_session, credential, rp, ip)
    transports = ",".join(t.value for t in parsed.response.transports or [])[:200]
    try:
        with db.atomic():
            passkey = Passkey.create(
                user=user, name=name, credential_id=bytes_to_base64url(verified.credential_id),
                public_key=bytes_to_base64url(verified.credential_public_key), sign_count=verified.sign_count,
                user_handle=_user_handle(user, of_user(user)), transports=transports, created_at=clock.now(),
                synced=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE)
            audit.record("passkey.added", subject=user, actor=user, ip=ip, name=name, synced=passkey.synced)
            outbox.queue(user.email, _l("a passkey was added"), "passkey_added", user=user, passkey_name=name,
                         when=clock.now())
    except IntegrityError:  # credential ids are unique: this one belongs to someone already
        audit.record("passkey.add_refused", subject=user, actor=user, ip=ip, reason="credential already registered")
        raise ServiceError(ALREADY_REGISTERED) from None
    return passkey


def remove(login_session: LoginSession, passkey_id: int, ip: str = "") -> str:
    """Remove one of the person's own passkeys (after the fresh confirmation); returns its name."""
    require_fresh(login_session)
    user = login_session.user
    passkey = own(user, passkey_id)
    with db.atomic():
        if not Passkey.delete().where((Passkey.id == passkey.id) & (Passkey.user == user)).execute():
            raise NotFound(NO_SUCH_PASSKEY)
        audit.record("passkey.removed", subject=user, actor=user, ip=ip, name=passkey.name)
        outbox.queue(user.email, _l("a passkey was removed"), "passkey_removed", user=user, passkey_name=passkey.name,
                     when=clock.now())
    return passkey.name
