"""Mail transport: Flask-Mail over SMTP, or .eml files in the instance folder when no server is set."""
from __future__ import annotations

import os
import re
import smtplib

import click
from flask import current_app, g
from flask_mail import Connection, Message

from portal import background
from portal.extensions import mail
from portal.infrastructure import outbox
from portal.models import OutboxMessage

_LINK = re.compile(r"https?://\S+")


class _TimedConnection(Connection):
    """Flask-Mail's SMTP connection with a timeout, so a hung server cannot hold a worker forever."""

    def configure_host(self):
        settings = self.mail
        smtp_class = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
        host = smtp_class(settings.server, settings.port, timeout=current_app.config["MAIL_TIMEOUT"])
        if settings.use_tls:
            host.starttls()
        if settings.username and settings.password:
            host.login(settings.username, settings.password)
        return host


def send(message: OutboxMessage) -> None:
    """Send one outbox message now; raises when the transport fails."""
    text, html = outbox.bodies(message)
    msg = Message(subject=message.subject, recipients=[message.to_address], body=text, html=html,
                  sender=current_app.config["MAIL_DEFAULT_SENDER"])
    if current_app.config.get("MAIL_SERVER"):
        with _TimedConnection(current_app.extensions["mail"]) as connection:
            connection.send(msg)
        return
    directory = current_app.config["MAIL_DIR"]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{message.id:08d}.eml")
    with open(path, "wb") as fh:
        fh.write(msg.as_bytes())
    current_app.logger.info("mail %s written to %s", message.id, path)
    if current_app.config["ENV"] != "production":
        # For whoever tries Portal out: the mail's links on the console, never in a log (they are live tokens).
        links = [link for link in _LINK.findall(text) if link.rstrip("/") != current_app.config["BASE_URL"]]
        click.echo(f"Mail to {message.to_address}: {message.subject}" + "".join(f"\n  {link}" for link in links),
                   err=True)


def deliver_due(limit: int = 100, ids: list[int] | None = None) -> tuple[int, int]:
    return outbox.deliver(send, ids=ids, limit=limit)


def init_app(app) -> None:
    mail.init_app(app)

    @app.after_request
    def _deliver_after_commit(response):
        # The services have committed by now. Mail leaves on a worker thread, so a request that mails costs
        # the person no waiting and shows no timing difference (Forgot ID, New Password); a response's
        # close() is not relied on, as some servers skip it when the browser drops the connection.
        ids = g.pop("outbox_ids", None)
        if ids:
            background.after_response(app, app.config["MAIL_DELIVERY"], lambda: deliver_due(ids=ids), "mail")
        return response
