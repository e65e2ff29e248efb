"""Contact persons: created by an administrator, Pending until they confirm by an e-mailed link."""
import re

import pytest

from portal.models import (
    AuditEvent,
    ContactEvent,
    ContactPerson,
    LoginSession,
    OutboxMessage,
)
from tests import helpers

LINK = re.compile(r"http://portal\.example\.test/contact/activate/([A-Za-z0-9_-]+)")
CARL = {"first_name": "Carl", "last_name": "Contact", "email": "carl@acme.example", "phone": "+49 1",
        "department": "Quality"}


@pytest.fixture
def admin_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin")
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


def add(client, **values):
    return helpers.post_form(client, "/admin/new-contact", {**CARL, **values})


def last_link(to="carl@acme.example"):
    message = (OutboxMessage.select().where(OutboxMessage.to_address == to)
               .order_by(OutboxMessage.id.desc()).get())
    return LINK.search(helpers.mail_text(message)).group(1)


def test_new_contact_is_pending_and_gets_an_activation_mail(admin_client):
    response = add(admin_client)
    contact = ContactPerson.get()
    assert response.headers["Location"] == f"/admin/contacts/{contact.id}"
    assert contact.status == "pending" and contact.department == "Quality"
    mail = OutboxMessage.get(OutboxMessage.to_address == "carl@acme.example")
    assert "Activate or Decline" in helpers.mail_text(mail) and "7 days" in helpers.mail_text(mail)
    token = last_link()
    assert contact.activation_token_hash != token and len(token) >= 22


def test_opening_the_link_changes_nothing(app, admin_client):
    add(admin_client)
    page = app.test_client().get(f"/contact/activate/{last_link()}")
    html = page.data.decode()
    assert page.status_code == 200 and "Activate" in html and "Decline" in html and "Carl Contact" in html
    assert ContactPerson.get().status == "pending"


def test_activate_makes_the_contact_active_and_tells_the_administrators(app, admin_client):
    add(admin_client)
    visitor = app.test_client()
    token = last_link()
    response = helpers.submit(visitor, f"/contact/activate/{token}", answer="activate")
    assert response.status_code == 200 and "You are now a contact person" in response.data.decode()
    assert ContactPerson.get().status == "active"
    assert OutboxMessage.select().where(OutboxMessage.to_address == "boss@acme.example",
                                        OutboxMessage.subject.contains("activated")).exists()
    assert visitor.get(f"/contact/activate/{token}").status_code == 410  # single use
    events = [e.event for e in ContactEvent.select().order_by(ContactEvent.id)]
    assert events == ["created", "activation_sent", "activated"]


def test_cancel_makes_the_contact_declined(app, admin_client):
    add(admin_client)
    helpers.submit(app.test_client(), f"/contact/activate/{last_link()}", answer="decline")
    assert ContactPerson.get().status == "declined"
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("declined")).exists()


def test_a_new_link_supersedes_the_old_one(app, admin_client):
    add(admin_client)
    old = last_link()
    contact = ContactPerson.get()
    helpers.post_form(admin_client, f"/admin/contacts/{contact.id}/send", {}, token_from=f"/admin/contacts/{contact.id}")
    assert app.test_client().get(f"/contact/activate/{old}").status_code == 410
    assert app.test_client().get(f"/contact/activate/{last_link()}").status_code == 200


def test_the_link_expires_after_7_days(app, admin_client, clock):
    add(admin_client)
    token = last_link()
    clock.advance(days=7, seconds=1)
    page = app.test_client().get(f"/contact/activate/{token}")
    assert page.status_code == 410 and "ask the Company Administrator" in page.data.decode()


def test_unknown_link_gets_one_clear_page(client):
    page = client.get("/contact/activate/" + "x" * 43)
    assert page.status_code == 410 and "This link cannot be used" in page.data.decode()


def test_answering_never_touches_a_signed_in_session(app, admin_client, company):
    add(admin_client)
    token = last_link()
    helpers.make_user(company, "colleague")
    browser = app.test_client()
    helpers.enroll(browser, "colleague")
    sessions_before = [s.token_hash for s in LoginSession.select().order_by(LoginSession.id)]
    helpers.submit(browser, f"/contact/activate/{token}", answer="activate")
    assert ContactPerson.get().status == "active"
    assert browser.get("/").status_code == 200
    assert [s.token_hash for s in LoginSession.select().order_by(LoginSession.id)] == sessions_before


