"""TOTP (RFC 6238) through pyotp: SHA1, 6 digits, 30 s steps; Google, Microsoft, FreeOTP and browsers agree on these."""
from __future__ import annotations

import re

import pyotp
from pyotp.exceptions import OTPVerificationError

DIGITS = 6
PERIOD = 30
WINDOW = 1  # one step either side of now (RFC 6238 section 5.2)
_CODE = re.compile(r"^[0-9]{%d}$" % DIGITS)


def new_secret() -> str:
    """A 160-bit secret from the system CSPRNG, as 32 Base32 characters."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER; the account is the User ID, never an e-mail."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The key as people type it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalize_code(code: str) -> str:
    """Codes are often typed or pasted with spaces or a dash in the middle."""
    return re.sub(r"[\s-]", "", code or "")


def code_at(secret: str, timestamp: float) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).at(int(timestamp))


def step_at(timestamp: float) -> int:
    return int(timestamp) // PERIOD


def off_by_a_little(secret: str, code: str, timestamp: float) -> bool:
    """True when the code is that of two steps before or after now: not accepted, but a sign that the device's
    clock is off (one minute or so), which the person can fix."""
    code = normalize_code(code)
    if not _CODE.match(code):
        return False
    return any(code_at(secret, timestamp + offset * PERIOD) == code for offset in (-2, 2))


def match_step(secret: str, code: str, timestamp: float) -> int | None:
    """The time step whose code matches, within one step of now; None when none does.

    The caller must still claim the step (once per user) to stop replays.
    """
    code = normalize_code(code)
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    try:
        return totp.verify_and_get_timecode(code, for_time=int(timestamp), valid_window=WINDOW)
    except OTPVerificationError:
        return None
