"""Security page: re-authentication before changing the authenticator or backup codes; sessions."""
import re

from portal.models import Authenticator, BackupCode, LoginSession, OutboxMessage
from tests import helpers


def reauthenticate(client, secret, clock):
    clock.advance(seconds=30)
    return helpers.post_form(client, "/security/confirm", {"password": helpers.PASSWORD,
                                                           "code": helpers.code_now(secret)})


def test_security_page_shows_the_authenticator_and_no_way_to_turn_mfa_off(client, user):
    helpers.enroll(client)
    html = client.get("/security").data.decode()
    assert "Work phone" in html and "10 of 10" in html and "cannot be turned off" in html
    assert "Delete OTP and register a new one" in html and "New backup codes" in html


def test_new_backup_codes_need_reauthentication(client, user, clock):
    secret = helpers.enroll(client)
    first = helpers.post_form(client, "/security/new-backup-codes", {}, token_from="/security")
    assert first.headers["Location"].startswith("/security/confirm")
    old = {b.code_hash for b in BackupCode.select()}
    page = reauthenticate(client, secret, clock).data.decode()  # the click is kept, and sent on from here
    assert 'action="/security/new-backup-codes" data-auto-submit' in page and "Continue" in page
    response = helpers.post_form(client, "/security/new-backup-codes", {}, token_from="/security")
    assert response.headers["Location"] == "/sign-in/backup-codes"
    codes = re.findall(r"<code>([^<]+)</code>", client.get("/sign-in/backup-codes").data.decode())
    assert len(codes) == 10 and not old & {b.code_hash for b in BackupCode.select()}
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("new backup codes")).exists()


def test_reauthentication_refuses_a_wrong_password_or_a_used_code(client, user, clock):
    secret = helpers.enroll(client)
    wrong = helpers.post_form(client, "/security/confirm", {"password": "nope", "code": helpers.code_now(secret, 1)})
    assert "The password is not correct." in wrong.data.decode()
    used = helpers.post_form(client, "/security/confirm", {"password": helpers.PASSWORD,
                                                           "code": helpers.code_now(secret)})
    assert "already been used" in used.data.decode()


def test_reauthentication_lasts_ten_minutes(client, user, clock):
    secret = helpers.enroll(client)
    reauthenticate(client, secret, clock)
    clock.advance(minutes=11)
    response = helpers.post_form(client, "/security/new-backup-codes", {}, token_from="/security")
    assert response.headers["Location"].startswith("/security/confirm")


def test_delete_otp_starts_enrollment_at_once_and_ends_other_sessions(app, client, user, clock):
    secret = helpers.enroll(client)
    other = app.test_client()
    helpers.sign_in(other, secret, clock_=clock)
    reauthenticate(client, secret, clock)
    confirm = helpers.post_form(client, "/security/replace-authenticator", {}, token_from="/security")
    assert confirm.status_code == 200 and "Delete OTP and register a new one: your authenticator?" in confirm.data.decode()
    assert Authenticator.select().count() == 1  # asked first: nothing deleted yet
    response = helpers.post_form(client, "/security/replace-authenticator", {"confirmed": "yes"},
                                 token_from="/security")
    assert response.headers["Location"] == "/sign-in/enroll"
    assert Authenticator.select().count() == 0 and BackupCode.select().count() == 0
    assert other.get("/").status_code == 303
    assert client.get("/").status_code == 303  # only enrollment is possible now
    page = client.get("/sign-in/enroll").data.decode()
    new_secret = helpers.KEY.search(page).group(1).replace(" ", "")
    assert new_secret != secret
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("authenticator was deleted")).exists()


def test_sessions_page_lists_and_ends_sessions(app, client, user, clock):
    secret = helpers.enroll(client)
    other = app.test_client()
    helpers.sign_in(other, secret, clock_=clock)
    html = client.get("/sessions").data.decode()
    assert "this session" in html and html.count("<li>") == 2
    other_id = LoginSession.select().order_by(LoginSession.id.desc()).get().id
    helpers.post_form(client, f"/sessions/{other_id}/end", {}, token_from="/sessions")
    assert other.get("/").status_code == 303 and client.get("/").status_code == 200


def test_sign_out_everywhere_else(app, client, user, clock):
    secret = helpers.enroll(client)
    others = [app.test_client() for _ in range(2)]
    for other in others:
        helpers.sign_in(other, secret, clock_=clock)
    helpers.post_form(client, "/sessions/end-others", {}, token_from="/sessions")
    assert all(o.get("/").status_code == 303 for o in others)
    assert client.get("/").status_code == 200


def test_a_session_of_another_user_cannot_be_ended(app, client, company, user, clock):
    helpers.make_user(company, "victim")
    victim = app.test_client()
    helpers.enroll(victim, "victim")
    victim_session = LoginSession.get(LoginSession.user == LoginSession.user.rel_model.get(user_id="victim").id)
    helpers.enroll(client)
    helpers.post_form(client, f"/sessions/{victim_session.id}/end", {}, token_from="/sessions")
    assert victim.get("/").status_code == 200


def test_sessions_are_named_in_words_this_one_first(app, client, user, clock):
    secret = helpers.enroll(client)
    phone = app.test_client()
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.5 Mobile/15E148 Safari/604.1")
    clock.advance(seconds=30)
    helpers.enter_password(phone, headers={"User-Agent": iphone})
    helpers.post_form(phone, "/sign-in/verify", {"code": helpers.code_now(secret)})
    clock.advance(minutes=2)
    phone.get("/")  # seen more recently than this browser
    page = client.get("/sessions").data.decode()
    assert "Mobile Safari 17 on iOS 17 (iPhone)" in page and "Unknown browser" in page
    assert page.index("this session") < page.index("Mobile Safari 17")
