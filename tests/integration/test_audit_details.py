"""What the audit log and the request log say: the address, no empty details, plain words, and a trace of
every refused attempt."""
import json
import logging

import pytest

from portal.models import AuditEvent, User
from tests import helpers


@pytest.fixture
def admin_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", email="boss@acme.example")
    helpers.make_user(company, "worker")
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


def test_administrator_and_profile_events_record_the_address_and_no_empty_ticket(app, admin_client):
    helpers.post_form(admin_client, "/admin/users/worker/deactivate", {"confirmed": "yes"},
                      token_from="/admin/users/worker")
    helpers.post_form(admin_client, "/profile", {"first_name": "Adele", "last_name": "Boss", "phone": ""})
    for name in ("admin.user_updated", "profile.updated"):
        event = AuditEvent.get(AuditEvent.event == name)
        assert event.ip == "127.0.0.1", name
        assert "ticket" not in json.loads(event.details), name


def test_the_audit_page_shows_changes_in_plain_words(admin_client):
    helpers.post_form(admin_client, "/admin/users/worker/deactivate", {"confirmed": "yes"},
                      token_from="/admin/users/worker")
    page = admin_client.get("/admin/audit").data.decode()
    assert "active: yes → no" in page
    assert "{&#39;" not in page and "{'" not in page and "None" not in page


def test_reaching_for_another_companys_user_leaves_a_trace(app, admin_client):
    stranger_company = helpers.make_company("Other Corp")
    helpers.make_user(stranger_company, "stranger")
    assert admin_client.get("/admin/users/stranger").status_code == 404
    event = AuditEvent.get(AuditEvent.event == "authorization.denied")
    assert event.actor.user_id == "boss" and "/admin/users/stranger" in event.details
    assert event.ip == "127.0.0.1"


def test_ending_a_session_that_is_not_ones_own_records_nothing(app, admin_client):
    other = app.test_client()
    helpers.enroll(other, "worker")
    worker_session = max(s.id for s in User.get(User.user_id == "worker").login_sessions)
    helpers.post_form(admin_client, f"/sessions/{worker_session}/end", {}, token_from="/sessions")
    assert not AuditEvent.select().where(AuditEvent.event == "session.ended").exists()
    assert other.get("/").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATE_LIMIT_FORGOT_ID": ["1/hour", "50/hour"]}])
def test_refused_requests_are_logged_with_their_request_id(app, client, caplog):
    caplog.set_level(logging.INFO, logger="portal.request")
    client.post("/sign-in", data={"user_id": "x", "password": "y"})  # no CSRF token
    for _ in range(2):
        helpers.post_form(client, "/forgot-id", {"email": "nobody@acme.example"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "portal.request"]
    refused = [line for line in lines if line["status"] in (400, 429)]
    assert {line["status"] for line in refused} == {400, 429}
    assert all(line["request_id"] for line in refused)
