"""Server-side login sessions: pending (password accepted) and active (signed in), with timeouts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from portal import clock
from portal.db import Prepared, db
from portal.models import STAGE_ACTIVE, STAGE_PENDING, Company, LoginSession, User
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


def _timed_out(record: LoginSession, now: dt.datetime) -> str | None:
    """Which timeout the session has passed, if any."""
    pending_since, seen_since, signed_in_since = _cutoffs(now)
    if record.stage == STAGE_PENDING:
        return PENDING_TOO_LONG if record.created_at < pending_since else None
    if record.authenticated_at < signed_in_since:
        return SIGNED_IN_TOO_LONG
    return IDLE if record.last_seen_at < seen_since else None


def timed_out(now: dt.datetime):
    """The same rule as a query condition, for deleting the sessions nobody can use any more."""
    pending_since, seen_since, signed_in_since = _cutoffs(now)
    return (((LoginSession.stage == STAGE_PENDING) & (LoginSession.created_at < pending_since))
            | ((LoginSession.stage == STAGE_ACTIVE) & ((LoginSession.last_seen_at < seen_since)
                                                       | (LoginSession.authenticated_at < signed_in_since))))


# Every request's lookup: the session with its user and the user's company, read fresh from the database each
# time (so a session ended elsewhere is refused at the next request); only the SQL is built once.
_BY_TOKEN = Prepared(lambda token_hash: LoginSession.select(LoginSession, User, Company).join(User).join(Company)
                     .where(LoginSession.token_hash == token_hash).limit(1), str)


IDLE, SIGNED_IN_TOO_LONG, PENDING_TOO_LONG, ENDED, NOT_ALLOWED = (
    "idle", "absolute", "pending", "ended", "not allowed")


def resolve(token: str | None) -> tuple[LoginSession | None, str | None]:
    """The live session for a cookie token, with its user (and company), or None and why there is none for
    a token that was one (IDLE, SIGNED_IN_TOO_LONG, PENDING_TOO_LONG, ENDED elsewhere, NOT_ALLOWED any more);
    a timed-out or no longer allowed session is ended here."""
    if not token:
        return None, None
    record = _BY_TOKEN.first(hash_token(token))
    if record is None:
        return None, ENDED
    why = _ended_now(record)
    return (None, why) if why else (record, None)


def keep_alive(record: LoginSession | None) -> LoginSession | None:
    """The session (with its user) if it may go on, touched when signed in; otherwise it is ended and None.
    For each use of a token issued in the session (portal.services.oidc), as resolve() is for each request."""
    return None if record is None or _ended_now(record) else record


def _ended_now(record: LoginSession) -> str | None:
    """Why the session ends now (it is ended here), or None when it goes on (it is then touched)."""
    now = clock.now()
    user = record.user
    why = _timed_out(record, now) or (None if user.active and not user.is_expired(now.date()) else NOT_ALLOWED)
    if why:
        end(record)
        return why
    if record.stage == STAGE_ACTIVE:
        _touch(record, now)
    return None


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
