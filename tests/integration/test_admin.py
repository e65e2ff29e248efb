"""Administration > User: a Company Administrator manages their own company's users, by the rules."""
import datetime as dt
import re

import pytest

from portal.models import (
    AuditEvent,
    Authenticator,
    BackupCode,
    OutboxMessage,
    Token,
    User,
)
from tests import helpers


@pytest.fixture
def admin_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", first_name="Bea", last_name="Boss")
    client = app.test_client()
    client.totp_secret = helpers.enroll(client, "boss")
    return client


@pytest.fixture
def worker(company):
    return helpers.make_user(company, "worker", first_name="Walt", last_name="Worker")


def act(client, user_id, action, confirmed="yes"):
    helpers.post_form(client, f"/admin/users/{user_id}/{action}", {}, token_from=f"/admin/users/{user_id}")
    return helpers.post_form(client, f"/admin/users/{user_id}/{action}", {"confirmed": confirmed},
                             token_from=f"/admin/users/{user_id}")


def test_search_by_user_id_prefix_last_name_or_email(admin_client, company, worker):
    helpers.make_user(company, "wanda", last_name="Zimmer", email="wz@elsewhere.example")
    html = admin_client.get("/admin/users?q=WOR").data.decode()
    assert "worker" in html and "wanda" not in html
    assert "wanda" in admin_client.get("/admin/users?q=zim").data.decode()
    assert "wanda" in admin_client.get("/admin/users?q=wz@").data.decode()


def test_search_as_fragment_for_htmx_and_as_page_without(admin_client, worker):
    page = admin_client.get("/admin/users?q=wor").data.decode()
    fragment = admin_client.get("/admin/users?q=wor", headers={"HX-Request": "true"}).data.decode()
    assert "<html" in page and "<html" not in fragment and 'id="results"' in fragment and "worker" in fragment


@pytest.mark.parametrize("status,shown,hidden", [
    ("inactive", "gone", "worker"), ("expired", "old", "worker"), ("expiring", "soon", "worker"),
    ("blocked", "locked", "worker"), ("active", "worker", "gone"), ("no-authenticator", "worker", "boss"),
])
def test_filters(admin_client, company, worker, clock, status, shown, hidden):
    today = clock.current.date()
    helpers.make_user(company, "gone", active=False)
    helpers.make_user(company, "old", valid_until=today - dt.timedelta(days=1))
    helpers.make_user(company, "soon", valid_until=today + dt.timedelta(days=10))
    locked = helpers.make_user(company, "locked")
    User.update(password_blocked_at=clock.current).where(User.id == locked.id).execute()
    html = admin_client.get(f"/admin/users?status={status}").data.decode()
    assert f">{shown}</a>" in html and f">{hidden}</a>" not in html


def test_results_are_paginated_by_50(admin_client, company):
    for n in range(55):
        helpers.make_user(company, f"user{n:02d}", password=None)
    first = admin_client.get("/admin/users?q=user").data.decode()
    assert first.count('href="/admin/users/user') == 50 and "Next page" in first
    second = admin_client.get("/admin/users?q=user&page=2").data.decode()
    assert second.count('href="/admin/users/user') == 5 and "Previous page" in second


def test_sorting_by_last_name(admin_client, company):
    helpers.make_user(company, "aaa", last_name="Zeta")
    helpers.make_user(company, "zzz", last_name="Alpha")
    html = admin_client.get("/admin/users?sort=last_name").data.decode()
    assert html.index(">zzz</a>") < html.index(">aaa</a>")


def test_details_show_status_and_save_only_changes_with_audit(admin_client, worker):
    html = admin_client.get("/admin/users/worker").data.decode()
    assert "Walt" in html and "Backup codes left" in html and "Authenticator" in html
    response = helpers.post_form(admin_client, "/admin/users/worker", {
        "email": "walt@acme.example", "first_name": "Walt", "last_name": "Worker", "phone": "",
        "role": "user", "active": "y", "valid_until": "2026-12-31"})
    assert response.status_code == 303
    saved = User.get_by_id(worker.id)
    assert str(saved.valid_until) == "2026-12-31"
    assert saved.email == "worker@acme.example"  # a new address waits for its owner's confirmation
    event = AuditEvent.get(AuditEvent.event == "admin.user_updated")
    assert "2026-12-31" in event.details and "first_name" not in event.details  # unchanged fields: not recorded
    requested = AuditEvent.get(AuditEvent.event == "admin.email_change_requested")
    assert "walt@acme.example" in requested.details and "worker@acme.example" in requested.details
    assert "Waiting for confirmation: walt@acme.example" in admin_client.get("/admin/users/worker").data.decode()


