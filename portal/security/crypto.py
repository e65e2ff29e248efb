"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with keys kept outside the database."""
from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

__all__ = ["encrypt", "decrypt", "keyed_hash", "InvalidToken"]


def _fernet() -> MultiFernet:
    # PORTAL_ENCRYPTION_KEY may list several keys, newest first, so old secrets stay readable.
    cache = current_app.extensions.setdefault("portal_fernet", {})
    keys = current_app.config["ENCRYPTION_KEY"]
    if keys not in cache:
        cache.clear()
        cache[keys] = MultiFernet([Fernet(k.strip()) for k in keys.split(",")])
    return cache[keys]


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    return _fernet().decrypt(ciphertext.encode()).decode()


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of a value under a key derived from SECRET_KEY, for short secrets such as backup codes."""
    key = hashlib.sha256(f"{purpose}:{current_app.config['SECRET_KEY']}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first (newest) key of PORTAL_ENCRYPTION_KEY."""
    return _fernet().rotate(ciphertext.encode()).decode()
