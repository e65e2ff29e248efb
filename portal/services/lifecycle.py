"""Account lifecycle: warn after 11 months without a sign-in, deactivate after 12, tell Company
Administrators a month before Valid Until, audit expiries, and delete dead sessions, links and old mail.

Set-based and in batches: each batch's change, audit events and mails commit together, so a run that is
killed resumes where it stopped, and the recorded *_at/_for columns make a second run find nothing to do.
A lease in job_locks keeps overlapping runs from working at once (the second one skips)."""
from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from peewee import Value

from portal import clock, i18n
from portal.db import db
from portal.infrastructure import links, outbox
from portal.models import (
    AuditEvent,
    Company,
    JobLock,
    KnownBrowser,
    LoginSession,
    OutboxMessage,
    Token,
    User,
)
from portal.models_oidc import BackchannelLogout
from portal.services import administrators, sessions, user_search
from portal.services.browsers import FORGET_UNUSED_AFTER

BATCH = 1000
LEASE = dt.timedelta(minutes=10)
KEEP_SPENT = dt.timedelta(days=30)  # expired links and sent mail are kept this long, then deleted


@dataclass
class Summary:
    dry_run: bool = False
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("warned", "deactivated", "digest_mails", "digest_users", "expired", "purged"), 0))
    seconds: float = 0.0


@contextlib.contextmanager
def job_lock(name: str):
    """Yield a renew() function while this process holds the lease, or None when another run does."""
    holder = secrets.token_hex(8)
    JobLock.insert(name=name).on_conflict_ignore().execute()
    taken = (JobLock.update(holder=holder, locked_until=clock.system_now() + LEASE)
             .where((JobLock.name == name) & (JobLock.locked_until.is_null()
                                              | (JobLock.locked_until < clock.system_now()))).execute())
    if not taken:
        yield None
        return

    def renew():
        JobLock.update(locked_until=clock.system_now() + LEASE).where(
            (JobLock.name == name) & (JobLock.holder == holder)).execute()
    try:
        yield renew
    finally:
        JobLock.update(holder=None, locked_until=None).where(
            (JobLock.name == name) & (JobLock.holder == holder)).execute()


def _warn_due(now: dt.datetime):
    """Active, not expired, 11 to 12 months without activity, and not yet warned for this period."""
    return (User.active & (User.valid_until >= now.date())
            & (User.activity_at <= clock.months_before(now, 11)) & (User.activity_at > clock.months_before(now, 12))
            & (User.inactivity_warned_at.is_null() | (User.inactivity_warned_at < User.activity_at)))


def _deactivation_due(now: dt.datetime):
    return User.active & (User.activity_at <= clock.months_before(now, 12))


def _expiry_unrecorded(today: dt.date):
    return (User.valid_until < today) & (User.expired_recorded_for.is_null()
                                         | (User.expired_recorded_for < User.valid_until))


_expiring = user_search.expiring


def _batches(condition, key, fields, renew, progress, step: str):
    """Rows meeting the condition, BATCH at a time in (key, id) order; each batch must stop meeting it once
    handled. Each condition has a partial index of migration 0006 holding just the rows it could meet,
    ordered by key, so the query reads only what is due (and nothing when nothing is)."""
    done, last = 0, None
    while True:
        select = User.select(User.id, key, *fields).where(condition)
        if last is not None:  # after the last row handled, even if it still met the condition
            after = getattr(last, key.name)
            select = select.where((key >= after) & ((key > after) | (User.id > last.id)))
        rows = list(select.order_by(key, User.id).limit(BATCH))
        if not rows:
            return
        yield rows
        done, last = done + len(rows), rows[-1]
        renew()
        progress(step, done)


