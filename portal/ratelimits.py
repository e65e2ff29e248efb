"""Rate limits on every door an attacker knocks on, per client IP and per target (User ID, address,
pending sign-in, link). Limits are configuration strings, so an operator can tune them; the storage is
memory:// for one process and Redis (PORTAL_RATELIMIT_STORAGE_URI) for several workers."""
from __future__ import annotations

import hashlib
import time

from flask import current_app, request, session
from flask_limiter.util import get_remote_address

from portal.extensions import limiter
from portal.services.accounts import user_id_key


@limiter.request_filter
def _only_posts_count() -> bool:
    """Every limit counts POSTs only (see limited()), so other requests skip the limiter's work altogether."""
    return request.method != "POST"


def _hashed(value: str) -> str:
    """Limit keys must not hold personal data or secrets in clear (they may sit in Redis)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def by_user_id() -> str:
    return "uid:" + _hashed(user_id_key(request.form.get("user_id", "")))


def by_email() -> str:
    return "email:" + _hashed(request.form.get("email", "").strip().lower())


def by_session() -> str:
    """The pending or signed-in session (its token), so parallel sign-ins of one person share nothing but
    the per-user counters in the database."""
    from portal.auth.state import (
        TOKEN_KEY,  # here: the auth blueprint's views import this module
    )

    return "sid:" + _hashed(session.get(TOKEN_KEY, "") or get_remote_address())


def by_link() -> str:
    return "link:" + _hashed(request.view_args.get("token", "") if request.view_args else "")


def by_client() -> str:
    """The application calling the token endpoint (HTTP Basic or the client_id field), as it says it is."""
    auth = request.authorization
    return "client:" + _hashed((auth.username if auth and auth.username else None) or request.form.get("client_id", ""))


def _limit(name: str, which: int):
    """The configured limit string (config holds [per IP, per target] for each name)."""
    return lambda: current_app.config[name][which]


def limited(name: str, target_key) -> callable:
    """Decorate a view with the IP and target limits of `name` (POST requests only: a GET changes nothing)."""
    def decorator(view):
        view = limiter.limit(_limit(name, 1), key_func=target_key, methods=["POST"], scope=f"{name}:target")(view)
        return limiter.limit(_limit(name, 0), key_func=get_remote_address, methods=["POST"],
                             scope=f"{name}:ip")(view)
    return decorator


def retry_after_seconds() -> int:
    """How long until the limit that was hit lets the person try again."""
    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current else 60
