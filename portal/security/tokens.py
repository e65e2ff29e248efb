"""Random tokens for cookies and links: the holder gets the token, the database keeps its SHA-256."""
from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """A 256-bit URL-safe token and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