def _audit_rows(event: str, ids: list[int], now: dt.datetime, details=None) -> None:
    """One audit event per user of a batch, written by the database from the users' rows."""
    rows = User.select(Value(now, converter=AuditEvent.created_at.db_value), Value(event), User.id, User.company,
                       Value(""), Value("{}") if details is None else details).where(User.id.in_(ids))
    AuditEvent.insert_from(rows, [AuditEvent.created_at, AuditEvent.event, AuditEvent.subject, AuditEvent.company,
                                  AuditEvent.ip, AuditEvent.details]).execute()


# what the mails show, and in which language and zone
_MAILED = (User.user_id, User.email, User.first_name, User.last_name, User.company, User.language, User.time_zone)


def _inactive_step(due, step: str, event: str, change, mail, now: dt.datetime, renew, progress) -> int:
    """One step over users long without activity: each batch is changed (so it is no longer due), audited
    and mailed in one transaction."""
    count = 0
    for rows in _batches(due, User.activity_at, _MAILED, renew, progress, step):
        ids = [u.id for u in rows]
        with db.atomic():
            change(ids)
            _audit_rows(event, ids, now)
            outbox.queue_many([mail(u) for u in rows])
        count += len(rows)
    return count


def warn_inactive(now: dt.datetime, renew, progress) -> int:
    due = _warn_due(now)

    def mail(user):
        deadline = clock.months_before(user.activity_at, -12).date()
        subject = _l("sign in before %(date)s or User ID %(user_id)s will be deactivated",
                     date=i18n.lazy(i18n.day, deadline), user_id=user.user_id)
        return outbox.render(user.email, subject, "inactivity_warning", notice=True, user=user, deadline=deadline,
                             link=links.external_url("auth.sign_in"))

    def warned(ids):
        User.update(inactivity_warned_at=now).where(User.id.in_(ids) & due).execute()
    return _inactive_step(due, "warned", "lifecycle.inactivity_warning", warned, mail, now, renew, progress)


def deactivate_inactive(now: dt.datetime, renew, progress) -> int:
    due = _deactivation_due(now)

    def mail(user):
        return outbox.render(user.email, _l("User ID %(user_id)s was deactivated on %(date)s", user_id=user.user_id,
                                            date=i18n.lazy(i18n.day, now.date())),
                             "inactivity_deactivated", notice=True, user=user, today=now.date())

    def deactivated(ids):
        User.update(active=False).where(User.id.in_(ids) & due).execute()
        sessions.end_where(LoginSession.user.in_(ids))
    return _inactive_step(due, "deactivated", "lifecycle.deactivated_for_inactivity", deactivated, mail, now,
                          renew, progress)


def digest_expiring(now: dt.datetime, renew, progress) -> tuple[int, int]:
    """Each Company Administrator gets at most one digest a day, when users newly come within the window."""
    today = now.date()
    expiring = _expiring(today)
    mails = users = 0
    for company in _companies_to_tell(today):
        expiring_users = list(User.select().where(expiring & (User.company == company.id))
                              .order_by(User.valid_until, User.user_id_key))
        if not expiring_users:  # extended or deactivated since the company was picked: nothing to tell
            continue
        with db.atomic():
            for administrator in administrators.active(company.id, today):
                earliest = expiring_users[0].valid_until
                subject = _nl("%(num)s User ID of %(company)s expires on %(date)s",
                              "%(num)s User IDs of %(company)s expire from %(date)s", len(expiring_users),
                              company=company.name, date=i18n.lazy(i18n.day, earliest))
                outbox.queue(administrator.email, subject, "expiry_digest", notice=True, user=administrator, company=company,
                             users=expiring_users, link=links.external_url("admin.users", status="expiring"))
                mails += 1
            User.update(expiry_notified_for=User.valid_until).where(expiring & (User.company == company.id)).execute()
            Company.update(expiry_digest_on=today).where(Company.id == company.id).execute()
        users += len(expiring_users)
        renew()
        progress("digest_mails", mails)
    return mails, users


def _newly_expiring(today: dt.date):
    """Users within the notice period whose administrators have not been told of this Valid Until."""
    return _expiring(today) & (User.expiry_notified_for.is_null() | (User.expiry_notified_for != User.valid_until))


