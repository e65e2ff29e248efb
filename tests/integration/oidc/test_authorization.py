"""The authorization endpoint's rules over HTTP: PKCE, exact redirect URIs, prompt, max_age, login_hint, and who
may get a code at all."""
import base64
import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from authlib.integrations.base_client import OAuthError
from requests.utils import quote

from portal.models import LoginSession, User
from tests import helpers
from tests.oidc import CALLBACK


def test_public_client_without_pkce_gets_an_error_at_its_redirect_uri(portal, person, browser):
    app = portal.register(public=True)
    answer = app.answer(browser.go(app.authorization_url(pkce=False)))
    assert answer.params["error"] == "invalid_request" and answer.params["iss"] == portal.url
    assert answer.params["state"] == app.state and "code" not in answer.params


def test_plain_pkce_is_refused(portal, browser):
    app = portal.register(public=True)
    url = app.authorization_url(pkce=False, code_challenge="x" * 43, code_challenge_method="plain")
    assert app.answer(browser.go(url)).params["error"] == "invalid_request"


def test_public_client_signs_in_with_pkce_and_no_secret(portal, person, browser):
    _, secret = person
    app = portal.register(public=True)
    token = app.exchange(app.sign_in(browser, secret).code)
    assert app.verify(token["id_token"])["aud"] == app.client_id


def test_wrong_pkce_verifier_is_refused_and_the_code_is_used_up(portal, person, browser):
    _, secret = person
    app = portal.register(public=True)
    answer = app.sign_in(browser, secret)
    with pytest.raises(OAuthError) as refused:
        app.exchange(answer.code, verifier="w" * 50)
    assert refused.value.error == "invalid_grant"
    with pytest.raises(OAuthError):
        app.exchange(answer.code)  # the right verifier comes too late: a code is tried once


def test_reused_code_is_refused_and_revokes_what_it_issued(portal, person, browser):
    _, secret = person
    app = portal.register()
    answer = app.sign_in(browser, secret)
    token = app.exchange(answer.code)
    assert app.userinfo(token["access_token"]).status_code == 200
    with pytest.raises(OAuthError) as refused:
        app.exchange(answer.code)
    assert refused.value.error == "invalid_grant"
    assert app.userinfo(token["access_token"]).status_code == 401
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"


def test_code_expires_after_a_minute(portal, person, browser, clock):
    _, secret = person
    app = portal.register()
    answer = app.sign_in(browser, secret)
    clock.advance(seconds=61)
    with pytest.raises(OAuthError):
        app.exchange(answer.code)


def test_code_of_one_application_is_useless_to_another(portal, person, browser):
    _, secret = person
    first, other = portal.register("Data Sheets"), portal.register("Reports")
    answer = first.sign_in(browser, secret)
    with pytest.raises(OAuthError):
        other.exchange(answer.code, verifier=first.verifier)
    assert first.exchange(answer.code)["access_token"]  # the attempt did not use it up for its owner


def test_unregistered_or_altered_redirect_uri_gets_an_error_page_never_a_redirect(portal, browser):
    app = portal.register()
    for redirect_uri in ("http://127.0.0.1:9/elsewhere", CALLBACK + "/", CALLBACK + "?x=1",
                         "https://evil.example/callback", CALLBACK.upper(), CALLBACK + "#x"):
        url = app.authorization_url().replace(quote(CALLBACK, safe=""), quote(redirect_uri, safe=""))
        assert quote(redirect_uri, safe="") in url
        response = browser.go(url)
        assert response.status_code == 400 and not response.is_redirect, redirect_uri
        assert response.url.startswith(portal.url) and "sign-in request cannot be used" in response.text


def test_unknown_client_gets_an_error_page(portal, browser):
    response = browser.go(f"/oidc/authorize?response_type=code&client_id=nobody&redirect_uri={CALLBACK}"
                          "&scope=openid&state=s")
    assert response.status_code == 400 and "cannot be used" in response.text


