"""Mail: written to the outbox with the change, delivered after the response to a real SMTP server."""
import pytest

from portal import mail
from portal.models import OutboxMessage
from portal.services import outbox
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
