"""One source for each rule: change a setting, and every page, mail, query and job that speaks of it follows."""
import datetime as dt
import re

import pytest

from portal.models import ContactPerson, LoginSession, OutboxMessage, Token, User
from tests import helpers


def last_mail(to: str) -> str:
    return helpers.mail_text(OutboxMessage.select().where(OutboxMessage.to_address == to)
                             .order_by(OutboxMessage.id.desc()).get())


@pytest.fixture
def admin_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", email="boss@acme.example")
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


@pytest.mark.parametrize("app_config", [{"EXPIRY_NOTICE_DAYS": 45}])
def test_the_expiry_notice_period_is_one_setting_everywhere(app, admin_client, company, clock):
    from portal.services import lifecycle

    today = clock.current.date()
    helpers.make_user(company, "in40", valid_until=today + dt.timedelta(days=40))
    helpers.make_user(company, "in50", valid_until=today + dt.timedelta(days=50))
    listed = admin_client.get("/admin/users?status=expiring").data.decode()
    assert "Expiring within 45 days" in listed and ">in40<" in listed and ">in50<" not in listed
    assert "1 user expiring within 45 days" in admin_client.get("/").data.decode()
    with helpers.context():
        lifecycle.run()
    digest = last_mail("boss@acme.example")
    assert "within the next 45 days" in digest and "in40" in digest and "in50" not in digest
    assert 'filter "Expiring within 45 days"' in digest and "/admin/users?status=expiring" in digest


@pytest.mark.parametrize("app_config", [{"SESSION_IDLE_SECONDS": 120}])
def test_the_idle_timeout_is_one_rule_for_requests_and_the_clean_up(app, company, clock):
    from portal.services import lifecycle

    helpers.make_user(company, "busy")
    helpers.make_user(company, "idle")
    busy, idle = app.test_client(), app.test_client()
    helpers.enroll(busy, "busy")
    helpers.enroll(idle, "idle")
    clock.advance(seconds=100)
    assert busy.get("/").status_code == 200  # seen again
    clock.advance(seconds=30)  # idle for 130 s, busy for 30 s
    with helpers.context():
        lifecycle.purge_stale(clock.current)
    assert [s.user.user_id for s in LoginSession.select()] == ["busy"]  # the job used the requests' rule
    assert busy.get("/").status_code == 200 and idle.get("/").status_code == 303


LIFETIMES = {"RECOVERY_LINK_MINUTES": 20, "NEW_PASSWORD_LINK_MINUTES": 25, "ADMIN_RESET_LINK_HOURS": 3,
             "EMAIL_CHANGE_LINK_HOURS": 6, "WELCOME_LINK_HOURS": 5, "CONTACT_LINK_DAYS": 2}


@pytest.mark.parametrize("app_config", [LIFETIMES])
def test_link_lifetimes_are_settings_that_pages_mails_and_links_follow(app, admin_client, company, clock):
    from portal.services import contacts

    assert "(valid 5 hours)" in admin_client.get("/admin/new-user").data.decode()
    assert "(valid 2 days)" in admin_client.get("/admin/new-contact").data.decode()
    helpers.make_user(company, "jdoe")
    confirm = helpers.post_form(admin_client, "/admin/users/jdoe/send-password-reset", {},
                                token_from="/admin/users/jdoe").data.decode()
    assert "(valid 3 hours)" in confirm

    def expires_in(purpose: str) -> dt.timedelta:
        token = Token.select().where(Token.purpose == purpose).order_by(Token.id.desc()).get()
        return token.expires_at - token.created_at

    helpers.post_form(admin_client, "/admin/users/jdoe/send-password-reset", {"confirmed": "yes"},
                      token_from="/admin/users/jdoe")
    assert "for 3 hours" in last_mail("jdoe@acme.example") and expires_in("password_reset") == dt.timedelta(hours=3)
    helpers.post_form(app.test_client(), "/new-password", {"user_id": "jdoe"})
    assert "for 25 minutes" in last_mail("jdoe@acme.example")
    assert expires_in("password_reset") == dt.timedelta(minutes=25)
    with helpers.context():
        boss = User.get(User.user_id == "boss")
        from portal.services import admin
        admin.create_user(boss, {"user_id": "newbie", "email": "newbie@acme.example", "first_name": "N",
                                 "last_name": "B"})
        contacts.create(boss, {"first_name": "C", "last_name": "P", "email": "cp@acme.example"})
    assert "for 5 hours" in last_mail("newbie@acme.example") and expires_in("welcome") == dt.timedelta(hours=5)
    assert "(2 days)" in last_mail("cp@acme.example")
    contact = ContactPerson.get()
    assert contact.activation_expires_at - clock.current == dt.timedelta(days=2)

    jdoe = app.test_client()
    secret = helpers.enroll(jdoe)
    clock.advance(seconds=30)
    helpers.post_form(jdoe, "/profile/email", {"email": "jane@acme.example", "current_password": helpers.PASSWORD,
                                               "code": helpers.code_now(secret)}, token_from="/profile")
    assert "for 6 hours" in last_mail("jane@acme.example") and expires_in("email_change") == dt.timedelta(hours=6)
    helpers.post_form(jdoe, "/sign-out", {}, token_from="/")
    helpers.enter_password(jdoe)
    sent = helpers.post_form(jdoe, "/sign-in/lost-device", {}, token_from="/sign-in/verify")
    assert "within 20 minutes" in jdoe.get(sent.headers["Location"]).data.decode()
    assert "for 20 minutes" in last_mail("jdoe@acme.example") and expires_in("recovery") == dt.timedelta(minutes=20)
    clock.advance(minutes=21)
    token = re.search(r"/recover/([A-Za-z0-9_-]+)", last_mail("jdoe@acme.example")).group(1)
    assert "for 20 minutes" in jdoe.get(f"/recover/{token}").data.decode()  # the expired link says so too