def test_token_endpoint_checks_the_redirect_uri_again(portal, person, browser):
    _, secret = person
    app = portal.register(redirect_uris=(CALLBACK, CALLBACK + "2"))
    answer = app.sign_in(browser, secret)
    response = app.post("token_endpoint", grant_type="authorization_code", code=answer.code,
                        redirect_uri=CALLBACK + "2", code_verifier=app.verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_implicit_and_hybrid_flows_are_refused(portal, browser):
    app = portal.register()
    for response_type in ("token", "id_token", "code id_token", "code token"):
        url = app.authorization_url().replace("response_type=code", "response_type=" + quote(response_type))
        assert app.answer(browser.go(url)).params["error"] == "unsupported_response_type", response_type


def test_sign_in_again_needs_its_csrf_token(portal, person, browser):
    app = portal.register()
    app.sign_in(browser, person[1])
    assert "Sign in again" in browser.go(app.authorization_url(prompt="login")).text
    response = browser.http.post(portal.url + "/oidc/authorize/sign-in-again", allow_redirects=False)
    assert response.status_code == 400 and LoginSession.select().count() == 1


def test_prompt_none_without_a_session_answers_login_required(portal, browser):
    app = portal.register()
    answer = app.answer(browser.go(app.authorization_url(prompt="none")))
    assert answer.params["error"] == "login_required" and answer.params["state"] == app.state
    assert answer.params["iss"] == portal.url


def test_prompt_none_with_a_session_gets_a_code_silently(portal, person, browser):
    _, secret = person
    app = portal.register()
    app.sign_in(browser, secret)
    assert app.sign_in(browser, prompt="none").code


def test_prompt_login_asks_for_a_new_sign_in(portal, person, browser, clock):
    _, secret = person
    app = portal.register()
    first = app.verify(app.exchange(app.sign_in(browser, secret).code)["id_token"])
    clock.advance(seconds=45)
    page = browser.go(app.authorization_url(prompt="login"))
    assert "asks you to sign in again" in page.text and LoginSession.select().count() == 1  # a link ends nothing
    page = browser.submit(page)
    assert page.url.startswith(portal.url + "/sign-in") and LoginSession.select().count() == 0
    again = app.verify(app.exchange(app.answer(browser.sign_in(page, secret)).code)["id_token"])
    assert again["auth_time"] == first["auth_time"] + 45


def test_max_age_forces_a_new_sign_in(portal, person, browser, clock):
    _, secret = person
    app = portal.register()
    app.sign_in(browser, secret)
    clock.advance(seconds=30)
    assert app.sign_in(browser, max_age="60").code  # signed in 30 s ago: fine
    clock.advance(seconds=60)
    page = browser.submit(browser.go(app.authorization_url(max_age="60")))  # "Sign in again"
    assert page.url.startswith(portal.url + "/sign-in")
    claims = app.verify(app.exchange(app.answer(browser.sign_in(page, secret)).code)["id_token"])
    assert claims["auth_time"] == claims["iat"]


def test_login_hint_fills_in_the_user_id(portal, browser):
    app = portal.register()
    page = browser.go(app.authorization_url(login_hint="jdoe"))
    assert re.search(r'name="user_id"[^>]*value="jdoe"', page.text)


def test_a_pending_sign_in_never_gets_a_code(portal, person, browser):
    app = portal.register()
    page = browser.go(app.authorization_url())
    browser.submit(page, user_id="jdoe", password=helpers.PASSWORD)  # password only
    page = browser.go(app.authorization_url())
    assert page.url.startswith(portal.url + "/sign-in"), page.url


def test_deactivated_user_gets_no_code_and_loses_the_tokens(portal, person, browser):
    user, secret = person
    app = portal.register()
    token = app.exchange(app.sign_in(browser, secret).code)
    User.update(active=False).where(User.id == user.id).execute()  # as if set elsewhere, without a hook
    assert app.userinfo(token["access_token"]).status_code == 401
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    page = browser.go(app.authorization_url())
    assert page.url.startswith(portal.url + "/sign-in")
    page = browser.submit(page, user_id="jdoe", password=helpers.PASSWORD)
    assert "not active" in page.text and not page.url.startswith(CALLBACK)


def test_expired_user_loses_the_tokens_once_valid_until_has_passed(portal, person, browser, clock):
    user, secret = person
    app = portal.register()
    token = app.exchange(app.sign_in(browser, secret).code)
    today = clock.current.date()
    User.update(valid_until=today).where(User.id == user.id).execute()
    assert app.userinfo(token["access_token"]).status_code == 200  # Valid Until is the last good day
    User.update(valid_until=today - dt.timedelta(days=1)).where(User.id == user.id).execute()
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert app.userinfo(token["access_token"]).status_code == 401


def test_request_objects_are_refused(portal, browser):
    app = portal.register()
    assert app.answer(browser.go(app.authorization_url(request="e30.e30."))).params["error"] == "request_not_supported"


def test_no_bad_value_in_any_parameter_of_the_provider_gets_a_500(portal, person, browser):
    """Each parameter of the authorization, token, revocation, introspection, UserInfo and logout endpoints,
    one at a time, with the values of tests/security/test_bad_input.py; signed in and not."""
    from tests.security.test_bad_input import BAD_TEXT, encoded

    app = portal.register()
    good = dict(parse_qsl(urlsplit(app.authorization_url(prompt="none", max_age="60", login_hint="jdoe")).query))
    signed_in = portal.app.test_client()
    helpers.sign_in(signed_in, person[1])
    basic = {"Authorization": "Basic " + base64.b64encode(f"{app.client_id}:{app.secret}".encode()).decode()}
    token_fields = {"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK, "code_verifier": "v" * 43,
                    "refresh_token": "r", "token": "t", "token_type_hint": "access_token", "client_id": app.client_id}
    for client in (portal.app.test_client(), signed_in):
        for name in list(good) + ["request", "request_uri", "response_mode", "ui_locales"]:
            for value in BAD_TEXT:
                response = client.get("/oidc/authorize?" + encoded({**good, name: value}.items()))
                assert response.status_code < 500, (name, value)
                response = client.get("/oidc/logout?" + encoded([("id_token_hint", value), ("client_id", value),
                                                                 ("post_logout_redirect_uri", value)]))
                assert response.status_code < 500, value
        for path in ("/oidc/token", "/oidc/revoke", "/oidc/introspect", "/oidc/userinfo"):
            for name in token_fields:
                for value in BAD_TEXT:
                    response = client.post(path, data=encoded({**token_fields, name: value}.items()), headers=basic,
                                           content_type="application/x-www-form-urlencoded")
                    assert response.status_code < 500, (path, name, value)
        for value in BAD_TEXT:
            header = value if isinstance(value, str) else value.decode("latin-1")
            assert client.get("/oidc/userinfo", headers={"Authorization": "Bearer " + header[:200]}).status_code < 500
