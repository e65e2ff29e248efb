"""Durable queues in the database (the mail outbox, back-channel logouts): a row is written with the change
that causes it, claimed by one sender at a time, and retried with back-off until it goes or gives up.

A queue model has status (queued, sending, sent, failed), attempts, next_attempt_at, claimed_until, sent_at
and last_error. Senders may run at the same time (a cron job and the after-response thread): a claim is one
conditional UPDATE, so each row is sent by one of them."""
from __future__ import annotations

import datetime as dt
import logging

from peewee import fn

from portal import clock

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120
log = logging.getLogger("portal")


def _free(model, now: dt.datetime):
    return (model.status == "queued") | ((model.status == "sending") & (model.claimed_until < now))


def claim(model, row_id: int, now: dt.datetime) -> bool:
    """Take a row for sending; two senders never both get it."""
    return (model.update(status="sending", claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                         attempts=model.attempts + 1)
            .where((model.id == row_id) & _free(model, now) & (model.next_attempt_at <= now))
            .execute()) == 1


def due_ids(model, limit: int = 100, ids: list[int] | None = None) -> list[int]:
    now = clock.now()
    query = (model.select(model.id).where((model.next_attempt_at <= now) & _free(model, now))
             .order_by(model.next_attempt_at).limit(limit))
    if ids is not None:
        query = query.where(model.id.in_(ids))
    return [row.id for row in query]


def deliver(model, send, what: str, ids: list[int] | None = None, limit: int = 100,
            when_sent: dict | None = None) -> tuple[int, int]:
    """Send due rows with send(row); returns (sent, not sent). Retries back off up to MAX_ATTEMPTS. A sent row
    is marked so, with the columns of `when_sent` set too (the mail outbox drops its bodies)."""
    sent = failed = 0
    for row_id in due_ids(model, limit, ids):
        if not claim(model, row_id, clock.now()):
            continue
        row = model.get_by_id(row_id)
        try:
            send(row)
        except Exception as exc:  # any transport failure: keep the row and try later
            failed += 1
            _failed(model, row, exc, what)
            continue
        sent += 1
        model.update(status="sent", sent_at=clock.now(), claimed_until=None, last_error=None,
                     **(when_sent or {})).where(model.id == row_id).execute()
    return sent, failed


def _failed(model, row, exc: Exception, what: str) -> None:
    log.warning("%s (%s id %s) not sent: %s", what, model._meta.table_name, row.id, type(exc).__name__)
    final = row.attempts >= MAX_ATTEMPTS
    delay = dt.timedelta(minutes=min(2 ** row.attempts, 360))
    model.update(status="failed" if final else "queued", claimed_until=None, next_attempt_at=clock.now() + delay,
                 last_error=f"{type(exc).__name__}: {exc}"[:1000]).where(model.id == row.id).execute()


def counts(model) -> dict[str, int]:
    """Rows by status."""
    rows = model.select(model.status, fn.COUNT(model.id).alias("n")).group_by(model.status)
    return {row.status: row.n for row in rows}
