"""Reading the audit log: filtered, newest first, one page at a time, and as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

from peewee import JOIN

from portal.models import AuditEvent, Company, User
from portal.services import accounts

Actor = User.alias("actor")


def query(company_id: int | None, user_id: str = "", event: str = "", since: dt.date | None = None,
          until: dt.date | None = None):
    """Events of one company (or all, for the Service Center), newest first."""
    select = (AuditEvent.select(AuditEvent, User.id, User.user_id, Actor.id, Actor.user_id, Company.id, Company.name)
              .join(User, JOIN.LEFT_OUTER, on=(AuditEvent.subject == User.id), attr="subject")
              .switch(AuditEvent).join(Actor, JOIN.LEFT_OUTER, on=(AuditEvent.actor == Actor.id), attr="actor")
              .switch(AuditEvent).join(Company, JOIN.LEFT_OUTER, on=(AuditEvent.company == Company.id),
                                       attr="company"))
    if company_id is not None:
        select = select.where(AuditEvent.company == company_id)
    if user_id:
        select = select.where(User.user_id_key == accounts.user_id_key(user_id))
    if event:
        select = select.where(AuditEvent.event.startswith(event.strip()))
    if since:
        select = select.where(AuditEvent.created_at >= dt.datetime.combine(since, dt.time.min))
    if until and until < dt.date.max:  # the last day there is has no day after it, and no limit is needed
        select = select.where(AuditEvent.created_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))
    return select.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def details_text(event: AuditEvent) -> str:
    """The details as a person reads them: "role: user → company-admin, ticket: T-1", never Python's notation."""
    try:
        details = json.loads(event.details or "{}")
    except ValueError:
        return event.details
    before, after = details.pop("before", None), details.pop("after", None)
    parts = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        parts += [f"{key}: {_plain(before.get(key))} → {_plain(after.get(key))}" for key in {**before, **after}]
    elif before is not None or after is not None:
        parts.append(f"{_plain(before)} → {_plain(after)}")
    return ", ".join(parts + [f"{key}: {_plain(value)}" for key, value in details.items()])


def _plain(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, dict)):
        return "; ".join(_plain(v) for v in (value.values() if isinstance(value, dict) else value))
    return str(value)


def _cell(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a leading quote keeps them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(select, limit: int = 100_000) -> Iterator[str]:
    """The events as CSV, streamed line by line (at most `limit` rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time (UTC)", "event", "user", "by", "company", "ip", "details"])
    for event in select.limit(limit).iterator():
        writer.writerow([_cell(str(v)) for v in (
            event.created_at.isoformat(sep=" ", timespec="seconds"), event.event,
            event.subject.user_id if event.subject_id else "", event.actor.user_id if event.actor_id else "",
            event.company.name if event.company_id else "", event.ip, details_text(event))])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
