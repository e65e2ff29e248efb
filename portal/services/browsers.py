"""Browsers a person has signed in with: their wrong passwords are counted apart from everybody else's.

Whoever knows a User ID can enter ten wrong passwords and block it (the block stays until a Company
Administrator lifts it, as the help pages say). A browser that completed a sign-in of that user before holds
a random cookie and is not blocked by failures from elsewhere; its own wrong passwords count on it alone, and
at the same limit it is forgotten (then it counts like any other). OWASP calls these device cookies."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from peewee import IntegrityError

from portal import clock
from portal.db import db
from portal.infrastructure import audit
from portal.models import KnownBrowser, User
from portal.security.tokens import hash_token, new_token

FORGET_UNUSED_AFTER = dt.timedelta(days=365)


def new_browser_token() -> str:
    return new_token()[0]


def find(user: User, token: str | None) -> KnownBrowser | None:
    """The record of this browser for this user, if it signed the user in before (and was used this year)."""
    if not token or len(token) > 100:
        return None
    return KnownBrowser.get_or_none((KnownBrowser.user == user) & (KnownBrowser.browser_hash == hash_token(token))
                                    & (KnownBrowser.last_used_at > clock.now() - FORGET_UNUSED_AFTER))


def remember(user_id: int, token: str) -> None:
    """After a complete sign-in: this browser is known for the user from now on (its count starts again)."""
    now = clock.now()
    browser_hash = hash_token(token)
    updated = (KnownBrowser.update(last_used_at=now, failed_password_count=0)
               .where((KnownBrowser.user == user_id) & (KnownBrowser.browser_hash == browser_hash)).execute())
    if not updated:
        try:
            with db.atomic():
                KnownBrowser.create(user=user_id, browser_hash=browser_hash, created_at=now, last_used_at=now)
        except IntegrityError:  # a parallel sign-in in the same browser remembered it first
            pass


def count_failure(known: KnownBrowser, ip: str) -> None:
    """A wrong password from a known browser: at the limit the browser is forgotten, not the User ID blocked."""
    KnownBrowser.update(failed_password_count=KnownBrowser.failed_password_count + 1).where(
        KnownBrowser.id == known.id).execute()
    audit.record("sign_in.failed", subject=known.user, ip=ip, reason="password", browser="known")
    limit = current_app.config["PASSWORD_FAILURES_BEFORE_BLOCK"]
    if limit and KnownBrowser.delete().where((KnownBrowser.id == known.id)
                                             & (KnownBrowser.failed_password_count >= limit)).execute():
        audit.record("sign_in.browser_forgotten", subject=known.user, ip=ip)


def reset_count(known: KnownBrowser) -> None:
    if known.failed_password_count:
        KnownBrowser.update(failed_password_count=0).where(KnownBrowser.id == known.id).execute()
