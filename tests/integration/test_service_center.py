"""Service Center: help only the last Company Administrator, with a ticket; create companies and first admins."""
import pytest

from portal.models import AuditEvent, Authenticator, Company, OutboxMessage, User
from tests import helpers


@pytest.fixture
def staff_client(app, clock):
    operator = helpers.make_company("Portal Operator")
    helpers.make_user(operator, "helpdesk", role="service-center", first_name="Hal", last_name="Help")
    client = app.test_client()
    helpers.enroll(client, "helpdesk")
    return client


@pytest.fixture
def lone_admin(app, company):
    user = helpers.make_user(company, "lone", role="company-admin", first_name="Lou", last_name="Lone")
    helpers.enroll(app.test_client(), "lone")
    return user


def act(client, user_id, action, ticket="T-1234"):
    return helpers.post_form(client, f"/service-center/users/{user_id}/{action}",
                             {"ticket": ticket, "confirmed": "yes"}, token_from=f"/service-center/users/{user_id}")


def test_search_spans_companies(staff_client, company, lone_admin):
    other = helpers.make_company("Other Corp")
    helpers.make_user(other, "outsider")
    html = staff_client.get("/service-center/users").data.decode()
    assert ">lone</a>" in html and ">outsider</a>" in html


def test_details_show_the_company_administrators(staff_client, lone_admin):
    html = staff_client.get("/service-center/users/lone").data.decode()
    assert "Lou Lone (lone)" in html and "only active Company Administrator" in html


def test_reset_mfa_of_the_only_admin_with_a_ticket(staff_client, lone_admin, company):
    helpers.make_user(company, "former", role="company-admin", active=False)
    response = act(staff_client, "lone", "reset-mfa")
    assert response.status_code == 303
    assert not Authenticator.select().where(Authenticator.user == lone_admin.id).exists()
    event = AuditEvent.get(AuditEvent.event == "admin.mfa_reset")
    assert "T-1234" in event.details and event.actor.user_id == "helpdesk"
    recipients = {m.to_address for m in OutboxMessage.select().where(OutboxMessage.subject.contains("Service Center"))}
    assert recipients == {"former@acme.example"}  # the company's other administrators are told
    assert OutboxMessage.select().where(OutboxMessage.to_address == "lone@acme.example",
                                        OutboxMessage.subject.contains("authenticator was reset")).exists()


def test_ticket_is_required(staff_client, lone_admin):
    act(staff_client, "lone", "reset-mfa", ticket="")
    assert Authenticator.select().where(Authenticator.user == lone_admin.id).exists()


def test_a_plain_user_is_refused_with_the_names_of_the_administrators(app, staff_client, lone_admin, company):
    worker = helpers.make_user(company, "worker")
    helpers.enroll(app.test_client(), "worker")
    html = staff_client.get("/service-center/users/worker").data.decode()
    assert "worker must ask a Company Administrator of the company: Lou Lone (lone)." in html
    act(staff_client, "worker", "reset-mfa")
    assert Authenticator.select().where(Authenticator.user == worker.id).exists()
    assert AuditEvent.select().where(AuditEvent.event == "service_center.refused").count() == 1


def test_an_admin_with_another_active_admin_is_refused(app, staff_client, lone_admin, company):
    helpers.make_user(company, "deputy", role="company-admin", first_name="Dee", last_name="Deputy")
    act(staff_client, "lone", "send-password-reset")
    assert not OutboxMessage.select().where(OutboxMessage.subject.contains("set a new password")).exists()
    assert "Dee Deputy (deputy)" in staff_client.get("/service-center/users/lone").data.decode()


def test_password_reset_for_the_only_admin_sends_a_link_and_never_shows_a_password(staff_client, lone_admin):
    response = act(staff_client, "lone", "send-password-reset")
    page = staff_client.get(response.headers["Location"]).data.decode()
    mail = OutboxMessage.select().where(OutboxMessage.subject.contains("set a new password")).get()
    assert mail.to_address == "lone@acme.example"
    assert "/new-password/" in helpers.mail_text(mail) and "/new-password/" not in page


def test_create_company_and_first_admin(staff_client):
    response = helpers.post_form(staff_client, "/service-center/companies", {"name": "Newco", "ticket": "T-9"})
    company = Company.get(Company.name == "Newco")
    assert response.headers["Location"] == f"/service-center/companies/{company.id}/first-admin"
    response = helpers.post_form(staff_client, f"/service-center/companies/{company.id}/first-admin", {
        "user_id": "newboss", "first_name": "Ned", "last_name": "New", "email": "ned@newco.example", "phone": "",
        "ticket": "T-9"})
    assert response.status_code == 303
    user = User.get(User.user_id == "newboss")
    assert user.role == "company-admin" and user.company_id == company.id
    assert OutboxMessage.select().where(OutboxMessage.to_address == "ned@newco.example").exists()
    again = helpers.post_form(staff_client, f"/service-center/companies/{company.id}/first-admin", {
        "user_id": "second", "first_name": "S", "last_name": "S", "email": "s@newco.example", "phone": "",
        "ticket": "T-9"})
    assert "already has an active Company Administrator" in again.data.decode()


def test_failed_mail_is_listed(staff_client, user):
    OutboxMessage.create(to_address="x@acme.example", subject="Portal: lost", body_text="t", status="failed",
                         attempts=8, last_error="ConnectionRefusedError")
    html = staff_client.get("/service-center/mail").data.decode()
    assert "x@acme.example" in html and "ConnectionRefusedError" in html


def test_audit_log_shows_all_companies(staff_client, lone_admin):
    html = staff_client.get("/service-center/audit").data.decode()
    assert "ACME Components" in html and "sign_in.succeeded" in html
