"""Passkeys and security keys through the pages (a software passkey plays the browser and the device): adding and
removing them after a fresh confirmation, signing in with password and passkey, or with the passkey alone; every
refused answer is refused and audited with why; Reset MFA and recovery remove them."""
import datetime as dt
import json

import pytest

from portal.infrastructure import links
from portal.models import (
    AuditEvent,
    LoginSession,
    OutboxMessage,
    Passkey,
    PasskeyChallenge,
    User,
)
from portal.services import passkey_sign_in
from tests import helpers
from tests.passkey_device import SoftPasskey

OPTIONS_2FA, ANSWER_2FA = "/sign-in/passkey/options", "/sign-in/passkey"
OPTIONS_ALONE, ANSWER_ALONE = "/sign-in/passkey/start", "/sign-in/with-passkey"


def reauthenticate(client, secret, clock):
    clock.advance(seconds=30)
    response = helpers.post_form(client, "/security/confirm", {"password": helpers.PASSWORD,
                                                               "code": helpers.code_now(secret)})
    assert response.status_code in (302, 303), response.data


def add_passkey(client, secret, clock, device=None, name="Laptop", **answer):
    """Confirm it is you, open Add a passkey, ask for options, let the device answer, send the answer."""
    device = device or SoftPasskey()
    reauthenticate(client, secret, clock)
    token = helpers.csrf_token(client.get("/security/passkeys/new").data)
    options = client.post("/security/passkeys/options", data={"csrf_token": token, "name": name})
    assert options.status_code == 200 and options.mimetype == "application/json", options.data
    response = client.post("/security/passkeys/new", data={"csrf_token": token, "name": name,
                                                            "credential": device.create(options.data, **answer)})
    return device, response


@pytest.fixture
def enrolled(app, user, clock):
    """jdoe, signed in with an authenticator and one passkey ("Laptop"): (client, secret, device)."""
    client = app.test_client()
    secret = helpers.enroll(client)
    device, response = add_passkey(client, secret, clock)
    assert response.status_code == 303 and response.headers["Location"] == "/security", response.data
    return client, secret, device


def password_step(app, clock):
    client = app.test_client()
    clock.advance(seconds=30)
    assert helpers.enter_password(client).headers["Location"].endswith("/sign-in/verify")
    return client


def options(client, url, page):
    token = helpers.csrf_token(client.get(page).data)
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 200, response.data
    return token, response.data.decode()


def answer(client, url, token, credential, **query):
    return client.post(url, data={"csrf_token": token, "credential": credential}, query_string=query)


def active_sessions() -> int:
    return LoginSession.select().where(LoginSession.stage == "active").count()


def newest_active() -> LoginSession:
    return LoginSession.select().where(LoginSession.stage == "active").order_by(LoginSession.created_at.desc(),
                                                                                  LoginSession.id.desc()).get()


def refusals(reason=None):
    events = [json.loads(e.details) for e in AuditEvent.select().where(AuditEvent.event == "sign_in.passkey_refused")]
    return [e for e in events if reason is None or e["reason"] == reason]


# --- adding and removing ---------------------------------------------------------------------------------------

def test_adding_a_passkey_needs_a_fresh_confirmation_and_is_mailed(client, user, clock):
    secret = helpers.enroll(client)
    clock.advance(minutes=11)
    opened = client.get("/security/passkeys/new")
    assert opened.status_code == 303 and opened.headers["Location"].startswith("/security/confirm")
    token = helpers.csrf_token(client.get("/security").data)
    refused = client.post("/security/passkeys/options", data={"csrf_token": token, "name": "Laptop"})
    assert refused.status_code == 403 and refused.json["reload"] is True
    device, response = add_passkey(client, secret, clock)
    assert response.status_code == 303
    passkey = Passkey.get()
    assert (passkey.name, passkey.credential_id, passkey.synced) == ("Laptop", device.id, False)
    assert passkey.user_handle == device.user_handle and "jdoe" not in passkey.user_handle
    page = client.get("/security").data.decode()
    assert "Laptop" in page and "never" in page and 'aria-label="Remove Laptop"' in page
    assert OutboxMessage.select().where(OutboxMessage.subject == "Portal: a passkey was added").count() == 1
    assert AuditEvent.select().where(AuditEvent.event == "passkey.added").count() == 1


