"""Sign-in step 1 through the test client: one generic failure, account state only after the password."""
import datetime as dt

import pytest

from portal.models import AuditEvent, LoginSession, User
from portal.services.signin import EXPIRED, INVALID, NOT_ACTIVE
from tests import helpers

HX = {"HX-Request": "true"}


def test_sign_in_page_has_labelled_fields_and_csrf(client):
    page = client.get("/sign-in")
    html = page.data.decode()
    assert page.status_code == 200
    assert '<label for="user_id">User ID</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'type="password"' in html
    assert helpers.csrf_token(html)


def test_wrong_password_and_unknown_user_id_look_the_same(client, user):
    wrong = helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93")
    unknown = helpers.enter_password(client, "nobody", "Wrong-Lantern-Harbor-93")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert str(INVALID) in response.data.decode()
    assert (helpers.without_csrf(wrong.data).replace("jdoe", "X")
            == helpers.without_csrf(unknown.data).replace("nobody", "X"))


def test_user_without_password_gets_the_same_generic_message(client, company):
    helpers.make_user(company, "nopass", password=None)
    response = helpers.enter_password(client, "nopass", "Anything-Lantern-93")
    assert str(INVALID) in response.data.decode()


def test_failed_password_is_counted_and_audited_without_the_password(client, user):
    helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93")
    assert User.get_by_id(user.id).failed_password_count == 1
    event = AuditEvent.get(AuditEvent.event == "sign_in.failed")
    assert event.subject_id == user.id and "Wrong-Lantern" not in event.details


def test_correct_password_clears_the_failure_count(client, user):
    helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93")
    helpers.enter_password(client, "jdoe")
    assert User.get_by_id(user.id).failed_password_count == 0


def test_user_id_is_case_insensitive(client, user):
    response = helpers.enter_password(client, "JDoe")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in/enroll")


def test_inactive_account_is_told_only_after_the_correct_password(client, company):
    helpers.make_user(company, "gone", active=False)
    assert str(INVALID) in helpers.enter_password(client, "gone", "Wrong-Lantern-Harbor-93").data.decode()
    assert str(NOT_ACTIVE) in helpers.enter_password(client, "gone").data.decode()


def test_expired_account_is_told_only_after_the_correct_password(client, company, clock):
    helpers.make_user(company, "old", valid_until=clock.current.date() - dt.timedelta(days=1))
    assert str(INVALID) in helpers.enter_password(client, "old", "Wrong-Lantern-Harbor-93").data.decode()
    assert str(EXPIRED) in helpers.enter_password(client, "old").data.decode()
    assert LoginSession.select().count() == 0


def test_valid_until_today_still_signs_in(client, company, clock):
    helpers.make_user(company, "lastday", valid_until=clock.current.date())
    assert helpers.enter_password(client, "lastday").status_code == 303


def test_password_step_gives_only_a_pending_sign_in(client, user):
    helpers.enter_password(client)
    assert client.get("/").status_code == 303
    assert client.get("/sign-in/backup-codes").headers["Location"].endswith("/sign-in")
    assert LoginSession.get().stage == "pending"


def test_empty_fields_get_field_messages(client):
    response = helpers.post_form(client, "/sign-in", {"user_id": "", "password": ""})
    html = response.data.decode()
    assert "Enter your User ID." in html and "Enter your password." in html


def test_htmx_password_step_swaps_in_the_enrollment_fragment(client, user):
    response = helpers.enter_password(client, headers=HX)
    html = response.data.decode()
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/sign-in/enroll"
    assert "<html" not in html and 'id="auth-step"' in html
    assert "Device name" in html and "Verification code" in html and "<svg" in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_htmx_password_step_swaps_in_the_code_fragment(client, user, clock):
    helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    response = helpers.enter_password(client, headers=HX)
    html = response.data.decode()
    assert response.headers["HX-Push-Url"] == "/sign-in/verify"
    assert "<html" not in html and "Verification code" in html and "Device name" not in html


def test_htmx_wrong_password_rerenders_the_fragment(client, user):
    response = helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93", headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.data.decode() and str(INVALID) in response.data.decode()


def test_signed_in_person_visiting_sign_in_goes_home(client, user):
    helpers.enroll(client)
    response = client.get("/sign-in")
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("next_url, lands_on", [("/%3Fx%3D1", "/?x=1"), ("//evil.example/x", "/"),
                                             ("https://evil.example/", "/"), ("/\\evil.example", "/")])
def test_next_is_followed_after_sign_in_only_when_local(client, user, clock, next_url, lands_on):
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    clock.advance(seconds=30)
    helpers.post_form(client, f"/sign-in?next={next_url}", {"user_id": "jdoe", "password": helpers.PASSWORD})
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert response.headers["Location"] == lands_on


def test_protected_page_sends_to_sign_in_with_next(client):
    response = client.get("/?tab=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/?tab%3D1"


def test_protected_page_tells_htmx_to_redirect(client):
    response = client.get("/", headers=HX)
    assert response.headers["HX-Redirect"].startswith("/sign-in")


def test_htmx_history_restore_gets_the_whole_page(client):
    response = client.get("/sign-in", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.data.decode()


def test_plain_get_of_sign_in_is_a_whole_page_and_htmx_get_a_fragment(client):
    assert "<html" in client.get("/sign-in").data.decode()
    fragment = client.get("/sign-in", headers=HX).data.decode()
    assert "<html" not in fragment and 'id="auth-step"' in fragment