def test_far_future_valid_until_needs_confirmation(admin_client, worker):
    values = {"email": "worker@acme.example", "first_name": "Walt", "last_name": "Worker", "phone": "",
              "role": "user", "active": "y", "valid_until": "2030-01-01"}
    first = helpers.post_form(admin_client, "/admin/users/worker", values)
    assert first.status_code == 200 and "more than two years ahead" in first.data.decode()
    assert str(User.get_by_id(worker.id).valid_until) != "2030-01-01"
    helpers.post_form(admin_client, "/admin/users/worker", {**values, "confirmed": "yes"})
    assert str(User.get_by_id(worker.id).valid_until) == "2030-01-01"


def test_reset_mfa_is_confirmed_then_done_and_mailed(app, admin_client, worker, clock):
    worker_client = app.test_client()
    helpers.enroll(worker_client, "worker")
    first = helpers.post_form(admin_client, "/admin/users/worker/reset-mfa", {}, token_from="/admin/users/worker")
    assert first.status_code == 200 and "Reset MFA: worker?" in first.data.decode()
    assert Authenticator.select().join(User).where(User.user_id == "worker").exists()
    act(admin_client, "worker", "reset-mfa")
    assert not Authenticator.select().join(User).where(User.user_id == "worker").exists()
    assert BackupCode.select().join(User).where(User.user_id == "worker").count() == 0
    assert worker_client.get("/").status_code == 303
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("authenticator was reset")).exists()
    helpers.enter_password(worker_client, "worker")
    assert worker_client.get("/sign-in/verify").headers["Location"] == "/sign-in/enroll"


def test_send_password_reset_unblocks_only_when_used(app, admin_client, worker, clock):
    User.update(password_blocked_at=clock.current).where(User.id == worker.id).execute()
    act(admin_client, "worker", "send-password-reset")
    mail = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert "24 hours" in helpers.mail_text(mail) and "Company Administrator sent you" in helpers.mail_text(mail)
    assert User.get_by_id(worker.id).password_blocked_at is not None
    token = re.search(r"/new-password/([A-Za-z0-9_-]+)", helpers.mail_text(mail)).group(1)
    other = app.test_client()
    helpers.post_form(other, f"/new-password/{token}", {"password": "Brand-New-Harbor-77",
                                                        "confirm": "Brand-New-Harbor-77"})
    assert User.get_by_id(worker.id).password_blocked_at is None
    assert helpers.enter_password(other, "worker", "Brand-New-Harbor-77").status_code == 303


def test_extend_valid_until_by_one_year(admin_client, worker):
    act(admin_client, "worker", "extend")
    assert str(User.get_by_id(worker.id).valid_until) == "2028-03-16"


def test_deactivate_ends_sessions_and_activate_restores(app, admin_client, worker):
    worker_client = app.test_client()
    helpers.enroll(worker_client, "worker")
    act(admin_client, "worker", "deactivate")
    assert not User.get_by_id(worker.id).active and worker_client.get("/").status_code == 303
    act(admin_client, "worker", "activate")
    assert User.get_by_id(worker.id).active


def test_end_all_sessions(app, admin_client, worker):
    worker_client = app.test_client()
    helpers.enroll(worker_client, "worker")
    act(admin_client, "worker", "end-sessions")
    assert worker_client.get("/").status_code == 303