def _companies_due(today: dt.date, *fields):
    """Companies with users newly within the notice period, whose administrators had no digest today."""
    return Company.select(*fields).where(Company.id.in_(User.select(User.company).where(_newly_expiring(today)))
                                         & (Company.expiry_digest_on.is_null() | (Company.expiry_digest_on < today)))


def _companies_to_tell(today: dt.date):
    return _companies_due(today).iterator()


def record_expired(now: dt.datetime, renew, progress) -> int:
    count = 0
    due = _expiry_unrecorded(now.date())
    for rows in _batches(due, User.valid_until, (), renew, progress, "expired"):
        ids = [u.id for u in rows]
        with db.atomic():
            # {"valid_until": "YYYY-MM-DD"}, as json.dumps writes it; before the update moves the row on
            _audit_rows("lifecycle.expired", ids, now, Value('{"valid_until": "').concat(User.valid_until).concat('"}'))
            User.update(expired_recorded_for=User.valid_until).where(User.id.in_(ids)).execute()
            sessions.end_where(LoginSession.user.in_(ids))  # they would end at the next request; applications learn now
        count += len(rows)
    return count


def _stale(now: dt.datetime):
    """Sessions past their timeouts, used or expired links, mail and logout tokens sent long ago (they hold
    personal data) and browsers unused for a year."""
    tokens = Token.expires_at < now - KEEP_SPENT
    mail = (OutboxMessage.status == "sent") & (OutboxMessage.sent_at < now - KEEP_SPENT)
    logouts = (BackchannelLogout.status == "sent") & (BackchannelLogout.sent_at < now - KEEP_SPENT)
    browsers = KnownBrowser.last_used_at < now - FORGET_UNUSED_AFTER
    return ((LoginSession, sessions.timed_out(now)), (Token, tokens), (OutboxMessage, mail),
            (BackchannelLogout, logouts), (KnownBrowser, browsers))


def purge_stale(now: dt.datetime) -> int:
    """Set-based deletes of what no longer serves anyone; timed-out sessions end as every session does."""
    return sum(sessions.end_where(condition) if model is LoginSession else model.delete().where(condition).execute()
               for model, condition in _stale(now))


def dry_run_counts(now: dt.datetime) -> dict[str, int]:
    today = now.date()
    expiring = _expiring(today)
    companies = _companies_due(today, Company.id)
    return {
        "warned": User.select().where(_warn_due(now)).count(),
        "deactivated": User.select().where(_deactivation_due(now)).count(),
        "digest_mails": User.select().where((User.company.in_(companies)) & administrators.condition(today)).count(),
        "digest_users": User.select().where(expiring & User.company.in_(companies)).count(),
        "expired": User.select().where(_expiry_unrecorded(today)).count(),
        "purged": sum(model.select().where(condition).count() for model, condition in _stale(now)),
    }


def run(dry_run: bool = False, progress: Callable[[str, int], None] = lambda step, done: None,
        now: dt.datetime | None = None) -> Summary:
    """One run of the four steps, in order, as of `now` (default: the clock). That moment decides what is due for
    the lifecycle; the mail it queues is due at once, whatever day the run is for."""
    started = time.monotonic()
    now = now or clock.now()
    summary = Summary(dry_run=dry_run)
    if dry_run:
        summary.counts = dry_run_counts(now)
    else:
        with job_lock("lifecycle") as renew:
            if renew is None:
                summary.skipped = True
            else:
                counts = summary.counts
                counts["warned"] = warn_inactive(now, renew, progress)
                counts["deactivated"] = deactivate_inactive(now, renew, progress)
                counts["digest_mails"], counts["digest_users"] = digest_expiring(now, renew, progress)
                counts["expired"] = record_expired(now, renew, progress)
                counts["purged"] = purge_stale(now)
    summary.seconds = time.monotonic() - started
    return summary
