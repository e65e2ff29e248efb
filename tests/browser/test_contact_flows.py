"""Contact persons in Chromium (JavaScript on and off): a Company Administrator adds one, the activation
mail goes through a real SMTP server on loopback (aiosmtpd), and the person answers on the linked page
with Activate or Decline, whoever is signed in in their browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import (
    ADMIN_EMAIL,
    BOTH,
    COMPANY,
    USER_ID,
    enroll_with_test_client,
    expect_home,
    expect_status,
    expect_step,
    fact,
    go_to_administration,
    link_in,
    make_person,
    sign_in,
    sign_in_as_admin,
    sign_out,
    wait_for_mail,
)

pytestmark = pytest.mark.browser

CONTACT = {"First name": "Chris", "Last name": "Miller", "E-mail address": "chris.miller@acme.example",
           "Phone": "+49 89 1234567", "Department": "Quality"}
NAME = f"{CONTACT['First name']} {CONTACT['Last name']}"
ACTIVATION_SUBJECT = f"Portal: please confirm you are a contact person of {COMPANY}"
ANSWERS = pytest.mark.parametrize("button, heading, status, answered", [
    ("Activate", "You are now a contact person", "Active", "activated"),
    ("Decline", "You are not a contact person", "Declined", "declined"),
], ids=["activate", "decline"])


@pytest.fixture
def app_config(smtp):
    """The live server sends its mail to a real SMTP server on loopback (the `smtp` fixture)."""
    return smtp.config()


def open_contact_list(page, live_server):
    """Administration > Contact Person, by the top navigation and the link on the Administration page."""
    go_to_administration(page, live_server)
    page.get_by_role("link", name="Contact Person", exact=True).click()
    expect_step(page, live_server, "/admin/contacts", "Administration > Contact Person")


def expect_contact_status(page, status: str):
    """On Administration > Contact Person, the contact person's row shows `status`."""
    table = page.get_by_role("table", name="Contact persons")
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name=NAME, exact=True))
    expect(row.get_by_role("cell")).to_have_text([NAME, CONTACT["E-mail address"], CONTACT["Department"], status])


def add_contact(page, live_server, smtp) -> str:
    """The administrator adds the contact person; returns the link of the activation mail they receive."""
    open_contact_list(page, live_server)
    page.get_by_role("link", name="New contact person", exact=True).click()
    expect_step(page, live_server, "/admin/new-contact", "New contact person")
    for label, value in CONTACT.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Add and send activation e-mail", exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/admin/contacts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect_status(page, f"{NAME} was added and has been sent an activation e-mail.")
    page.get_by_role("link", name="Administration > Contact Person", exact=True).click()  # the way back
    expect_step(page, live_server, "/admin/contacts", "Administration > Contact Person")
    expect_contact_status(page, "Pending")

    mail = wait_for_mail(smtp, subject=ACTIVATION_SUBJECT, to=CONTACT["E-mail address"])
    return link_in(mail, live_server, "/contact/activate/")


def answer(page, link: str, button: str, heading: str):
    """The contact person opens the mailed link, reads what would be shown, and answers."""
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Become a contact person of {COMPANY}?")
    expect(fact(page, "Name")).to_have_text(NAME)
    expect(fact(page, "Department")).to_have_text(CONTACT["Department"])
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page).to_have_url(link)


@BOTH
@ANSWERS
def test_contact_person_answers_the_activation_mail(page, new_page, javascript, live_server, clock, smtp,
                                                    console_errors, button, heading, status, answered):
    sign_in_as_admin(page, javascript, live_server, clock)
    link = add_contact(page, live_server, smtp)

    answer(new_page(), link, button, heading)  # in the contact person's own browser, signed in to nothing
    wait_for_mail(smtp, subject=f"Portal: contact person {NAME} {answered}", to=ADMIN_EMAIL)
    open_contact_list(page, live_server)
    expect_contact_status(page, status)
    assert console_errors == []


@BOTH
def test_activating_in_a_browser_signed_in_as_someone_else_keeps_their_session(
        page, new_page, javascript, live_server, clock, smtp, console_errors):
    make_person(company=sign_in_as_admin(page, javascript, live_server, clock))
    link = add_contact(page, live_server, smtp)

    shared = new_page()  # a user of the company is signed in where the contact person opens the mail
    sign_in(shared, javascript, live_server, clock, enroll_with_test_client(live_server, clock))
    answer(shared, link, "Activate", "You are now a contact person")
    expect(shared.get_by_role("navigation", name="Account")).to_contain_text(f"({USER_ID})")

    shared.goto("/")
    expect_home(shared, live_server)
    sign_out(shared, live_server)  # a POST: the session and its CSRF token still work
    open_contact_list(page, live_server)
    expect_contact_status(page, "Active")
    assert console_errors == []
