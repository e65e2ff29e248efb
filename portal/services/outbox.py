"""The mail outbox: a mail is a row written with the change that causes it, delivered after commit."""
from __future__ import annotations

import datetime as dt
import re

from flask import current_app, g, has_request_context
from markupsafe import Markup, escape
from peewee import fn

from portal import clock
from portal.models import OutboxMessage
from portal.security import crypto
from portal.services.accounts import plain_address

_URL = re.compile(r"https?://[^\s<>\"']+")
MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120


def render(to: str, subject: str, template: str, notice: bool = False, **context) -> dict:
    """The outbox row for email/<template>.txt and its HTML twin. Account notices (lifecycle) get a subject
    prefix of their own, so that nobody takes them for the notifications people configure themselves.
    Bodies are stored encrypted: a mail may hold a live link, and a database dump must not."""
    product = current_app.config["PRODUCT_NAME"]
    subject = f"{product} account notice: {subject}" if notice else f"{product}: {subject}"
    context.setdefault("user", None)
    text = _render(f"email/{template}.txt", product=product, base_url=current_app.config["BASE_URL"], **context)
    return {"to_address": plain_address(to), "subject": subject, "body_text": crypto.encrypt(text),
            "body_html": crypto.encrypt(_html_twin(subject, text)), "created_at": clock.now(),
            "next_attempt_at": clock.now()}


def bodies(message: OutboxMessage) -> tuple[str, str | None]:
    """The text and HTML of a mail still to be sent."""
    return crypto.decrypt(message.body_text), crypto.decrypt(message.body_html) if message.body_html else None


def queue(to: str, subject: str, template: str, **context) -> OutboxMessage:
    """Store one mail; it leaves after the transaction that wrote it commits."""
    message = OutboxMessage.create(**render(to, subject, template, **context))
    if has_request_context():
        g.setdefault("outbox_ids", []).append(message.id)
    return message


def queue_many(rows: list[dict]) -> int:
    """Store many rendered mails (from render()) in one statement per 500; `portal mail send` delivers them."""
    if not rows:
        return 0
    fields = [getattr(OutboxMessage, name) for name in rows[0]]  # as tuples: peewee builds them faster
    values = [tuple(row.values()) for row in rows]
    for start in range(0, len(values), 500):
        OutboxMessage.insert_many(values[start:start + 500], fields=fields).execute()
    return len(rows)


def _html_twin(subject: str, text: str) -> str:
    """The HTML part: the same words, paragraph by paragraph, with links made clickable."""
    base = current_app.config["BASE_URL"]
    paragraphs = [_linked(block, base) for block in re.split(r"\n\s*\n", text.strip())]
    return _render("email/_layout.html", subject=subject, paragraphs=paragraphs)


def _render(name: str, **context) -> str:
    """A mail template straight from Jinja: mail depends on no request, and Flask's render_template (context
    processors, signals) cost as much again in a lifecycle run of a hundred thousand mails."""
    return current_app.jinja_env.get_template(name).render(**context)


def _linked(block: str, base: str) -> Markup:
    """The block escaped, with Portal's own links clickable: an address someone typed into a name or a
    department stays text. (Joined as plain strings: the lifecycle job renders hundreds of thousands of these,
    and adding Markup objects one to another cost more than the rest.)"""
    parts, position = [], 0
    for match in _URL.finditer(block):
        if not (match.group(0) + "/").startswith(base + "/"):
            continue
        url = escape(match.group(0))
        parts += [escape(block[position:match.start()]), f'<a href="{url}">{url}</a>']
        position = match.end()
    parts.append(escape(block[position:]))
    return Markup("".join(parts).replace("\n", "<br>\n"))


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Take a message for sending; two senders never both get it."""
    free = (OutboxMessage.status == "queued") | (
        (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now))
    return (OutboxMessage.update(status="sending", claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                                 attempts=OutboxMessage.attempts + 1)
            .where((OutboxMessage.id == message_id) & free & (OutboxMessage.next_attempt_at <= now))
            .execute()) == 1


def due_ids(limit: int = 100, ids: list[int] | None = None) -> list[int]:
    now = clock.now()
    query = (OutboxMessage.select(OutboxMessage.id)
             .where((OutboxMessage.next_attempt_at <= now)
                    & ((OutboxMessage.status == "queued")
                       | ((OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now))))
             .order_by(OutboxMessage.next_attempt_at).limit(limit))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    return [row.id for row in query]


def deliver(send, ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Send due messages with send(message); returns (sent, not sent). Retries back off up to MAX_ATTEMPTS."""
    sent = failed = 0
    for message_id in due_ids(limit, ids):
        if not _claim(message_id, clock.now()):
            continue
        message = OutboxMessage.get_by_id(message_id)
        try:
            send(message)
        except Exception as exc:  # any transport failure: keep the mail and try later
            failed += 1
            _failed(message, exc)
            continue
        sent += 1
        # Delivered: recipient, subject and status stay for the record, the words (and any link) go.
        OutboxMessage.update(status="sent", sent_at=clock.now(), claimed_until=None, last_error=None,
                             body_text=None, body_html=None).where(OutboxMessage.id == message_id).execute()
    return sent, failed


def _failed(message: OutboxMessage, exc: Exception) -> None:
    current_app.logger.warning("mail %s to outbox id %s not sent: %s", message.subject, message.id,
                               type(exc).__name__)
    final = message.attempts >= MAX_ATTEMPTS
    delay = dt.timedelta(minutes=min(2 ** message.attempts, 360))
    OutboxMessage.update(status="failed" if final else "queued", claimed_until=None,
                         next_attempt_at=clock.now() + delay, last_error=f"{type(exc).__name__}: {exc}"[:1000]).where(
        OutboxMessage.id == message.id).execute()


def counts() -> dict[str, int]:
    rows = OutboxMessage.select(OutboxMessage.status, fn.COUNT(OutboxMessage.id).alias("n")).group_by(
        OutboxMessage.status)
    return {row.status: row.n for row in rows}
