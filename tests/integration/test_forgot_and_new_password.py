"""Forgot ID and New Password: the same page whatever the input; the truth goes only to the registered address."""
import re

from portal.models import LoginSession, OutboxMessage, User
from tests import helpers

RESET = re.compile(r"http://portal\.example\.test/new-password/([A-Za-z0-9_-]+)")


def test_forgot_id_page_is_the_same_for_known_and_unknown_addresses(client, user):
    known = helpers.post_form(client, "/forgot-id", {"email": "jdoe@acme.example"})
    unknown = helpers.post_form(client, "/forgot-id", {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 200
    assert helpers.without_csrf(known.data) == helpers.without_csrf(unknown.data)
    assert "jdoe" not in known.data.decode()


def test_forgot_id_mails_every_user_id_of_the_address(client, company, clock):
    helpers.make_user(company, "alpha", email="Shared@ACME.example")
    helpers.make_user(company, "beta", email="shared@acme.example", active=False)
    helpers.post_form(client, "/forgot-id", {"email": "shared@acme.example"})
    [message] = OutboxMessage.select()
    assert message.to_address.lower() == "shared@acme.example"
    assert "alpha (ACME Components)" in helpers.mail_text(message) and "beta (ACME Components) - not active" in helpers.mail_text(message)


def test_forgot_id_for_an_unknown_address_sends_nothing(client, user):
    helpers.post_form(client, "/forgot-id", {"email": "nobody@acme.example"})
    assert OutboxMessage.select().count() == 0


def test_forgot_id_with_a_malformed_address_says_so(client):
    response = helpers.post_form(client, "/forgot-id", {"email": "not an address"})
    assert "not a valid e-mail address" in response.data.decode()


def test_new_password_page_is_the_same_for_every_user_id(client, company, clock):
    import datetime as dt
    helpers.make_user(company, "active1")
    helpers.make_user(company, "gone1", active=False)
    helpers.make_user(company, "old1", valid_until=clock.current.date() - dt.timedelta(days=1))
    blocked = helpers.make_user(company, "blocked1")
    User.update(password_blocked_at=clock.current).where(User.id == blocked.id).execute()
    pages = {uid: helpers.post_form(client, "/new-password", {"user_id": uid})
             for uid in ("active1", "gone1", "old1", "blocked1", "nobody1")}
    bodies = {helpers.without_csrf(r.data) for r in pages.values()}
    assert len(bodies) == 1 and all(r.status_code == 200 for r in pages.values())
    mails = {m.to_address.split("@")[0]: m for m in OutboxMessage.select()}
    assert set(mails) == {"active1", "gone1", "old1", "blocked1"}
    assert RESET.search(helpers.mail_text(mails["active1"]))
    assert "can only be reset by your Company Administrator" in helpers.mail_text(mails["blocked1"])
    assert "Service Center" in helpers.mail_text(mails["blocked1"])
    for uid in ("gone1", "old1"):
        assert "The New Password function is not applicable for this ID" in helpers.mail_text(mails[uid])
        assert not RESET.search(helpers.mail_text(mails[uid]))


def request_reset(client, user_id="jdoe"):
    helpers.post_form(client, "/new-password", {"user_id": user_id})
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    return RESET.search(helpers.mail_text(message)).group(1)


def test_reset_link_sets_a_new_password_without_signing_in(app, user, clock):
    browser = app.test_client()
    secret = helpers.enroll(browser)
    helpers.post_form(browser, "/sign-out", {}, token_from="/")
    elsewhere = app.test_client()
    helpers.sign_in(elsewhere, secret, clock_=clock)
    token = request_reset(browser)
    page = browser.get(f"/new-password/{token}")
    assert page.status_code == 200 and "jdoe" in page.data.decode()
    assert page.headers["Referrer-Policy"] == "same-origin"  # the token in the address reaches no other site
    response = helpers.post_form(browser, f"/new-password/{token}",
                                 {"password": "Brand-New-Harbor-77", "confirm": "Brand-New-Harbor-77"})
    assert response.headers["Location"] == "/sign-in"
    assert browser.get("/").status_code == 303  # not signed in
    assert elsewhere.get("/").status_code == 303  # every session ended
    assert LoginSession.select().count() == 0
    # The new password works, and the authenticator still applies.
    clock.advance(seconds=30)
    assert helpers.enter_password(browser, "jdoe", "Brand-New-Harbor-77").headers["Location"] == "/sign-in/verify"
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("password was changed")).exists()


def test_reset_link_refuses_a_weak_password_and_stays_usable(client, user):
    token = request_reset(client)
    weak = helpers.post_form(client, f"/new-password/{token}", {"password": "password1", "confirm": "password1"})
    assert "too easy to guess" in weak.data.decode()
    assert client.get(f"/new-password/{token}").status_code == 200


def test_reset_link_works_once_and_expires(client, user, clock):
    token = request_reset(client)
    helpers.post_form(client, f"/new-password/{token}", {"password": "Brand-New-Harbor-77",
                                                         "confirm": "Brand-New-Harbor-77"})
    assert client.get(f"/new-password/{token}").status_code == 410
    token = request_reset(client)
    clock.advance(minutes=16)
    assert client.get(f"/new-password/{token}").status_code == 410


def test_reset_links_come_from_the_base_url_not_the_host_header(client, user):
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    page = client.get("/new-password", headers=evil)
    response = client.post("/new-password", headers=evil,
                           data={"csrf_token": helpers.csrf_token(page.data), "user_id": "jdoe"})
    assert response.status_code == 200
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert "evil.example" not in helpers.mail_text(message) and RESET.search(helpers.mail_text(message))


def test_mismatched_repeat_is_refused(client, user):
    token = request_reset(client)
    response = helpers.post_form(client, f"/new-password/{token}", {"password": "Brand-New-Harbor-77",
                                                                    "confirm": "Brand-New-Harbor-78"})
    assert "The two passwords differ." in response.data.decode()


def test_sign_in_page_links_to_forgot_id_and_new_password(client):
    html = client.get("/sign-in").data.decode()
    assert 'href="/forgot-id">Forgot ID' in html and 'href="/new-password">New Password' in html