def test_new_user_gets_a_welcome_link_valid_72_hours(app, admin_client, clock):
    response = helpers.post_form(admin_client, "/admin/new-user", {
        "user_id": "newbie", "first_name": "Nora", "last_name": "New", "email": "nora@acme.example",
        "phone": "", "role": "user", "valid_until": ""})
    assert response.headers["Location"] == "/admin/users/newbie"
    user = User.get(User.user_id == "newbie")
    assert user.password_hash is None and str(user.valid_until) == "2027-03-16"
    mail = OutboxMessage.get(OutboxMessage.to_address == "nora@acme.example")
    assert "72 hours" in helpers.mail_text(mail) and "newbie" in helpers.mail_text(mail)
    token = re.search(r"/new-password/([A-Za-z0-9_-]+)", helpers.mail_text(mail)).group(1)
    assert Token.get().expires_at == clock.current + dt.timedelta(hours=72)
    newbie = app.test_client()
    assert "Choose your password" in newbie.get(f"/new-password/{token}").data.decode()
    helpers.post_form(newbie, f"/new-password/{token}", {"password": "Brand-New-Harbor-77",
                                                         "confirm": "Brand-New-Harbor-77"})
    assert helpers.enter_password(newbie, "newbie", "Brand-New-Harbor-77").headers["Location"] == "/sign-in/enroll"


def test_new_user_with_a_taken_user_id_keeps_the_typed_values(admin_client, worker):
    response = helpers.post_form(admin_client, "/admin/new-user", {
        "user_id": "WORKER", "first_name": "Nora", "last_name": "New", "email": "nora@acme.example",
        "phone": "", "role": "user", "valid_until": ""})
    html = response.data.decode()
    assert "already taken" in html and 'value="nora@acme.example"' in html


def test_service_center_role_cannot_be_granted(admin_client, worker):
    response = helpers.post_form(admin_client, "/admin/users/worker", {
        "email": "worker@acme.example", "first_name": "Walt", "last_name": "Worker", "phone": "",
        "role": "service-center", "active": "y", "valid_until": "2027-03-16"})
    assert response.status_code == 200 and User.get_by_id(worker.id).role == "user"


def test_company_cannot_be_mass_assigned(admin_client, worker):
    other = helpers.make_company("Other Corp")
    helpers.post_form(admin_client, "/admin/users/worker", {
        "email": "worker@acme.example", "first_name": "Walt", "last_name": "Worker", "phone": "",
        "role": "user", "active": "y", "valid_until": "2027-03-16", "company": str(other.id),
        "company_id": str(other.id), "user_id": "hijack"})
    saved = User.get_by_id(worker.id)
    assert saved.company_id == worker.company_id and saved.user_id == "worker"


def test_last_active_company_administrator_is_protected(admin_client):
    for action in ("deactivate",):
        response = act(admin_client, "boss", action)
        assert response.status_code == 303
    assert User.get(User.user_id == "boss").active
    demote = helpers.post_form(admin_client, "/admin/users/boss", {
        "email": "boss@acme.example", "first_name": "Bea", "last_name": "Boss", "phone": "",
        "role": "user", "active": "y", "valid_until": "2027-03-16"})
    assert "last active Company Administrator" in demote.data.decode()
    past = helpers.post_form(admin_client, "/admin/users/boss", {
        "email": "boss@acme.example", "first_name": "Bea", "last_name": "Boss", "phone": "",
        "role": "company-admin", "active": "y", "valid_until": "2026-01-01"})
    assert "past" in past.data.decode() or "last active" in past.data.decode()
    assert User.get(User.user_id == "boss").role == "company-admin"


def test_with_a_second_administrator_the_first_can_be_demoted(admin_client, company):
    helpers.make_user(company, "deputy", role="company-admin")
    assert "only one active Company Administrator" not in admin_client.get("/admin/users").data.decode()
    helpers.post_form(admin_client, "/admin/users/deputy", {
        "email": "deputy@acme.example", "first_name": "Jane", "last_name": "Doe", "phone": "",
        "role": "user", "active": "y", "valid_until": "2027-03-16"})
    assert User.get(User.user_id == "deputy").role == "user"


def test_single_administrator_banner(admin_client):
    assert "only one active Company Administrator" in admin_client.get("/admin/users").data.decode()


def test_stale_sign_in_must_reauthenticate_before_changes(admin_client, worker, clock):
    clock.advance(minutes=20)
    admin_client.get("/")  # activity keeps the session alive; the sign-in itself is now 31 minutes old
    clock.advance(minutes=11)
    response = helpers.post_form(admin_client, "/admin/users/worker/end-sessions", {"confirmed": "yes"},
                                 token_from="/admin/users/worker")
    assert response.headers["Location"].startswith("/security/confirm?next=/admin/users/worker")