def test_a_passkey_needs_a_name_and_several_may_be_added(enrolled, clock):
    client, secret, _ = enrolled
    token = helpers.csrf_token(client.get("/security/passkeys/new").data)
    unnamed = client.post("/security/passkeys/options", data={"csrf_token": token, "name": "  "})
    assert unnamed.status_code == 400 and "Enter a name for the passkey" in unnamed.json["error"]
    options = client.post("/security/passkeys/options", data={"csrf_token": token, "name": "Key"}).json
    assert [c["id"] for c in options["excludeCredentials"]] == [Passkey.get().credential_id]  # no second copy
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none" and options["rp"]["id"] == "portal.example.test"
    _, response = add_passkey(client, secret, clock, name="Blue security key")
    assert response.status_code == 303 and Passkey.select().count() == 2
    assert len({p.user_handle for p in Passkey.select()}) == 1  # one handle per person


def test_an_answer_from_another_origin_or_without_user_verification_adds_nothing(enrolled, clock):
    client, secret, _ = enrolled
    for answer_kwargs, reason in (({"origin": "https://portal.example.test.evil.example"}, "origin"),
                                  ({"verified": False}, "user verification")):
        _, response = add_passkey(client, secret, clock, name="Phished", **answer_kwargs)
        assert response.status_code == 200 and "could not be added" in response.data.decode()
        assert json.loads(AuditEvent.select().where(AuditEvent.event == "passkey.add_refused")
                          .order_by(AuditEvent.id.desc()).get().details)["reason"] == reason
    assert Passkey.select().count() == 1


def test_a_credential_id_is_registered_once(app, enrolled, clock, company):
    _, _, device = enrolled
    helpers.make_user(company, "other")
    other = app.test_client()
    secret = helpers.enroll(other, "other")
    _, response = add_passkey(other, secret, clock, device=device, name="Copied")
    assert "already registered" in response.data.decode() and Passkey.select().count() == 1


def test_removing_a_passkey_is_confirmed_and_mailed(enrolled, clock):
    client, secret, _ = enrolled
    passkey = Passkey.get()
    clock.advance(minutes=11)
    url = f"/security/passkeys/{passkey.id}/remove"
    first = helpers.post_form(client, url, {}, token_from="/security")
    assert first.headers["Location"].startswith("/security/confirm")  # the click is kept meanwhile
    reauthenticate(client, secret, clock)
    asked = helpers.post_form(client, url, {}, token_from="/security")
    assert asked.status_code == 200 and "Remove passkey: “Laptop”?" in asked.data.decode()
    assert Passkey.select().count() == 1
    done = helpers.post_form(client, url, {"confirmed": "yes"}, token_from="/security")
    assert done.headers["Location"] == "/security" and Passkey.select().count() == 0
    assert OutboxMessage.select().where(OutboxMessage.subject == "Portal: a passkey was removed").count() == 1
    assert AuditEvent.select().where(AuditEvent.event == "passkey.removed").count() == 1
    assert helpers.post_form(client, url, {"confirmed": "yes"}, token_from="/security").status_code == 404


def test_nobody_removes_another_persons_passkey(app, enrolled, clock, company):
    helpers.make_user(company, "other")
    other = app.test_client()
    secret = helpers.enroll(other, "other")
    reauthenticate(other, secret, clock)
    url = f"/security/passkeys/{Passkey.get().id}/remove"
    assert helpers.post_form(other, url, {"confirmed": "yes"}, token_from="/security").status_code == 404
    assert Passkey.select().count() == 1


# --- password and passkey -----------------------------------------------------------------------------------

