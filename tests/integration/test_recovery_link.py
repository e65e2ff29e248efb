"""Lost device: a recovery link by mail leads to registering a new authenticator."""
import re

import pytest

from portal.models import Authenticator, BackupCode, LoginSession, OutboxMessage, Token
from tests import helpers

LINK = re.compile(r"http://portal\.example\.test/recover/([A-Za-z0-9_-]+)")


def ask_for_link(client):
    helpers.enter_password(client)
    response = helpers.post_form(client, "/sign-in/lost-device", {}, token_from="/sign-in/verify")
    assert response.status_code == 303  # a reload of the next page sends nothing again
    assert "Check your e-mail" in client.get(response.headers["Location"]).data.decode()
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    return LINK.search(helpers.mail_text(message)).group(1)


@pytest.fixture
def enrolled(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    clock.advance(seconds=30)
    return client, secret


def test_link_is_mailed_to_the_address_on_the_id_and_built_from_the_base_url(enrolled):
    client, _ = enrolled
    token = ask_for_link(client)
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert message.to_address == "jdoe@acme.example" and "15 minutes" in helpers.mail_text(message)
    assert Token.get().token_hash != token and len(token) >= 22  # at least 128 bits, stored hashed


def test_following_the_link_removes_the_old_authenticator_and_starts_enrollment(app, enrolled, clock):
    client, secret = enrolled
    other = app.test_client()
    helpers.sign_in(other, secret, clock_=clock)  # another session of the same user, elsewhere
    assert other.get("/").status_code == 200
    token = ask_for_link(client)
    page = client.get(f"/recover/{token}")
    assert page.status_code == 200 and "Password" not in page.data.decode()  # same browser: no password again
    assert Authenticator.select().count() == 1  # a GET changes nothing
    response = helpers.post_form(client, f"/recover/{token}", {})
    assert response.headers["Location"] == "/sign-in/enroll"
    assert Authenticator.select().count() == 0 and BackupCode.select().count() == 0
    assert LoginSession.get().stage == "pending"
    assert "register" in client.get("/sign-in/enroll").data.decode().lower()
    assert other.get("/").status_code == 303
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("removed with a recovery link")).exists()


def test_the_link_works_once(enrolled):
    client, _ = enrolled
    token = ask_for_link(client)
    helpers.post_form(client, f"/recover/{token}", {})
    again = client.get(f"/recover/{token}")
    assert again.status_code == 410 and "cannot be used" in again.data.decode()


def test_the_link_expires_after_15_minutes(enrolled, clock):
    client, _ = enrolled
    token = ask_for_link(client)
    clock.advance(minutes=15, seconds=1)
    assert client.get(f"/recover/{token}").status_code == 410


def test_a_newer_link_supersedes_the_older(enrolled):
    client, _ = enrolled
    first = ask_for_link(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/sign-in/verify")
    second = ask_for_link(client)
    assert client.get(f"/recover/{first}").status_code == 410
    assert client.get(f"/recover/{second}").status_code == 200


def test_another_browser_must_enter_the_password(app, enrolled):
    client, _ = enrolled
    token = ask_for_link(client)
    phone = app.test_client()
    page = phone.get(f"/recover/{token}").data.decode()
    assert '<label for="password">Password</label>' in page
    wrong = helpers.post_form(phone, f"/recover/{token}", {"password": "Wrong-Lantern-Harbor-93"})
    assert "incorrect" in wrong.data.decode() and Authenticator.select().count() == 1
    right = helpers.post_form(phone, f"/recover/{token}", {"password": helpers.PASSWORD})
    assert right.headers["Location"] == "/sign-in/enroll"


def test_a_token_for_another_purpose_is_refused(app, enrolled):
    client, _ = enrolled
    helpers.post_form(client, "/new-password", {"user_id": "jdoe"})
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    reset_token = re.search(r"/new-password/([A-Za-z0-9_-]+)", helpers.mail_text(message)).group(1)
    assert client.get(f"/recover/{reset_token}").status_code == 410


def test_a_token_recovers_only_the_user_it_was_sent_for(app, enrolled, company):
    client, _ = enrolled
    helpers.make_user(company, "other")
    other_client = app.test_client()
    helpers.enroll(other_client, "other")
    helpers.post_form(other_client, "/sign-out", {}, token_from="/")
    token = ask_for_link(client)  # jdoe's link, opened in the browser where "other" is half signed in
    helpers.enter_password(other_client, "other")
    page = other_client.get(f"/recover/{token}").data.decode()
    assert "jdoe" in page and '<label for="password">Password</label>' in page
    helpers.post_form(other_client, f"/recover/{token}", {"password": helpers.PASSWORD})
    owners = {a.user.user_id for a in Authenticator.select()}
    assert owners == {"other"}


def test_recovery_then_new_enrollment_signs_in(enrolled):
    client, _ = enrolled
    token = ask_for_link(client)
    helpers.post_form(client, f"/recover/{token}", {})
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    response = client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "New phone",
                                                     "code": helpers.code_now(secret)})
    assert response.headers["Location"] == "/sign-in/backup-codes"
    assert Authenticator.get().device_name == "New phone"


def test_the_sent_page_needs_a_sent_link(enrolled):
    client, _ = enrolled
    helpers.enter_password(client)
    assert client.get("/sign-in/lost-device").headers["Location"] == "/sign-in/verify"
