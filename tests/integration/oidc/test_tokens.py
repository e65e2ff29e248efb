"""The token endpoint and what follows it over HTTP: client authentication, refresh rotation and reuse,
revocation (RFC 7009), introspection (RFC 7662), signing-key rotation."""
import pytest
import requests
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.errors import BadSignatureError

from portal.models import AuditEvent
from portal.models_oidc import IssuedToken
from portal.security.tokens import hash_token


@pytest.fixture
def signed_in(portal, person, browser):
    """An application with tokens for the person: (application, token response)."""
    app = portal.register()
    return app, app.exchange(app.sign_in(browser, person[1]).code)


def test_client_secret_post_works_too(portal, person, browser):
    app = portal.register()
    token = app.exchange(app.sign_in(browser, person[1]).code, auth_method="client_secret_post")
    assert app.verify(token["id_token"])


def test_wrong_client_secret_is_refused(portal, person, browser):
    app = portal.register()
    answer = app.sign_in(browser, person[1])
    app.secret = "not-the-secret"
    with pytest.raises(OAuthError) as refused:
        app.exchange(answer.code)
    assert refused.value.error == "invalid_client"


def test_confidential_client_may_not_skip_its_secret(portal, person, browser):
    app = portal.register()
    answer = app.sign_in(browser, person[1])
    response = requests.post(app.metadata["token_endpoint"], timeout=5, data={
        "grant_type": "authorization_code", "code": answer.code, "client_id": app.client_id,
        "redirect_uri": app.redirect_uri, "code_verifier": app.verifier})
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_tokens_are_stored_as_hashes_only(signed_in):
    _, token = signed_in
    row = IssuedToken.get()
    assert row.access_token_hash == hash_token(token["access_token"])
    assert row.refresh_token_hash == hash_token(token["refresh_token"])
    stored = " ".join(str(v) for v in row.__data__.values())
    assert token["access_token"] not in stored and token["refresh_token"] not in stored


def test_refresh_token_rotates(signed_in):
    app, token = signed_in
    second = app.refresh(token["refresh_token"]).json()
    assert second["refresh_token"] != token["refresh_token"] and second["access_token"] != token["access_token"]
    assert app.userinfo(second["access_token"]).status_code == 200
    third = app.refresh(second["refresh_token"]).json()
    assert third["access_token"]


def test_reused_refresh_token_revokes_its_whole_family(signed_in):
    app, token = signed_in
    second = app.refresh(token["refresh_token"]).json()
    reused = app.refresh(token["refresh_token"])  # a copy of the first, used by someone else
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert app.refresh(second["refresh_token"]).json()["error"] == "invalid_grant"
    assert app.userinfo(second["access_token"]).status_code == 401
    assert AuditEvent.select().where(AuditEvent.event == "oidc.refresh_token_reused").count() == 1


def test_access_token_lives_ten_minutes(signed_in, clock):
    app, token = signed_in
    clock.advance(seconds=599)
    assert app.userinfo(token["access_token"]).status_code == 200
    clock.advance(seconds=2)
    assert app.userinfo(token["access_token"]).status_code == 401


def test_refresh_keeps_the_portal_session_alive_within_its_absolute_limit(signed_in, clock):
    app, token = signed_in
    for _ in range(3):  # 3 x 20 minutes > the 30-minute idle timeout, but used all along
        clock.advance(minutes=20)
        token = app.refresh(token["refresh_token"]).json()
        assert "access_token" in token, token
    clock.advance(hours=12)
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_ends_its_access_tokens(signed_in):
    app, token = signed_in
    response = app.post("revocation_endpoint", token=token["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200
    assert app.userinfo(token["access_token"]).status_code == 401
    assert app.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"
    assert app.post("revocation_endpoint", token="unknown").status_code == 200  # RFC 7009: no oracle


def test_an_application_cannot_revoke_or_introspect_another_ones_tokens(portal, signed_in):
    app, token = signed_in
    other = portal.register("Reports")
    assert other.post("revocation_endpoint", token=token["access_token"]).status_code == 400
    assert other.post("introspection_endpoint", token=token["access_token"]).json() == {"active": False}
    assert app.userinfo(token["access_token"]).status_code == 200


def test_introspection_describes_a_good_token_and_nothing_of_a_bad_one(signed_in, clock):
    app, token = signed_in
    answer = app.post("introspection_endpoint", token=token["access_token"]).json()
    assert answer["active"] is True and answer["client_id"] == app.client_id and "openid" in answer["scope"]
    assert answer["sub"] == app.verify(token["id_token"])["sub"] and answer["exp"] > answer["iat"]
    assert app.post("introspection_endpoint", token=token["refresh_token"]).json()["active"] is True
    assert app.post("introspection_endpoint", token="nonsense").json() == {"active": False}
    assert app.post("introspection_endpoint", auth=False, token=token["access_token"]).status_code == 401
    clock.advance(minutes=11)
    assert app.post("introspection_endpoint", token=token["access_token"]).json() == {"active": False}


def test_rotated_signing_key_still_verifies_its_tokens_until_they_expire(portal, person, browser, clock):
    app = portal.register()
    old = app.exchange(app.sign_in(browser, person[1]).code)["id_token"]
    old_kid = jwt.decode(old, app.jwks()).header["kid"]
    result = portal.app.test_cli_runner().invoke(args=["rotate-signing-key"])
    assert result.exit_code == 0 and old_kid in result.output
    clock.advance(seconds=30)
    new = app.exchange(app.sign_in(browser).code)["id_token"]
    assert jwt.decode(new, app.jwks()).header["kid"] != old_kid
    assert {k["kid"] for k in app.jwks().as_dict()["keys"]} >= {old_kid}
    app.verify(old, nonce=jwt.decode(old, app.jwks()).claims["nonce"])  # still verifies
    clock.advance(seconds=600)  # the longest token lifetime: the old key is no longer published
    assert old_kid not in {k["kid"] for k in app.jwks().as_dict()["keys"]}
    with pytest.raises(Exception):
        jwt.decode(old, app.jwks())


def test_id_token_signed_by_another_key_does_not_verify(signed_in):
    app, token = signed_in
    from joserfc.jwk import RSAKey
    forged_key = RSAKey.generate_key(2048, parameters={"kid": app.jwks().keys[0].kid})
    forged = jwt.encode({"alg": "RS256", "kid": forged_key.kid}, jwt.decode(token["id_token"], app.jwks()).claims,
                        forged_key)
    with pytest.raises(BadSignatureError):
        app.verify(forged)
