"""Consent: asked once per person and application (never for first-party ones), remembered, listed on the
Connected applications page, and withdrawn there, which ends the application's tokens."""
import pytest

from portal.models import AuditEvent
from portal.models_oidc import Consent


@pytest.fixture
def third_party(portal):
    return portal.register("Supplier Portal", first_party=False)


def test_consent_page_says_what_goes_to_which_application(third_party, person, browser):
    page = browser.go(third_party.authorization_url())
    page = browser.sign_in(page, person[1])
    assert "Allow Supplier Portal to use your Portal sign-in?" in page.text
    assert "your e-mail address" in page.text and "your company and your role in it" in page.text
    answer = third_party.answer(browser.submit(page, decision="allow"))
    assert answer.params["iss"] and third_party.verify(third_party.exchange(answer.code)["id_token"])
    assert AuditEvent.select().where(AuditEvent.event == "oidc.consent_given").count() == 1


def test_consent_is_remembered(third_party, person, browser):
    page = browser.sign_in(browser.go(third_party.authorization_url()), person[1])
    browser.submit(page, decision="allow")
    assert third_party.sign_in(browser).code  # no page this time
    assert Consent.select().count() == 1


def test_more_scope_asks_again(third_party, person, browser):
    page = browser.sign_in(browser.go(third_party.authorization_url(scope="openid")), person[1])
    browser.submit(page, decision="allow")
    page = browser.go(third_party.authorization_url(scope="openid email"))
    assert "your e-mail address" in page.text and "Allow" in page.text


def test_refusing_sends_access_denied(third_party, person, browser):
    page = browser.sign_in(browser.go(third_party.authorization_url()), person[1])
    answer = third_party.answer(browser.submit(page, decision="deny"))
    assert answer.params["error"] == "access_denied" and answer.params["state"] == third_party.state
    assert answer.params["iss"] == third_party.portal.url
    assert Consent.select().count() == 0


def test_prompt_none_without_consent_answers_consent_required(third_party, person, browser):
    browser.sign_in(browser.go(third_party.authorization_url()), person[1])
    answer = third_party.answer(browser.go(third_party.authorization_url(prompt="none")))
    assert answer.params["error"] == "consent_required"


def test_consent_form_needs_its_csrf_token(third_party, person, browser):
    page = browser.sign_in(browser.go(third_party.authorization_url()), person[1])
    response = browser.http.post(page.url, data={"decision": "allow"}, allow_redirects=False)
    assert response.status_code == 400 and Consent.select().count() == 0


def test_withdrawing_consent_ends_the_applications_tokens_and_asks_again(third_party, person, browser):
    page = browser.sign_in(browser.go(third_party.authorization_url()), person[1])
    token = third_party.exchange(third_party.answer(browser.submit(page, decision="allow")).code)
    page = browser.go("/applications")
    assert "Supplier Portal" in page.text
    page = browser.submit(page)
    assert "can no longer use your Portal sign-in" in page.text and Consent.select().count() == 0
    assert third_party.userinfo(token["access_token"]).status_code == 401
    assert third_party.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert "Allow Supplier Portal" in browser.go(third_party.authorization_url()).text
    assert AuditEvent.select().where(AuditEvent.event == "oidc.consent_withdrawn").count() == 1


def test_first_party_applications_are_not_listed_and_ask_nothing(portal, person, browser):
    app = portal.register("Data Sheets", first_party=True)
    assert app.sign_in(browser, person[1]).code
    assert "have not allowed any application" in browser.go("/applications").text
