"""Profile: details, e-mail change confirmed from the new address, password change with the current one."""
import re

import pytest

from portal.models import LoginSession, OutboxMessage, User
from tests import helpers

CONFIRM = re.compile(r"http://portal\.example\.test/profile/email/([A-Za-z0-9_-]+)")


@pytest.fixture
def signed_in(client, user):
    client.totp_secret = helpers.enroll(client)
    return client


@pytest.fixture
def fresh_code(signed_in, clock):
    """The authenticator's code of a new time step (each step is accepted once)."""
    def code():
        clock.advance(seconds=30)
        return helpers.code_now(signed_in.totp_secret)
    return code


def test_profile_shows_the_facts(signed_in):
    html = signed_in.get("/profile").data.decode()
    for text in ("jdoe", "ACME Components", "jdoe@acme.example", "Valid Until", "Last sign-in", "Mar 16, 2027"):
        assert text in html


def test_the_time_zone_choice_offers_the_companys_zone_first_and_marks_the_persons_own(signed_in, user):
    def zone_select() -> str:
        return re.search(r'<select[^>]*name="time_zone".*?</select>', signed_in.get("/profile").data.decode(), re.S).group(0)

    options = re.findall(r"<option[^>]*>[^<]*</option>", zone_select())
    assert options[0] == '<option selected value="">As my company (UTC)</option>'  # no zone of their own yet
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in options and len(options) > 400
    with helpers.context():
        User.update(time_zone="Europe/Berlin").where(User.id == user.id).execute()
    options = re.findall(r"<option[^>]*>[^<]*</option>", zone_select())
    assert options[0] == '<option value="">As my company (UTC)</option>'
    assert [o for o in options if "selected" in o] == ['<option selected value="Europe/Berlin">Europe/Berlin</option>']


def test_details_can_be_changed(signed_in, user):
    response = helpers.post_form(signed_in, "/profile", {"first_name": "Janet", "last_name": "Doe-Smith",
                                                         "phone": "+49 711 123-45"})
    assert response.status_code == 303
    saved = User.get_by_id(user.id)
    assert (saved.first_name, saved.last_name, saved.phone) == ("Janet", "Doe-Smith", "+49 711 123-45")


def test_role_and_company_cannot_be_changed_through_the_form(signed_in, user):
    helpers.post_form(signed_in, "/profile", {"first_name": "Jane", "last_name": "Doe", "phone": "",
                                              "role": "service-center", "company": "99", "user_id": "root"})
    saved = User.get_by_id(user.id)
    assert (saved.role, saved.company_id, saved.user_id) == ("user", user.company_id, "jdoe")


def test_bad_phone_is_refused_with_a_message(signed_in):
    response = helpers.post_form(signed_in, "/profile", {"first_name": "J", "last_name": "D", "phone": "<script>"})
    assert "Enter a phone number with digits" in response.data.decode()


def test_email_change_takes_effect_only_when_confirmed(app, signed_in, user, fresh_code):
    response = helpers.post_form(signed_in, "/profile/email", {"email": "jane.new@acme.example",
                                                               "current_password": helpers.PASSWORD,
                                                               "code": fresh_code()},
                                 token_from="/profile")
    assert response.status_code == 303
    assert User.get_by_id(user.id).email == "jdoe@acme.example"
    to_new = OutboxMessage.get(OutboxMessage.to_address == "jane.new@acme.example")
    to_old = OutboxMessage.get(OutboxMessage.subject.contains("change of your e-mail address"))
    assert "jane.new@acme.example" in helpers.mail_text(to_old)
    token = CONFIRM.search(helpers.mail_text(to_new)).group(1)
    mailbox = app.test_client()  # the link is opened wherever the new mailbox is read
    assert mailbox.get(f"/profile/email/{token}").status_code == 200
    assert User.get_by_id(user.id).email == "jdoe@acme.example"  # a GET changes nothing
    helpers.post_form(mailbox, f"/profile/email/{token}", {})
    saved = User.get_by_id(user.id)
    assert saved.email == "jane.new@acme.example" and saved.email_key == "jane.new@acme.example"
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("address was changed")).exists()
    assert mailbox.get(f"/profile/email/{token}").status_code == 410  # used once


def test_email_change_needs_the_current_password_and_a_code(signed_in, user, fresh_code):
    response = helpers.post_form(signed_in, "/profile/email", {"email": "x@acme.example", "current_password": "wrong",
                                                               "code": fresh_code()}, token_from="/profile")
    assert "The current password is not correct." in response.data.decode()
    response = helpers.post_form(signed_in, "/profile/email", {"email": "x@acme.example",
                                                               "current_password": helpers.PASSWORD, "code": ""},
                                 token_from="/profile")
    assert "Enter the 6-digit code." in response.data.decode()
    response = helpers.post_form(signed_in, "/profile/email", {"email": "x@acme.example",
                                                               "current_password": helpers.PASSWORD,
                                                               "code": "000000"}, token_from="/profile")
    assert "That code is not correct." in response.data.decode()
    assert OutboxMessage.select().where(OutboxMessage.to_address == "x@acme.example").count() == 0


def test_password_change_needs_the_current_password_and_a_code_and_ends_other_sessions(app, signed_in, user,
                                                                                       fresh_code):
    other = app.test_client()
    wrong = helpers.post_form(signed_in, "/profile/password", {"current_password": "nope", "code": fresh_code(),
                                                               "password": "Brand-New-Harbor-77",
                                                               "confirm": "Brand-New-Harbor-77"})
    assert "The current password is not correct." in wrong.data.decode()
    helpers.enter_password(other)  # a pending sign-in elsewhere
    response = helpers.post_form(signed_in, "/profile/password", {"current_password": helpers.PASSWORD,
                                                                  "code": fresh_code(),
                                                                  "password": "Brand-New-Harbor-77",
                                                                  "confirm": "Brand-New-Harbor-77"})
    assert response.status_code == 303
    assert signed_in.get("/").status_code == 200
    assert LoginSession.select().count() == 1


def test_weak_new_password_is_refused(signed_in, fresh_code):
    response = helpers.post_form(signed_in, "/profile/password", {"current_password": helpers.PASSWORD,
                                                                  "code": fresh_code(),
                                                                  "password": "jdoe1234", "confirm": "jdoe1234"})
    assert "too easy to guess" in response.data.decode()
