"""Access control found from the URL map: every administration and Service Center route, tried by a plain
user, by another company's administrator (with ids of this company's users), and without signing in."""
import re

import pytest

from portal.models import AuditEvent, ContactPerson, User
from tests import helpers

PREFIXES = ("/admin", "/service-center")


def protected_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIXES)]


def url_for_rule(rule, user_id="victim", company_id=1, contact_id=1):
    values = {"user_id": user_id, "action": "reset-mfa", "company_id": company_id, "contact_id": contact_id}
    return rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]


def state_of(user_id):
    user = User.get(User.user_id == user_id)
    contact = ContactPerson.get()
    return (user.email, user.role, user.active, user.valid_until, user.password_blocked_at,
            user.authenticators.count(), contact.status, contact.email, contact.activation_token_hash)


@pytest.fixture
def world(app, clock):
    """Company A with an administrator and a victim user; company B with its own administrator; a plain user."""
    company_a = helpers.make_company("A Corp")
    company_b = helpers.make_company("B Corp")
    helpers.make_user(company_a, "admin-a", role="company-admin")
    helpers.make_user(company_a, "victim")
    helpers.make_user(company_a, "plain")
    helpers.make_user(company_b, "admin-b", role="company-admin")
    ContactPerson.create(company=company_a, first_name="Carl", last_name="Contact", last_name_key="contact",
                         email="carl@a.example", email_key="carl@a.example")
    clients = {}
    for user_id in ("admin-a", "victim", "plain", "admin-b"):
        clients[user_id] = app.test_client()
        helpers.enroll(clients[user_id], user_id)
    return clients, company_a


def test_every_protected_route_is_found(app):
    rules = {rule.endpoint for rule in protected_rules(app)}
    assert {"admin.users", "admin.user_details", "admin.user_action", "admin.new_user", "admin.audit",
            "service_center.users", "service_center.user_action"} <= rules


def test_plain_user_gets_nothing_from_any_route(app, world):
    clients, company_a = world
    plain = clients["plain"]
    token = helpers.csrf_token(plain.get("/").data)
    before = state_of("victim")
    for rule in protected_rules(app):
        url = url_for_rule(rule, company_id=company_a.id, contact_id=ContactPerson.get().id)
        for method in rule.methods & {"GET", "POST"}:
            response = plain.open(url, method=method, data={"csrf_token": token, "confirmed": "yes", "ticket": "T-1",
                                                            "role": "company-admin"})
            assert response.status_code == 404, (method, url, response.status_code)
    assert state_of("victim") == before
    assert User.get(User.user_id == "plain").role == "user"
    assert AuditEvent.select().where(AuditEvent.event == "authorization.denied").count() > 0


def test_another_companys_administrator_gets_404_for_every_admin_route(app, world):
    clients, company_a = world
    intruder = clients["admin-b"]
    token = helpers.csrf_token(intruder.get("/").data)
    before = state_of("victim")
    for rule in protected_rules(app):
        if not rule.rule.startswith(("/admin/users/<", "/admin/contacts/<")):
            continue
        url = url_for_rule(rule, contact_id=ContactPerson.get().id)
        for method in rule.methods & {"GET", "POST"}:
            for action in ("reset-mfa", "send-password-reset", "extend", "deactivate", "end-sessions", "send",
                           "reactivate"):
                target = url.replace("reset-mfa", action)
                response = intruder.open(target, method=method, data={
                    "csrf_token": token, "confirmed": "yes", "email": "x@evil.example", "first_name": "X",
                    "last_name": "Y", "role": "company-admin", "active": "", "valid_until": "2020-01-01",
                    "department": "X"})
                assert response.status_code == 404, (method, target)
    assert state_of("victim") == before


def test_another_companys_users_never_appear_in_searches_or_the_log(world):
    clients, _ = world
    intruder = clients["admin-b"]
    assert ">victim</a>" not in intruder.get("/admin/users?q=vic").data.decode()
    log = intruder.get("/admin/audit?user=victim").data.decode()
    assert "<td>victim</td>" not in log and "sign_in.succeeded" not in log
    assert "victim" not in intruder.get("/admin/audit?format=csv").data.decode()


def test_not_signed_in_is_sent_to_sign_in(app):
    client = app.test_client()
    for rule in protected_rules(app):
        if "GET" in rule.methods:
            response = client.get(url_for_rule(rule))
            assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in"), rule.rule


def test_company_administrator_cannot_reach_the_service_center(world):
    clients, _ = world
    assert clients["admin-a"].get("/service-center/users").status_code == 404


def test_role_change_takes_effect_at_once(world):
    clients, _ = world
    assert clients["admin-a"].get("/admin/users").status_code == 200
    User.update(role="user").where(User.user_id == "admin-a").execute()
    assert clients["admin-a"].get("/admin/users").status_code == 404


# Called by applications, not by the person's browser: they authenticate the application (token, revocation,
# introspection) or its bearer token (UserInfo), never by cookie. A logout POSTed by an application ends
# nothing without our CSRF-checked confirmation or an ID token of this very session (tests/integration/oidc).
APPLICATION_ENDPOINTS = {"oidc.token", "oidc.revoke", "oidc.introspect", "oidc.userinfo", "oidc.end_session"}


def test_csrf_is_required_on_every_post_route(app, world):
    clients, company_a = world
    client = clients["admin-a"]
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.build({k: {"user_id": "victim", "action": "reset-mfa", "token": "x" * 43, "session_id": 1,
                              "company_id": company_a.id, "contact_id": 1, "client_id": "x", "passkey_id": 1}[k]
                          for k in rule.arguments})[1]
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(url, data={"confirmed": "yes"}, headers=headers)
            expected = (200, 400, 401) if rule.endpoint in APPLICATION_ENDPOINTS else (400,)
            assert response.status_code in expected, (rule.rule, response.status_code)
    assert client.get("/admin/users").status_code == 200  # still signed in: the logout POST ended nothing


def test_admin_views_do_not_leak_secrets(world):
    clients, _ = world
    html = clients["admin-a"].get("/admin/users/victim").data.decode()
    assert "$argon2" not in html and not re.search(r"gAAAAA[A-Za-z0-9_-]{20,}", html)
