"""The authorization code flow end to end over HTTP: discovery, Portal's sign-in, the code, the tokens, the ID
token checked against the published JWKS, UserInfo."""
import html
import re

import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata

from portal.infrastructure import links
from portal.models import AuditEvent, Passkey
from portal.models_oidc import ACR
from portal.services import mfa, recovery
from tests import helpers
from tests.integration.oidc.conftest import make_person
from tests.oidc import Browser, LivePortal
from tests.passkey_device import SoftPasskey


def test_discovery_describes_the_provider_at_its_issuer(portal):
    metadata = OpenIDProviderMetadata(portal.metadata())
    metadata.validate()
    assert metadata["issuer"] == portal.url
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_a_person_signs_in_to_an_application_through_portal(portal, person, browser):
    user, secret = person
    app = portal.register()
    answer = app.sign_in(browser, secret)
    token = app.exchange(answer.code)
    claims = app.verify(token["id_token"])
    assert claims["amr"] == ["pwd", "otp"] and claims["acr"] == ACR
    assert claims["sub"] != user.user_id and len(claims["sub"]) >= 24
    assert claims["preferred_username"] == "jdoe" and claims["email"] == "jdoe@acme.example"
    assert claims["company_name"] == "ACME Components" and claims["role"] == "user"
    assert claims["sid"] and claims["auth_time"] <= claims["iat"]
    info = app.userinfo(token["access_token"]).json()
    assert info["sub"] == claims["sub"] and info["family_name"] == "Doe" and info["company_id"] == str(user.company_id)
    assert token["expires_in"] == 600 and token["refresh_token"]


def test_a_signed_in_person_gets_a_code_without_signing_in_again(portal, person, browser):
    _, secret = person
    first, second = portal.register("Data Sheets"), portal.register("Reports")
    first.sign_in(browser, secret)
    answer = second.sign_in(browser)  # no secret: no sign-in page may appear
    claims = second.verify(second.exchange(answer.code)["id_token"])
    assert claims["aud"] == second.client_id


def test_amr_shows_a_backup_code(portal, person, browser):
    user, _ = person
    with helpers.context():
        code = mfa.replace_backup_codes(user)[0]
    app = portal.register()
    page = browser.go(app.authorization_url())
    page = browser.submit(page, user_id="jdoe", password=helpers.PASSWORD)
    page = browser.go("/sign-in/backup-code")
    answer = app.answer(browser.submit(page, code=code))
    assert app.verify(app.exchange(answer.code)["id_token"])["amr"] == ["pwd", "backup_code"]


def test_amr_shows_a_recovery(app, user, clock):
    """A recovery link, then a new authenticator: the session (and so the ID token) says so."""
    client = app.test_client()
    helpers.enroll(client)
    clock.advance(seconds=30)
    with helpers.context():
        token = links.issue(user, links.RECOVERY)
        pending = recovery.recover(token, None, helpers.PASSWORD, "127.0.0.1", "test").login_session
        assert pending.amr == "pwd recovery"
        secret = mfa.enrollment_for(pending).secret
        started = mfa.confirm_enrollment(pending, "New phone", helpers.code_now(secret))
    assert started.login_session.amr.split() == ["pwd", "recovery", "otp"]


def test_audit_events_name_the_application_but_never_a_code_or_token(portal, person, browser):
    app = portal.register()
    answer = app.sign_in(browser, person[1])
    token = app.exchange(answer.code)
    app.refresh(token["refresh_token"])
    events = {e.event: e.details for e in AuditEvent.select()}
    assert {"oidc.code_issued", "oidc.tokens_issued", "oidc.client_created"} <= set(events)
    assert app.client_id in events["oidc.code_issued"]
    logged = " ".join(events.values())
    for secret in (answer.code, token["access_token"], token["refresh_token"], token["id_token"], app.secret):
        assert secret not in logged


@pytest.fixture
def named_portal(tmp_path, database_url, clock):
    """Portal at http://localhost:PORT: passkeys need a host name (an IP address is no relying party id)."""
    with LivePortal(tmp_path, database_url, host="localhost") as live:
        yield live


def test_amr_shows_a_passkey_with_the_password_and_alone(named_portal):
    portal = named_portal
    user, _ = make_person()
    device = SoftPasskey(origin=portal.url)
    Passkey.create(user=user, name="Laptop", **device.registered_as("aGFuZGxl"))
    app, browser = portal.register(), Browser(portal)
    page = browser.submit(browser.go(app.authorization_url()), user_id="jdoe", password=helpers.PASSWORD)
    token = helpers.csrf_token(page.text)
    options = browser.http.post(portal.url + "/sign-in/passkey/options", data={"csrf_token": token}, timeout=10)
    answer = app.answer(browser.go("/sign-in/passkey", "POST", {"csrf_token": token,
                                                                "credential": device.get(options.text)}))
    assert app.verify(app.exchange(answer.code)["id_token"])["amr"] == ["pwd", "hwk"]
    alone = Browser(portal)
    page = alone.go(app.authorization_url())
    token = helpers.csrf_token(page.text)
    options = alone.http.post(portal.url + "/sign-in/passkey/start", data={"csrf_token": token}, timeout=10)
    action = html.unescape(re.search(r'action="(/sign-in/with-passkey[^"]*)"', page.text).group(1))
    assert action.startswith("/sign-in/with-passkey?next=/oidc/authorize")  # back to the application after it
    answer = app.answer(alone.go(action, "POST", {"csrf_token": token, "credential": device.get(options.text)}))
    assert app.verify(app.exchange(answer.code)["id_token"])["amr"] == ["hwk", "mfa"]
