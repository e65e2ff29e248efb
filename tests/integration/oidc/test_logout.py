"""Signing out: RP-initiated logout ends the Portal session; whenever a Portal session ends, each application
it signed in to that registered a back-channel logout URI gets a signed logout token, through a durable queue."""
import logging

import pytest
from joserfc import jwt

from portal.models import AuditEvent, LoginSession
from portal.models_oidc import BackchannelLogout
from portal.services import backchannel, sessions
from portal.web import RedactLinkTokens
from tests import helpers
from tests.oidc import Browser, Receiver
from tests.security.test_races import in_parallel

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
AFTER_LOGOUT = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def receiver():
    server = Receiver()
    server.start()
    yield server
    server.stop()
    server.close()


def test_rp_initiated_logout_with_an_id_token_ends_the_portal_session(portal, person, browser):
    app = portal.register(post_logout_redirect_uri=AFTER_LOGOUT)
    token = app.exchange(app.sign_in(browser, person[1]).code)
    logout_url = app.metadata["end_session_endpoint"] + "?" + "&".join([
        f"id_token_hint={token['id_token']}", f"post_logout_redirect_uri={AFTER_LOGOUT}", "state=bye"])
    response = browser.go(logout_url)
    assert response.url == AFTER_LOGOUT + "?state=bye"
    assert LoginSession.select().count() == 0
    assert browser.go("/").url.startswith(portal.url + "/sign-in")
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    # gunicorn's access log line of that request (a dict of atoms), as the filter on gunicorn.access leaves it
    line = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(r)s", ({"r": f"GET {logout_url} HTTP/1.1"},),
                             None)
    RedactLinkTokens().filter(line)
    assert "/oidc/logout?id_token_hint=[redacted]&" in line.getMessage() and token["id_token"] not in line.getMessage()


def test_unregistered_post_logout_redirect_uri_is_not_followed(portal, person, browser):
    app = portal.register(post_logout_redirect_uri=AFTER_LOGOUT)
    token = app.exchange(app.sign_in(browser, person[1]).code)
    response = browser.go(f"/oidc/logout?id_token_hint={token['id_token']}"
                          "&post_logout_redirect_uri=https://evil.example/")
    assert response.url.startswith(portal.url + "/sign-in") and "You have been signed out" in response.text


def test_logout_without_an_id_token_asks_first(portal, person, browser):
    app = portal.register(post_logout_redirect_uri=AFTER_LOGOUT)
    app.sign_in(browser, person[1])
    page = browser.go(f"/oidc/logout?client_id={app.client_id}&post_logout_redirect_uri={AFTER_LOGOUT}")
    assert "Sign out of Portal?" in page.text and LoginSession.select().count() == 1  # a link alone ends nothing
    response = browser.http.post(page.url, data={"confirm": "yes"}, allow_redirects=False)
    assert response.status_code == 400 and LoginSession.select().count() == 1  # our form needs its CSRF token
    page = browser.submit(page, confirm="yes")
    assert LoginSession.select().count() == 0 and "You have been signed out" in page.text


def test_id_token_of_another_session_asks_first(portal, person, browser, clock):
    app = portal.register()
    token = app.exchange(app.sign_in(browser, person[1]).code)
    clock.advance(seconds=30)
    other = Browser(portal)  # the same person on another device
    app.sign_in(other, person[1])
    page = other.go(f"/oidc/logout?id_token_hint={token['id_token']}")
    assert "Sign out of Portal?" in page.text and LoginSession.select().count() == 2


def _claims_of(app, logout_token: str) -> dict:
    token = jwt.decode(logout_token, app.jwks(), algorithms=["RS256"])
    assert token.header["typ"] == "logout+jwt"
    return token.claims


def test_administrator_deactivating_the_user_sends_a_logout_token(portal, person, browser, receiver, clock):
    helpers.make_user(person[0].company, "boss", role="company-admin")
    admin = portal.app.test_client()
    helpers.enroll(admin, "boss")
    app = portal.register(backchannel_logout_uri=receiver.url)
    claims = app.verify(app.exchange(app.sign_in(browser, person[1]).code)["id_token"])
    helpers.post_form(admin, "/admin/users/jdoe/deactivate", {"confirmed": "yes"}, token_from="/admin/users/jdoe")
    [logout_token] = receiver.wait_for(1)
    logout = _claims_of(app, logout_token)
    assert logout["iss"] == portal.url and logout["aud"] == app.client_id
    assert logout["sub"] == claims["sub"] and logout["sid"] == claims["sid"]
    assert logout["events"] == {LOGOUT_EVENT: {}} and "nonce" not in logout and logout["jti"]
    assert logout["exp"] > logout["iat"]
    assert BackchannelLogout.get().status == "sent"
    assert AuditEvent.select().where(AuditEvent.event == "oidc.backchannel_logout_delivered").count() == 1


def test_logout_token_waits_for_an_application_that_is_down(portal, person, browser, clock):
    port = helpers.free_port()
    app = portal.register(backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel-logout")
    app.sign_in(browser, person[1])
    page = browser.go("/")
    browser.go("/sign-out", "POST", {"csrf_token": helpers.csrf_token(page.text)})  # Portal's own Sign out
    row = BackchannelLogout.get()
    assert row.status == "queued" and row.attempts == 1 and "ConnectionError" in row.last_error
    assert AuditEvent.select().where(AuditEvent.event == "oidc.backchannel_logout_failed").count() == 1
    receiver = Receiver(port)
    receiver.start()
    try:
        runner = portal.app.test_cli_runner()
        assert "Sent 0" in runner.invoke(args=["backchannel", "send"]).output  # not due yet: it backs off
        clock.advance(minutes=3)
        result = runner.invoke(args=["backchannel", "send"])
        assert result.exit_code == 0 and "Sent 1, not sent 0" in result.output
        [logout_token] = receiver.wait_for(1)
        assert _claims_of(app, logout_token)["aud"] == app.client_id
        assert BackchannelLogout.get().status == "sent"
    finally:
        receiver.stop()
        receiver.close()


def test_applications_without_a_logout_uri_are_not_queued(portal, person, browser):
    app = portal.register()
    app.sign_in(browser, person[1])
    page = browser.go("/")
    browser.go("/sign-out", "POST", {"csrf_token": helpers.csrf_token(page.text)})
    assert LoginSession.select().count() == 0 and BackchannelLogout.select().count() == 0


def test_two_senders_at_once_send_each_logout_token_once(portal, person, browser, receiver):
    """`portal backchannel send` from cron while the after-response thread sends: one of them gets each row."""
    apps = [portal.register(name, backchannel_logout_uri=receiver.url) for name in ("Sheets", "Reports", "Requests")]
    for app in apps:
        app.sign_in(browser, person[1])
    with helpers.context():
        sessions.end_all(person[0])  # outside a request: queued only
    assert BackchannelLogout.select().count() == 3
    in_parallel(2, lambda i: backchannel.deliver())
    assert len(receiver.wait_for(3)) == 3 and len(receiver.tokens) == 3
    assert BackchannelLogout.select().where(BackchannelLogout.status == "sent").count() == 3
