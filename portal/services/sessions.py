"""Server-side login sessions: pending (password accepted) and active (signed in), with timeouts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from portal import clock
from portal.db import db
from portal.models import STAGE_ACTIVE, STAGE_PENDING, LoginSession, User
from portal.security.tokens import hash_token, new_token
from portal.services import backchannel


@dataclass
class Started:
    """A new session and the token for the browser's cookie (only its hash is stored)."""

    token: str
    login_session: LoginSession


def start_pending(user: User, ip: str, user_agent: str, amr: str = "pwd") -> Started:
    """After a correct password: a pending sign-in that allows only the second factor. `amr` says what was
    used so far (RFC 8176 words; "pwd recovery" after a recovery link)."""
    token, token_hash = new_token()
    record = LoginSession.create(token_hash=token_hash, user=user, stage=STAGE_PENDING,
                                 ip=ip[:64], user_agent=user_agent[:255], amr=amr)
    return Started(token, record)


def promote(pending: LoginSession, factor: str = "otp") -> Started | None:
    """After the second factor: replace the pending session by a signed-in one with a new token.

    None when the pending session was already used or ended (by a parallel request); call inside a transaction.
    `factor` (otp, backup_code) is added to the session's amr.
    """
    if LoginSession.delete().where(LoginSession.id == pending.id).execute() != 1:
        return None
    now = clock.now()
    token, token_hash = new_token()
    record = LoginSession.create(token_hash=token_hash, user=pending.user_id, stage=STAGE_ACTIVE,
                                 created_at=now, authenticated_at=now, last_seen_at=now,
                                 ip=pending.ip, user_agent=pending.user_agent, amr=f"{pending.amr} {factor}")
    return Started(token, record)


def _cutoffs(now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """The timeouts as moments: a pending sign-in begun before the first, a session last seen before the second
    or signed in before the third has timed out."""
    cfg = current_app.config
    return (now - dt.timedelta(seconds=cfg["PENDING_SIGNIN_SECONDS"]),
            now - dt.timedelta(seconds=cfg["SESSION_IDLE_SECONDS"]),
            now - dt.timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"]))


def _expired(record: LoginSession, now: dt.datetime) -> bool:
    pending_since, seen_since, signed_in_since = _cutoffs(now)
    if record.stage == STAGE_PENDING:
        return record.created_at < pending_since
    return record.last_seen_at < seen_since or record.authenticated_at < signed_in_since


def timed_out(now: dt.datetime):
    """The same rule as a query condition, for deleting the sessions nobody can use any more."""
    pending_since, seen_since, signed_in_since = _cutoffs(now)
    return (((LoginSession.stage == STAGE_PENDING) & (LoginSession.created_at < pending_since))
            | ((LoginSession.stage == STAGE_ACTIVE) & ((LoginSession.last_seen_at < seen_since)
                                                       | (LoginSession.authenticated_at < signed_in_since))))


def resolve(token: str | None) -> LoginSession | None:
    """The live session for a cookie token, with its user; ends it when timed out or no longer allowed."""
    if not token:
        return None
    record = (LoginSession.select(LoginSession, User).join(User)
              .where(LoginSession.token_hash == hash_token(token)).first())
    return keep_alive(record)


def keep_alive(record: LoginSession | None) -> LoginSession | None:
    """The session (with its user) if it may go on, touched when signed in; otherwise it is ended and None.
    For each request, and for each use of a token issued in the session (portal.services.oidc)."""
    if record is None:
        return None
    now = clock.now()
    user = record.user
    if _expired(record, now) or not user.active or user.is_expired(now.date()):
        end(record)
        return None
    if record.stage == STAGE_ACTIVE:
        _touch(record, now)
    return record


def _touch(record: LoginSession, now: dt.datetime) -> None:
    # Writing last_seen on every request would cost a write per page; a minute's precision is enough.
    if now - record.last_seen_at >= dt.timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"]):
        LoginSession.update(last_seen_at=now).where(LoginSession.id == record.id).execute()
        record.last_seen_at = now


def end(record: LoginSession | None) -> None:
    if record is not None:
        end_where(LoginSession.id == record.id)


def end_all(user: User, keep: LoginSession | None = None) -> int:
    """End every session of a user (but `keep`); returns how many ended."""
    condition = LoginSession.user == user
    if keep is not None:
        condition &= LoginSession.id != keep.id
    return end_where(condition)


def end_where(condition) -> int:
    """End the sessions meeting `condition` (one or a million): every way a session ends comes here, so the
    applications signed in through them are sent a back-channel logout. Their codes and tokens go with them
    (ON DELETE CASCADE). Returns how many ended."""
    with db.atomic():
        backchannel.queue_for(condition)
        return LoginSession.delete().where(condition).execute()