def test_password_and_passkey_sign_in_as_a_code_does(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    assert 'action="/sign-in/passkey"' in client.get("/sign-in/verify").data.decode()
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    assert json.loads(offered)["userVerification"] == "required"
    pending = LoginSession.get(LoginSession.stage == "pending")
    response = answer(client, ANSWER_2FA, token, device.get(offered))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert LoginSession.get_or_none(LoginSession.token_hash == pending.token_hash) is None  # a new token after it
    assert active_sessions() == 2
    assert newest_active().amr.split() == ["pwd", "hwk"]
    event = AuditEvent.select().where(AuditEvent.event == "sign_in.passkey").get()
    assert json.loads(event.details) == {"passkey": "Laptop", "password": True, "second_factor": "passkey"}
    assert Passkey.get().last_used_at is not None and Passkey.get().sign_count == 1
    assert client.get("/").status_code == 200


def test_a_synced_passkey_says_swk(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    device, _ = add_passkey(client, secret, clock, device=SoftPasskey(synced=True))
    assert Passkey.get().synced is True
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    assert answer(client, ANSWER_2FA, token, device.get(offered)).status_code == 303
    assert newest_active().amr.split() == ["pwd", "swk"]


def test_replayed_assertion_is_refused_and_audited(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    used = device.get(offered)
    assert answer(client, ANSWER_2FA, token, used).status_code == 303
    client.post("/sign-out", data={"csrf_token": helpers.csrf_token(client.get("/").data)})
    again = password_step(app, clock)
    token, _ = options(again, OPTIONS_2FA, "/sign-in/verify")  # a new challenge for the new sign-in
    replayed = answer(again, ANSWER_2FA, token, used)
    assert replayed.status_code == 200 and str(passkey_sign_in.NOT_VERIFIED) in replayed.data.decode()
    assert refusals("challenge") and active_sessions() == 1  # the enrolled browser's only


def test_a_challenge_of_another_sign_in_is_refused(app, enrolled, clock):
    _, _, device = enrolled
    first, second = password_step(app, clock), password_step(app, clock)
    _, offered_to_first = options(first, OPTIONS_2FA, "/sign-in/verify")
    token, _ = options(second, OPTIONS_2FA, "/sign-in/verify")
    response = answer(second, ANSWER_2FA, token, device.get(offered_to_first))
    assert str(passkey_sign_in.NOT_VERIFIED) in response.data.decode() and refusals("challenge")
    assert active_sessions() == 1


def test_an_answer_for_another_origin_is_refused(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    response = answer(client, ANSWER_2FA, token, device.get(offered, origin="https://portal-example.test"))
    assert str(passkey_sign_in.NOT_VERIFIED) in response.data.decode()
    assert refusals("origin")[0]["detail"].startswith('Unexpected client data origin "https://portal-example.test"')


def test_a_counter_that_goes_backwards_is_refused_and_audited(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    assert answer(client, ANSWER_2FA, token, device.get(offered, counter=7)).status_code == 303
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    response = answer(client, ANSWER_2FA, token, device.get(offered, counter=3))  # a copy of the key, behind
    assert str(passkey_sign_in.NOT_VERIFIED) in response.data.decode()
    assert refusals("counter")[0]["passkey"] == "Laptop" and Passkey.get().sign_count == 7


def test_a_removed_passkey_is_refused(app, enrolled, clock):
    client, secret, device = enrolled
    signing_in = password_step(app, clock)
    token, offered = options(signing_in, OPTIONS_2FA, "/sign-in/verify")
    reauthenticate(client, secret, clock)
    helpers.post_form(client, f"/security/passkeys/{Passkey.get().id}/remove", {"confirmed": "yes"},
                      token_from="/security")
    assert Passkey.select().count() == 0
    response = answer(signing_in, ANSWER_2FA, token, device.get(offered))
    assert str(passkey_sign_in.NOT_YOURS) in response.data.decode() and refusals("unknown passkey")


def test_an_answer_without_user_verification_is_refused(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    token, offered = options(client, OPTIONS_2FA, "/sign-in/verify")
    answer(client, ANSWER_2FA, token, device.get(offered, verified=False))
    assert refusals("user verification")


def test_refused_answers_count_toward_the_attempts_of_a_sign_in(app, enrolled, clock):
    client = password_step(app, clock)
    token = helpers.csrf_token(client.get("/sign-in/verify").data)
    for _ in range(app.config["CODE_ATTEMPTS_PER_SIGNIN"] - 1):
        assert "could not be verified" in answer(client, ANSWER_2FA, token, '{"id": 1}').data.decode()
    last = answer(client, ANSWER_2FA, token, "not json")
    assert last.headers["Location"] == "/sign-in"
    assert not LoginSession.select().where(LoginSession.stage == "pending").exists()
    assert len(refusals("malformed")) == app.config["CODE_ATTEMPTS_PER_SIGNIN"]


def test_without_a_passkey_the_code_step_offers_none(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    helpers.sign_in(app.test_client(), secret, clock_=clock)
    client = password_step(app, clock)
    assert 'action="/sign-in/passkey"' not in client.get("/sign-in/verify").data.decode()
    token = helpers.csrf_token(client.get("/sign-in/verify").data)
    assert client.post(OPTIONS_2FA, data={"csrf_token": token}).status_code == 409


# --- the passkey alone ---------------------------------------------------------------------------------------

def test_a_passkey_alone_signs_in_and_goes_on_to_next(app, enrolled, clock):
    _, _, device = enrolled
    client = app.test_client()
    assert 'action="/sign-in/with-passkey"' in client.get("/sign-in").data.decode()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    assert json.loads(offered)["allowCredentials"] == [] and json.loads(offered)["userVerification"] == "required"
    response = answer(client, ANSWER_ALONE, token, device.get(offered), next="/profile")
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert newest_active().amr.split() == ["hwk", "mfa"]
    assert json.loads(AuditEvent.select().where(AuditEvent.event == "sign_in.passkey").get().details)["password"] is False
    assert client.get("/profile").status_code == 200
    assert User.get().last_sign_in_at == clock()


def test_a_passkey_alone_needs_its_user_handle_and_a_challenge_of_this_browser(app, enrolled, clock):
    _, _, device = enrolled
    client, elsewhere = app.test_client(), app.test_client()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    no_handle = answer(client, ANSWER_ALONE, token, device.get(offered, user_handle=False))
    assert str(passkey_sign_in.SIGN_IN_NOT_VERIFIED) in no_handle.data.decode() and refusals("user handle")
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    other_token = helpers.csrf_token(elsewhere.get("/sign-in").data)
    stolen = answer(elsewhere, ANSWER_ALONE, other_token, device.get(offered))
    assert str(passkey_sign_in.SIGN_IN_NOT_VERIFIED) in stolen.data.decode() and refusals("challenge")
    assert active_sessions() == 1


def test_an_unknown_passkey_is_told_to_use_the_password(app, enrolled, clock):
    client = app.test_client()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    stranger = SoftPasskey()
    stranger.user_handle = Passkey.get().user_handle
    response = answer(client, ANSWER_ALONE, token, stranger.get(offered))
    assert str(passkey_sign_in.UNKNOWN) in response.data.decode() and refusals("unknown passkey")


@pytest.mark.parametrize("change, message", [
    ({"active": False}, "Your account is not active"),
    ({"valid_until": "past"}, "Your account has expired"),
])
def test_an_inactive_or_expired_account_learns_why_only_after_the_passkey(app, enrolled, clock, change, message):
    _, _, device = enrolled
    if change.get("valid_until") == "past":
        change = {"valid_until": clock().date().replace(year=2025)}
    User.update(change).execute()
    client = app.test_client()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    unverified = answer(client, ANSWER_ALONE, token, device.get(offered, verified=False))
    assert message not in unverified.data.decode()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    response = answer(client, ANSWER_ALONE, token, device.get(offered))
    assert message in response.data.decode() and response.status_code == 200
    assert AuditEvent.select().where(AuditEvent.event == "sign_in.refused").exists()
    assert active_sessions() == 1


def test_a_blocked_password_stops_a_passkey_alone_except_in_a_known_browser(app, enrolled, clock):
    client, _, device = enrolled  # this browser signed jdoe in before
    User.update(password_blocked_at=clock()).execute()
    stranger = app.test_client()
    token, offered = options(stranger, OPTIONS_ALONE, "/sign-in")
    refused = answer(stranger, ANSWER_ALONE, token, device.get(offered))
    assert str(passkey_sign_in.PASSWORD_BLOCKED) in refused.data.decode()
    client.post("/sign-out", data={"csrf_token": helpers.csrf_token(client.get("/").data)})
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    assert answer(client, ANSWER_ALONE, token, device.get(offered)).status_code == 303


def test_a_resting_second_factor_stops_a_passkey_alone(app, enrolled, clock):
    _, _, device = enrolled
    User.update(code_blocked_until=clock() + dt.timedelta(minutes=10)).execute()
    client = app.test_client()
    token, offered = options(client, OPTIONS_ALONE, "/sign-in")
    assert "Too many wrong codes" in answer(client, ANSWER_ALONE, token, device.get(offered)).data.decode()


def test_challenges_expire_with_the_pending_sign_in(app, enrolled, clock):
    _, _, device = enrolled
    client = password_step(app, clock)
    options(client, OPTIONS_2FA, "/sign-in/verify")
    assert PasskeyChallenge.select().where(PasskeyChallenge.login_session.is_null(False)).count() == 1
    helpers.post_form(client, "/sign-out", {}, token_from="/sign-in/verify")
    assert not PasskeyChallenge.select().where(PasskeyChallenge.login_session.is_null(False)).exists()
    alone = app.test_client()
    token, offered = options(alone, OPTIONS_ALONE, "/sign-in")
    clock.advance(seconds=app.config["PENDING_SIGNIN_SECONDS"] + 1)
    late = answer(alone, ANSWER_ALONE, token, device.get(offered))
    assert str(passkey_sign_in.SIGN_IN_NOT_VERIFIED) in late.data.decode() and refusals("challenge")


# --- Reset MFA and recovery -------------------------------------------------------------------------------------

def test_reset_mfa_removes_passkeys(app, enrolled, clock, company):
    helpers.make_user(company, "boss", role="company-admin", email="boss@acme.example")
    admin = app.test_client()
    helpers.enroll(admin, "boss")
    page = helpers.post_form(admin, "/admin/users/jdoe/reset-mfa", {}, token_from="/admin/users/jdoe")
    assert "all passkeys and security keys" in page.data.decode()
    helpers.post_form(admin, "/admin/users/jdoe/reset-mfa", {"confirmed": "yes"}, token_from="/admin/users/jdoe")
    assert Passkey.select().count() == 0 and User.get(User.user_id == "jdoe").authenticators.count() == 0


def test_the_portal_command_and_a_recovery_link_remove_passkeys(app, enrolled, clock, runner):
    result = runner.invoke(args=["reset-mfa", "jdoe", "--ticket", "T-1"])
    assert result.exit_code == 0 and "passkeys" in result.output and Passkey.select().count() == 0
    Passkey.create(user=User.get(), name="Again", credential_id="AAAA", public_key="AAAA", user_handle="AAAA",
                   created_at=clock())
    with helpers.context():
        token = links.issue(User.get(), links.RECOVERY)
    page = app.test_client().get(f"/recover/{token}").data.decode()
    assert "all your passkeys and security keys" in page
    response = helpers.post_form(app.test_client(), f"/recover/{token}", {"password": helpers.PASSWORD})
    assert response.status_code == 303 and Passkey.select().count() == 0


def test_delete_otp_keeps_passkeys_but_a_passkey_alone_then_waits_for_the_new_app(app, enrolled, clock):
    client, secret, device = enrolled
    reauthenticate(client, secret, clock)
    helpers.post_form(client, "/security/replace-authenticator", {"confirmed": "yes"}, token_from="/security")
    assert Passkey.select().count() == 1
    other = app.test_client()
    token, offered = options(other, OPTIONS_ALONE, "/sign-in")
    assert str(passkey_sign_in.NO_AUTHENTICATOR) in answer(other, ANSWER_ALONE, token, device.get(offered)).data.decode()
