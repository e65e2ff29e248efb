"""Mail: written to the outbox with the change, delivered after the response to a real SMTP server."""
import re

import pytest

from portal import mail
from portal.infrastructure import outbox
from portal.models import OutboxMessage
from tests import helpers


@pytest.fixture
def app_config(smtp):
    return smtp.config()


def test_enrollment_notice_reaches_the_smtp_server(client, user, smtp):
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "Phone",
                                         "code": helpers.code_now(secret)})
    [message] = smtp.wait_for(1)
    assert message["To"] == "jdoe@acme.example"
    assert message["Subject"] == "Portal: a new authenticator was registered"
    text = message.get_body(("plain",)).get_content()
    assert "Phone" in text and "http://portal.example.test/" in text
    assert message.get_body(("html",)) is not None
    assert OutboxMessage.get().status == "sent"


def test_smtp_down_keeps_the_mail_for_later(app, user, smtp):
    with helpers.context():
        outbox.queue("jdoe@acme.example", "test notice", "authenticator_registered", user=user,
                     device_name="X", when=user.created_at)
        smtp.stop()
        assert mail.deliver_due() == (0, 1)
        message = OutboxMessage.get()
        assert message.status == "queued" and message.attempts == 1 and "Error" in message.last_error
        smtp.start()
        assert mail.deliver_due() == (0, 0)  # backing off: not due yet
        OutboxMessage.update(next_attempt_at=message.created_at).execute()
        assert mail.deliver_due() == (1, 0)
    assert len(smtp.wait_for(1)) == 1


def test_a_message_is_sent_once_even_when_delivered_twice(app, user, smtp):
    with helpers.context():
        outbox.queue("jdoe@acme.example", "test notice", "authenticator_registered", user=user,
                     device_name="X", when=user.created_at)
        assert mail.deliver_due() == (1, 0)
        assert mail.deliver_due() == (0, 0)
    assert len(smtp.wait_for(1)) == 1


def test_header_injection_in_the_address_is_refused(app, user):
    from portal.services import ServiceError

    with helpers.context(), pytest.raises(ServiceError):
        outbox.queue("jdoe@acme.example\r\nBcc: evil@x.example", "x", "authenticator_registered", user=user,
                     device_name="X", when=user.created_at)
    assert OutboxMessage.select().count() == 0


def test_without_smtp_server_mail_is_written_as_eml(tmp_path, database_url, clock):
    from portal import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, database_url))
    helpers.APP = app
    company = helpers.make_company()
    user = helpers.make_user(company)
    with app.app_context():
        outbox.queue(user.email, "test notice", "authenticator_registered", user=user, device_name="Y",
                     when=user.created_at)
        assert mail.deliver_due() == (1, 0)
    [path] = (tmp_path / "instance" / "mail").glob("*.eml")
    assert b"jdoe@acme.example" in path.read_bytes()


def test_mail_send_command_delivers_what_waited_for_a_stopped_server(app, runner, user, smtp):
    with helpers.context():
        smtp.stop()
        outbox.queue("jdoe@acme.example", "test notice", "authenticator_registered", user=user,
                     device_name="X", when=user.created_at)
    first = runner.invoke(args=["mail", "send"])
    assert first.exit_code == 1 and "not sent 1" in first.output
    smtp.start()
    OutboxMessage.update(next_attempt_at=user.created_at).execute()
    second = runner.invoke(args=["mail", "send"])
    assert second.exit_code == 0 and "Sent 1" in second.output
    assert len(smtp.wait_for(1)) == 1


def test_after_the_last_try_a_message_is_marked_failed(app, user):
    with helpers.context():
        message = outbox.queue("jdoe@acme.example", "test notice", "authenticator_registered", user=user,
                               device_name="X", when=user.created_at)

        def refuse(_message):
            raise ConnectionRefusedError("down")
        for _ in range(outbox.MAX_ATTEMPTS):
            OutboxMessage.update(next_attempt_at=user.created_at).execute()
            outbox.deliver(refuse)
        assert OutboxMessage.get_by_id(message.id).status == "failed"
        assert outbox.counts() == {"failed": 1}


