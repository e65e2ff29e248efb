"""The mail outbox: a mail is a row written with the change that causes it, delivered after commit."""
from __future__ import annotations

import re

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal import clock, i18n
from portal.infrastructure import queue as durable_queue
from portal.models import ROLE_COMPANY_ADMIN, OutboxMessage
from portal.security import crypto
from portal.services import ServiceError

_URL = re.compile(r"https?://[^\s<>\"']+")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")  # never in a header, nor in a name
MAX_ATTEMPTS = durable_queue.MAX_ATTEMPTS


def one_bare_address(email: str) -> bool:
    return bool(email) and not any(c in email for c in ",;<>\"\r\n") and not CONTROL_CHARACTERS.search(email)


def plain_address(email: str) -> str:
    """One bare address: no display name, no list, nothing that could break out of a mail header.

    The check for every recipient at the moment a mail is written (email_validator's full check took a
    fifth of the lifecycle job's time); addresses are validated and normalized by clean_email when saved."""
    email = (email or "").strip()
    local, _at, domain = email.partition("@")
    if not one_bare_address(email) or not local or not domain or "@" in domain or " " in email:
        raise ServiceError(_("Enter one e-mail address, such as name@example.com."), "email")
    return email


def render(to: str, subject: str, template: str, notice: bool = False, reader=None, **context) -> dict:
    """The outbox row for email/<template>.txt and its HTML twin, in the language and time zone of its reader
    (the `user` it is for, else the `contact` person, unless `reader` says who; the subject is lazy for this).
    Account notices (lifecycle) get a subject prefix of their own, so that nobody takes them for the
    notifications people configure themselves. Bodies are stored encrypted: a mail may hold a live link, and a
    database dump must not."""
    product = current_app.config["PRODUCT_NAME"]
    context.setdefault("user", None)
    with i18n.speaking_to(reader or context["user"] or context.get("contact")):
        subject = (_("%(product)s account notice: %(subject)s", product=product, subject=subject) if notice
                   else _("%(product)s: %(subject)s", product=product, subject=subject))
        context.setdefault("helper", who_helps(context["user"], product))
        text = _render(f"email/{template}.txt", product=product, base_url=current_app.config["BASE_URL"], **context)
        html = _html_twin(subject, text)
    return {"to_address": plain_address(to), "subject": subject, "body_text": crypto.encrypt(text),
            "body_html": crypto.encrypt(html), "created_at": clock.now(),
            "next_attempt_at": clock.now()}


def who_helps(user, product: str) -> str:
    """Whom a mail tells its reader to turn to: a Company Administrator is not told to ask themselves."""
    if user is not None and getattr(user, "role", None) == ROLE_COMPANY_ADMIN:
        return _("another Company Administrator of your company (or, if there is none, the %(product)s Service "
                 "Center)", product=product)
    return _("your Company Administrator")


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


def due_ids(limit: int = 100, ids: list[int] | None = None) -> list[int]:
    return durable_queue.due_ids(OutboxMessage, limit, ids)


def deliver(send, ids: list[int] | None = None, limit: int = 100) -> tuple[int, int]:
    """Send due messages with send(message); returns (sent, not sent). Retries back off up to MAX_ATTEMPTS."""
    # Delivered: recipient, subject and status stay for the record, the words (and any link) go.
    return durable_queue.deliver(OutboxMessage, send, "mail", ids, limit, when_sent={"body_text": None,
                                                                                  "body_html": None})


def counts() -> dict[str, int]:
    return durable_queue.counts(OutboxMessage)