def test_audit_log_lists_company_events_and_downloads_csv(admin_client, worker):
    act(admin_client, "worker", "extend")
    html = admin_client.get("/admin/audit?user=worker").data.decode()
    assert "admin.user_updated" in html
    csv = admin_client.get("/admin/audit?format=csv&event=admin.")
    assert csv.mimetype == "text/csv" and "admin.user_updated" in csv.data.decode()
    assert csv.data.decode().splitlines()[0].startswith("time (UTC),event,user")


def test_csv_cells_cannot_become_formulas(admin_client, company):
    helpers.make_user(company, "formula", first_name="=HYPERLINK", last_name="Doe")
    csv = admin_client.get("/admin/audit?format=csv").data.decode()
    assert ",=" not in csv


def test_valid_until_in_the_past_is_refused_for_anyone(admin_client, worker):
    """Access ends by clearing Active; a Valid Until is today or a later day (and at most ten years ahead)."""
    values = {"email": "worker@acme.example", "first_name": "Walt", "last_name": "Worker", "phone": "",
              "role": "user", "active": "y"}
    past = helpers.post_form(admin_client, "/admin/users/worker", {**values, "valid_until": "2026-03-15"})
    assert "not a day in the past" in past.data.decode()
    far = helpers.post_form(admin_client, "/admin/users/worker", {**values, "valid_until": "2036-03-17",
                                                                   "confirmed": "yes"})
    assert "at most 10 years ahead, until Mar 16, 2036" in far.data.decode()
    assert str(User.get_by_id(worker.id).valid_until) == "2027-03-16"
    User.update(valid_until="9999-12-31").where(User.id == worker.id).execute()  # from before the limit
    response = act(admin_client, "worker", "extend")
    assert "cannot be extended" in admin_client.get(response.headers["Location"]).data.decode()


def _continue(client, page: str):
    """What the continue page sends (its JavaScript at once, or the person with its button)."""
    parser = helpers._FormFields(re.search(r'<form method="post" action="([^"]+)" data-auto-submit', page).group(1))
    parser.feed(page)
    from werkzeug.datastructures import MultiDict
    return client.post(parser.action, data=MultiDict(parser.fields))


def test_a_stale_sign_in_asks_before_the_new_user_form_and_keeps_what_was_sent(app, admin_client, clock):
    secret = admin_client.totp_secret
    clock.advance(minutes=20)
    admin_client.get("/")  # still active, but signed in more than 30 minutes ago
    clock.advance(minutes=11)
    assert admin_client.get("/admin/new-user").headers["Location"] == "/security/confirm?next=/admin/new-user"
    # Sent anyway (a form left open): kept on the session, without passwords, and sent again after confirming.
    token = helpers.csrf_token(admin_client.get("/profile").data)
    sent = admin_client.post("/admin/new-user", data={
        "csrf_token": token, "user_id": "keptuser", "email": "kept@acme.example", "first_name": "Kim",
        "last_name": "Kept", "phone": "", "role": "user", "valid_until": ""})
    assert sent.headers["Location"] == "/security/confirm?next=/admin/new-user"
    assert not User.select().where(User.user_id == "keptuser").exists()
    page = helpers.post_form(admin_client, "/security/confirm?next=/admin/new-user",
                             {"password": helpers.PASSWORD, "code": helpers.code_now(secret)}).data.decode()
    assert 'value="keptuser"' in page and 'name="password"' not in page
    done = _continue(admin_client, page)
    assert done.headers["Location"] == "/admin/users/keptuser"
    assert User.get(User.user_id == "keptuser").email == "kept@acme.example"


def test_a_clicked_action_is_not_dropped_by_a_stale_sign_in(app, admin_client, worker, clock):
    clock.advance(minutes=20)
    admin_client.get("/")
    clock.advance(minutes=11)
    clicked = helpers.post_form(admin_client, "/admin/users/worker/deactivate", {}, token_from="/profile")
    assert clicked.headers["Location"] == "/security/confirm?next=/admin/users/worker"
    page = helpers.post_form(admin_client, "/security/confirm?next=/admin/users/worker",
                             {"password": helpers.PASSWORD, "code": helpers.code_now(admin_client.totp_secret)})
    asked = _continue(admin_client, page.data.decode())
    assert "Deactivate: worker?" in asked.data.decode()  # the click arrives: its confirmation is next