def test_background_delivery_sends_after_the_response(app, client, user, smtp):
    app.config["MAIL_DELIVERY"] = "background"
    helpers.post_form(client, "/forgot-id", {"email": "jdoe@acme.example"})
    [message] = smtp.wait_for(1)
    assert "jdoe" in message.get_body(("plain",)).get_content()
    app.extensions["portal_background_executors"]["mail"].shutdown(wait=True)
    assert OutboxMessage.get().status == "sent"


def _raw_outbox() -> list[tuple]:
    """The outbox as a database dump shows it: every column, as stored."""
    from portal.db import db

    return db.execute_sql("SELECT * FROM outbox_messages").fetchall()


def test_a_database_dump_holds_no_usable_link(app, client, user, smtp):
    """While a mail waits (the SMTP server is down) its body is encrypted; once delivered it is gone."""
    smtp.stop()
    helpers.post_form(client, "/new-password", {"user_id": "jdoe"})
    with helpers.context():
        dump = repr(_raw_outbox())
        text = helpers.mail_text(OutboxMessage.get())
    token = re.search(r"/new-password/([A-Za-z0-9_-]+)", text).group(1)
    assert token not in dump and "/new-password/" not in dump and "Jane" not in dump
    smtp.start()
    with helpers.context():
        OutboxMessage.update(next_attempt_at=OutboxMessage.created_at).execute()
        assert mail.deliver_due() == (1, 0)
        [row] = OutboxMessage.select()
        assert row.status == "sent" and row.body_text is None and row.body_html is None
        assert row.to_address == "jdoe@acme.example" and row.subject == "Portal: your link to set a new password"
    [delivered] = smtp.wait_for(1)
    assert token in delivered.get_body(("plain",)).get_content()


def test_upgrading_encrypts_waiting_mail_and_drops_delivered_bodies(app, tmp_path):
    """Migration 0007 on a database of the version before: plain bodies were readable there."""
    from playhouse.migrations import Runner

    from portal.db import MIGRATIONS_DIR, open_database

    old = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    runner = Runner(old, MIGRATIONS_DIR, table_name="schema_migrations")
    runner.up(target="0006_indexes_at_scale")
    old.execute_sql("INSERT INTO outbox_messages (created_at, to_address, subject, body_text, body_html, status, "
                    "attempts, next_attempt_at) VALUES ('2026-01-01', 'a@x.example', 's', 'link /recover/SECRET1', "
                    "NULL, 'queued', 0, '2026-01-01'), ('2026-01-01', 'b@x.example', 's', 'link /recover/SECRET2', "
                    "'<p>SECRET2</p>', 'sent', 1, '2026-01-01')")
    with app.app_context():
        runner.up()
        rows = old.execute_sql("SELECT to_address, body_text, body_html FROM outbox_messages ORDER BY id").fetchall()
        assert "SECRET" not in repr(rows)
        assert rows[1][1:] == (None, None)
        from portal.security import crypto
        assert crypto.decrypt(rows[0][1]) == "link /recover/SECRET1" and rows[0][2] is None
    old.close()


def test_rotating_the_encryption_key_re_encrypts_waiting_mail(app, runner, user, smtp):
    from cryptography.fernet import Fernet

    smtp.stop()
    with helpers.context():
        outbox.queue("jdoe@acme.example", "test notice", "authenticator_registered", user=user,
                     device_name="Old key phone", when=user.created_at)
    new_key = Fernet.generate_key().decode()
    app.config["ENCRYPTION_KEY"] = f"{new_key},{app.config['ENCRYPTION_KEY']}"
    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0 and "Re-encrypted 1 value in outbox_messages.body_text" in result.output
    assert "Re-encrypted 1 value in outbox_messages.body_html" in result.output
    app.config["ENCRYPTION_KEY"] = new_key
    assert "Old key phone" in helpers.mail_text(OutboxMessage.get())
