"""Lockout: ten wrong passwords block the password; ten wrong codes rest the code step for 15 minutes."""
import re

from portal.models import AuditEvent, OutboxMessage, User
from portal.services.signin import INVALID
from tests import helpers


def test_ten_wrong_passwords_block_the_password(client, user):
    for _ in range(10):
        assert str(INVALID) in helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93").data.decode()
    assert User.get_by_id(user.id).password_blocked_at is not None
    # The right password no longer works, and the page says nothing more than for any failure.
    response = helpers.enter_password(client)
    assert response.status_code == 200 and str(INVALID) in response.data.decode()
    [mail] = OutboxMessage.select().where(OutboxMessage.subject.contains("blocked"))
    assert "can only be reset by your Company Administrator" in helpers.mail_text(mail)
    assert AuditEvent.select().where(AuditEvent.event == "password.blocked").count() == 1


def test_a_correct_password_in_between_resets_the_count(client, user):
    for _ in range(9):
        helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93")
    helpers.enter_password(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/sign-in/enroll")
    helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93")
    assert User.get_by_id(user.id).password_blocked_at is None


def test_blocked_password_cannot_be_reset_by_its_owner(client, user, clock):
    User.update(password_blocked_at=clock.current).where(User.id == user.id).execute()
    helpers.post_form(client, "/new-password", {"user_id": "jdoe"})
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert "/new-password/" not in helpers.mail_text(message)


def test_ten_wrong_codes_in_a_row_block_the_code_step_for_15_minutes(client, user, clock):
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    for _ in range(2):  # two sign-ins of five wrong codes each
        clock.advance(seconds=30)
        helpers.enter_password(client)
        for _ in range(5):
            helpers.post_form(client, "/sign-in/verify", {"code": "000000"}, token_from="/sign-in/verify")
    assert User.get_by_id(user.id).code_blocked_until is not None
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("too many wrong codes")).count() == 1
    helpers.enter_password(client)
    refused = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert refused.headers["Location"] == "/sign-in"
    assert re.search(r"You can try again after 9:\d\d\u202fAM UTC\.", client.get("/sign-in").data.decode())
    clock.advance(minutes=16)
    helpers.sign_in(client, secret, clock_=clock)
    assert client.get("/").status_code == 200
