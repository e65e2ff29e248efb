"""Sign-in step 2b: codes within one step of now, each step once, five wrong codes end the sign-in."""
import pytest

from portal.models import AuditEvent, LoginSession, User
from portal.services import mfa
from tests import helpers


def at_code_step(client, clock):
    clock.advance(seconds=30)
    helpers.enter_password(client)


def test_code_page_is_a_labelled_form(client, user, clock):
    helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    at_code_step(client, clock)
    page = client.get("/sign-in/verify")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<label for="code">Verification code</label>' in page.data.decode()


def signed_out_with_secret(client):
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    return secret


def test_current_code_signs_in_and_records_last_sign_in(client, user, clock):
    secret = signed_out_with_secret(client)
    at_code_step(client, clock)
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert User.get_by_id(user.id).last_sign_in_at == clock.current
    assert AuditEvent.select().where(AuditEvent.event == "sign_in.succeeded").count() == 2


def test_previous_and_next_step_codes_are_accepted(client, user, clock):
    secret = signed_out_with_secret(client)
    for steps in (-1, 1):
        clock.advance(seconds=90)
        helpers.enter_password(client)
        response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret, steps)})
        assert response.status_code == 303, steps
        helpers.post_form(client, "/sign-out", {}, token_from="/")


def test_code_two_steps_old_is_refused(client, user, clock):
    secret = signed_out_with_secret(client)
    at_code_step(client, clock)
    clock.advance(seconds=60)
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret, -2)})
    assert str(mfa.WRONG_CODE) in response.data.decode()


@pytest.mark.parametrize("first_step, second_step", [(0, 0), (1, 0)], ids=["same code", "older after newer"])
def test_a_code_is_accepted_once_and_never_an_older_one_after_it(app, user, clock, first_step, second_step):
    """Two browsers at the code step: the second code, the same one or an older one, is refused and audited
    (without the code)."""
    first, second = app.test_client(), app.test_client()
    secret = signed_out_with_secret(first)
    clock.advance(seconds=30)
    helpers.enter_password(first)
    helpers.enter_password(second)
    assert helpers.post_form(first, "/sign-in/verify", {"code": helpers.code_now(secret, first_step)}).status_code == 303
    code = helpers.code_now(secret, second_step)
    refused = helpers.post_form(second, "/sign-in/verify", {"code": code})
    assert str(mfa.USED_CODE) in refused.data.decode()
    assert AuditEvent.select().where(AuditEvent.event == "sign_in.code_failed").count() == 1
    assert code not in AuditEvent.get(AuditEvent.event == "sign_in.code_failed").details


def test_five_wrong_codes_end_the_pending_sign_in(client, user, clock):
    signed_out_with_secret(client)
    at_code_step(client, clock)
    for _ in range(4):
        response = helpers.post_form(client, "/sign-in/verify", {"code": "000000"})
        assert str(mfa.WRONG_CODE) in response.data.decode()
    response = helpers.post_form(client, "/sign-in/verify", {"code": "000000"})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert str(mfa.TOO_MANY) in client.get("/sign-in").data.decode()
    assert LoginSession.select().count() == 0
    # The right code is no use now: the pending sign-in is gone.
    response = client.get("/sign-in/verify")
    assert response.headers["Location"] == "/sign-in"
    assert User.get_by_id(user.id).failed_code_count == 5


def test_pending_sign_in_expires_after_five_minutes(client, user, clock):
    secret = signed_out_with_secret(client)
    at_code_step(client, clock)
    clock.advance(minutes=5, seconds=1)
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)},
                                 token_from="/sign-in")
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/").status_code == 303


def test_timed_out_pending_sign_in_says_so(client, user, clock):
    signed_out_with_secret(client)
    at_code_step(client, clock)
    clock.advance(minutes=6)
    client.get("/sign-in/verify")
    assert "took too long" in client.get("/sign-in").data.decode()


def test_htmx_wrong_code_rerenders_fragment(client, user, clock):
    signed_out_with_secret(client)
    at_code_step(client, clock)
    response = helpers.post_form(client, "/sign-in/verify", {"code": "000000"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.data.decode()
    assert str(mfa.WRONG_CODE) in response.data.decode()


def test_htmx_correct_code_redirects_with_hx_redirect(client, user, clock):
    secret = signed_out_with_secret(client)
    at_code_step(client, clock)
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)},
                                 headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/"


def test_cancel_on_code_step_ends_the_pending_sign_in(client, user, clock):
    signed_out_with_secret(client)
    at_code_step(client, clock)
    helpers.post_form(client, "/sign-out", {}, token_from="/sign-in/verify")
    assert LoginSession.select().count() == 0
    assert "Sign-in cancelled." in client.get("/sign-in").data.decode()


def test_a_code_two_steps_off_gets_the_hint_about_the_phones_clock(app, user, clock):
    from portal.services.mfa import CLOCK_HINT, WRONG_CODE

    client = app.test_client()
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    clock.advance(seconds=60)
    helpers.enter_password(client)
    late = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret, -2)}).data.decode()
    assert "check that your phone sets its date and time automatically" in late
    wrong = next(c for c in ("000000", "111111", "222222") if c not in
                 {helpers.code_now(secret, k) for k in range(-2, 3)})
    plain = helpers.post_form(client, "/sign-in/verify", {"code": wrong}).data.decode()
    assert str(WRONG_CODE) in plain and "date and time" not in plain
    assert str(CLOCK_HINT).startswith(str(WRONG_CODE))