def test_the_activation_page_is_shown_to_someone_who_has_new_terms_to_accept(app, admin_client, company):
    """A signed-in person with a first-sign-in step still open (new Terms of Use) opens a contact person's link:
    the activation page, not the Terms, which are about their own account."""
    add(admin_client)
    token = last_link()
    helpers.make_user(company, "colleague")
    browser = app.test_client()
    helpers.enroll(browser, "colleague", choices=False)  # Terms not accepted yet
    assert browser.get("/").headers["Location"] == "/terms"
    page = browser.get(f"/contact/activate/{token}")
    assert page.status_code == 200 and "Activate" in page.data.decode()
    helpers.submit(browser, f"/contact/activate/{token}", answer="activate")
    assert ContactPerson.get().status == "active"


def test_answer_without_csrf_is_refused(app, admin_client):
    add(admin_client)
    response = app.test_client().post(f"/contact/activate/{last_link()}", data={"answer": "activate"})
    assert response.status_code == 400 and ContactPerson.get().status == "pending"


def test_active_duplicate_email_is_refused_with_a_link(app, admin_client):
    add(admin_client)
    helpers.submit(app.test_client(), f"/contact/activate/{last_link()}", answer="activate")
    response = add(admin_client, first_name="Carla")
    html = response.data.decode()
    assert "already an active contact person" in html
    assert f'href="/admin/contacts/{ContactPerson.get().id}"' in html
    assert ContactPerson.select().count() == 1


def test_inactive_duplicate_is_offered_for_reactivation(admin_client):
    add(admin_client)
    contact = ContactPerson.get()
    helpers.post_form(admin_client, f"/admin/contacts/{contact.id}/deactivate", {"confirmed": "yes"},
                      token_from=f"/admin/contacts/{contact.id}")
    html = add(admin_client, email="CARL@acme.example").data.decode()
    assert "Re-activate that contact person instead" in html and ContactPerson.select().count() == 1
    helpers.post_form(admin_client, f"/admin/contacts/{contact.id}/reactivate", {},
                      token_from=f"/admin/contacts/{contact.id}")
    assert ContactPerson.get().status == "pending"
    assert OutboxMessage.select().where(OutboxMessage.to_address == "carl@acme.example").count() == 2


def test_deactivated_contact_link_no_longer_works(app, admin_client):
    add(admin_client)
    token = last_link()
    contact = ContactPerson.get()
    asked = helpers.post_form(admin_client, f"/admin/contacts/{contact.id}/deactivate", {},
                              token_from=f"/admin/contacts/{contact.id}")
    assert "Deactivate: Carl Contact?" in asked.data.decode() and ContactPerson.get().status == "pending"
    helpers.post_form(admin_client, f"/admin/contacts/{contact.id}/deactivate", {"confirmed": "yes"},
                      token_from=f"/admin/contacts/{contact.id}")
    assert app.test_client().get(f"/contact/activate/{token}").status_code == 410


def test_changing_the_email_makes_the_contact_pending_and_asks_the_new_address(app, admin_client):
    add(admin_client)
    helpers.submit(app.test_client(), f"/contact/activate/{last_link()}", answer="activate")
    contact = ContactPerson.get()
    helpers.post_form(admin_client, f"/admin/contacts/{contact.id}", {**CARL, "email": "carl.new@acme.example"})
    contact = ContactPerson.get()
    assert contact.status == "pending" and contact.email == "carl.new@acme.example"
    assert last_link("carl.new@acme.example")
    assert OutboxMessage.select().where(OutboxMessage.to_address == "carl@acme.example",
                                        OutboxMessage.subject.contains("no longer")).exists()


def test_list_search_and_status_filter(admin_client):
    add(admin_client)
    add(admin_client, first_name="Dora", last_name="Data", email="dora@acme.example", department="Purchasing")
    html = admin_client.get("/admin/contacts?q=dat").data.decode()
    assert "Dora Data" in html and "Carl Contact" not in html
    assert "Dora Data" in admin_client.get("/admin/contacts?q=Purch").data.decode()
    assert "Carl Contact" in admin_client.get("/admin/contacts?status=pending").data.decode()
    assert "No contact persons match." in admin_client.get("/admin/contacts?status=active").data.decode()
    fragment = admin_client.get("/admin/contacts?q=dat", headers={"HX-Request": "true"}).data.decode()
    assert "<html" not in fragment and "Dora Data" in fragment


def test_group_mailbox_is_allowed(admin_client):
    add(admin_client, first_name="Quality", last_name="Team", email="quality@acme.example")
    assert "group mailbox" in admin_client.get("/admin/new-contact").data.decode()
    assert ContactPerson.get().email == "quality@acme.example"


def test_every_change_is_audited(admin_client):
    add(admin_client)
    assert AuditEvent.select().where(AuditEvent.event.startswith("contact.")).count() >= 2
