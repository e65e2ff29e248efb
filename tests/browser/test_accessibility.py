"""Accessibility: every page a person sees in the flows, checked with axe-core against WCAG 2.1 A and AA,
with JavaScript on (htmx swaps pages and results in place) and off (every page a full page load).

Pages are checked as the flows show them: empty, with errors tied to their fields, with notices, with
tables of results. axe-core comes from npm (tests/browser/package.json); see the `axe` fixture.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock as portal_clock
from portal.auth.recovery_views import FORGOT_ID_SENT, NEW_PASSWORD_SENT
from portal.models import OutboxMessage
from portal.security import totp
from portal.services.mfa import WRONG_CODE
from portal.services.recovery import WRONG_BACKUP_CODE
from portal.services.signin import INVALID
from tests import helpers
from tests.browser.steps import (ADMIN_ID, BOTH, COMPANY, USER_ID, code_now, enroll_with_test_client,
                                 enter_password, expect_field_error, expect_home, expect_status, expect_step,
                                 go_to_administration, link_in, make_admin, make_person, open_sign_in,
                                 password_step, read_key, register, sign_in, sign_in_as_admin, sign_out, verify,
                                 wait_for_mail, wrong_code)
FORGOT_ID_SENT, NEW_PASSWORD_SENT, WRONG_CODE, WRONG_BACKUP_CODE, INVALID = (  # English, as the browser shows them
    str(words) for words in (FORGOT_ID_SENT, NEW_PASSWORD_SENT, WRONG_CODE, WRONG_BACKUP_CODE, INVALID))

pytestmark = [pytest.mark.browser, BOTH]

EMAIL = "jane.doe@acme.example"
NEW_EMAIL = "jane.doe@home.example"
NEW_PASSWORD = "Brand-New-Harbor-77"
CONTACT = {"First name": "Chris", "Last name": "Miller", "E-mail address": "chris.miller@acme.example",
           "Phone": "+49 89 1234567", "Department": "Quality"}


@pytest.fixture
def app_config(smtp):
    """Links come by mail, as people get them: the live server sends to a real SMTP server on loopback."""
    return smtp.config()


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def link(page, name: str):
    return page.get_by_role("link", name=name, exact=True)


def in_days(days: int) -> dt.date:
    return portal_clock.today() + dt.timedelta(days=days)


# --- sign-in --------------------------------------------------------------------------------------

def test_sign_in_pages(axe, console_errors, page, new_page, javascript, live_server, clock, smtp):
    """Sign in, enrollment with the QR code and the key, backup codes, Terms of Use, Personal Settings,
    home; then the code step, the backup-code step, lost device and the recovery link."""
    make_person(email=EMAIL)
    open_sign_in(page, javascript)
    axe.check(page, "sign-in")
    enter_password(page, password="Not-The-Password-42")
    expect(page.get_by_role("alert")).to_contain_text(INVALID)
    axe.check(page, "sign-in, wrong password")
    enter_password(page, "", "")  # nothing entered: errors tied to both fields
    expect_field_error(page, "User ID", "Enter your User ID.")
    axe.check(page, "sign-in, empty fields")

    enter_password(page)
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    expect(page).to_have_title("Register your authenticator app · Portal")  # also when htmx swapped it in
    expect(page.locator("svg.qr")).to_be_visible()
    axe.check(page, "enrollment with QR code")
    secret = read_key(page)  # opens "Cannot scan? Enter the key instead"
    axe.check(page, "enrollment with the key shown")
    register(page, wrong_code(secret))
    expect_field_error(page, "Verification code", WRONG_CODE)
    axe.check(page, "enrollment, wrong code")
    register(page, code_now(secret))

    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    axe.check(page, "backup codes")
    button(page, "I have saved my backup codes").click()
    expect_step(page, live_server, "/terms", "Terms of Use")
    axe.check(page, "Terms of Use, first sign-in")
    button(page, "I accept the Terms of Use").click()
    expect_step(page, live_server, "/personal-settings", "Personal Settings")
    axe.check(page, "Personal Settings, first sign-in")
    button(page, "Do not show my personal data").click()
    expect_home(page, live_server)
    axe.check(page, "home")

    sign_out(page, live_server)
    axe.check(page, "sign-in after signing out")

    password_step(page, javascript, live_server, clock)
    expect(page).to_have_title("Verification code · Portal")
    axe.check(page, "code step")
    verify(page, wrong_code(secret))
    expect_field_error(page, "Verification code", WRONG_CODE)
    if javascript:  # swapped in without a page load: announced
        expect(page.get_by_role("alert")).to_contain_text(WRONG_CODE)
    axe.check(page, "code step, wrong code")
    link(page, "Use a backup code").click()
    expect_step(page, live_server, "/sign-in/backup-code", "Use a backup code")
    axe.check(page, "backup-code step")
    page.get_by_label("Backup code", exact=True).fill("aaaaa-bbbbb")
    button(page, "Sign in").click()
    expect_field_error(page, "Backup code", WRONG_BACKUP_CODE)
    axe.check(page, "backup-code step, wrong code")
    link(page, "Use a code from the authenticator app instead").click()
    expect_step(page, live_server, "/sign-in/verify", "Enter your verification code")

    button(page, "Lost your device? Get a link by e-mail").click()
    expect_step(page, live_server, "/sign-in/lost-device", "Check your e-mail")
    axe.check(page, "lost device: link sent")
    recovery = link_in(wait_for_mail(smtp, to=EMAIL, subject="Portal: your link to register a new authenticator"),
                       live_server, "/recover/")
    page.goto(recovery)
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a new authenticator")
    axe.check(page, "recovery link, same browser")
    elsewhere = new_page()  # another browser: the password is asked again
    elsewhere.goto(recovery)
    expect(elsewhere.get_by_label("Password", exact=True)).to_be_visible()
    axe.check(elsewhere, "recovery link, another browser")
    assert console_errors == []  # axe, put in by page.evaluate, trips no Content-Security-Policy


# --- ways back in ---------------------------------------------------------------------------------

def test_forgot_id_and_new_password_pages(axe, page, javascript, live_server, smtp):
    """Forgot ID, New Password, the pages saying the mail is sent, setting the password by the link, and
    the link once used."""
    make_person(email=EMAIL)
    open_sign_in(page, javascript)
    link(page, "Forgot ID").click()
    expect_step(page, live_server, "/forgot-id", "Forgot ID")
    axe.check(page, "Forgot ID")
    button(page, "Send my User ID").click()
    expect_field_error(page, "E-mail address", "Enter your e-mail address.")
    axe.check(page, "Forgot ID, nothing entered")
    page.get_by_label("E-mail address", exact=True).fill(EMAIL)
    button(page, "Send my User ID").click()
    expect(page.get_by_role("status")).to_have_text(FORGOT_ID_SENT)
    axe.check(page, "Forgot ID: sent")

    link(page, "Back to sign in").click()
    link(page, "New Password").click()
    expect_step(page, live_server, "/new-password", "New Password")
    axe.check(page, "New Password")
    page.get_by_label("User ID", exact=True).fill(USER_ID)
    button(page, "Send the link").click()
    expect(page.get_by_role("status")).to_have_text(NEW_PASSWORD_SENT)
    axe.check(page, "New Password: sent")

    new_password = link_in(wait_for_mail(smtp, to=EMAIL, subject="Portal: your link to set a new password"),
                           live_server, "/new-password/")
    page.goto(new_password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    axe.check(page, "set a new password")
    page.get_by_label("New password", exact=True).fill("password1")
    page.get_by_label("Repeat new password", exact=True).fill("password1")
    button(page, "Set new password").click()
    expect_field_error(page, "New password", re.compile("too easy to guess"))
    axe.check(page, "set a new password, errors")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password", exact=True).fill(NEW_PASSWORD)
    button(page, "Set new password").click()
    expect_step(page, live_server, "/sign-in", "Sign in")
    axe.check(page, "sign-in after a new password")

    response = page.goto(new_password)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    axe.check(page, "link cannot be used")


# --- one's own account ----------------------------------------------------------------------------

def test_account_pages(axe, page, new_page, javascript, live_server, clock, smtp):
    """Home (with the Valid Until notice), Profile, e-mail confirmation, Change password, Security, Confirm
    it is you, Sessions, Directory, Terms of Use and Personal Settings as they are after the first sign-in."""
    company = helpers.make_company(COMPANY)
    make_person(company=company, email=EMAIL, valid_until=in_days(20), phone="+49 89 555")
    make_person("asmith", company, first_name="Anna", last_name="Smith")  # allows showing her data
    make_person("bjones", company, first_name="Bob", last_name="Jones")  # refuses
    helpers.enroll(live_server.app.test_client(), "asmith")
    client = live_server.app.test_client()
    helpers.enroll(client, "bjones", choices=False)
    helpers.first_sign_in_choices(client, allow=False)
    secret = enroll_with_test_client(live_server, clock)

    sign_in(page, javascript, live_server, clock, secret)
    expect(page.get_by_text("Your User ID is valid until")).to_be_visible()
    axe.check(page, "home, Valid Until soon")
    steps = (_profile_and_email_change, _change_password, _security_and_a_kept_click, _sessions, _directory,
             _terms_and_personal_settings, _not_found_signed_in)
    for step in steps:  # each a part of the account, in the order a person meets them
        step(axe, page, new_page, javascript, live_server, clock, smtp, secret)


def _profile_and_email_change(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    link(page.get_by_role("navigation", name="Main"), "Profile").click()
    expect_step(page, live_server, "/profile", "Profile")
    axe.check(page, "Profile")
    page.get_by_label("First name", exact=True).fill("")
    button(page, "Save").click()
    expect_field_error(page, "First name", "Enter your first name.")
    axe.check(page, "Profile, name missing")
    page.get_by_label("New e-mail address", exact=True).fill(NEW_EMAIL)
    page.get_by_label("Current password", exact=True).fill("Not-The-Password-42")
    clock.advance(seconds=30)
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    button(page, "Change e-mail address").click()
    expect(page.get_by_label("Current password", exact=True)).to_have_attribute("aria-invalid", "true")
    axe.check(page, "Profile, wrong password for the e-mail address")
    page.get_by_label("New e-mail address", exact=True).fill(NEW_EMAIL)
    page.get_by_label("Current password", exact=True).fill(helpers.PASSWORD)
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    button(page, "Change e-mail address").click()
    expect(page.get_by_role("status")).to_contain_text("We have sent a confirmation link")
    axe.check(page, "Profile, confirmation link sent")
    confirm = link_in(wait_for_mail(smtp, to=NEW_EMAIL, subject="Portal: confirm your new e-mail address"),
                      live_server, "/profile/email/")
    page.goto(confirm)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your e-mail address")
    axe.check(page, "confirm the new e-mail address")


def _change_password(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    page.goto("/profile")
    link(page.get_by_role("main"), "Change password").click()
    expect_step(page, live_server, "/profile/password", "Change password")
    axe.check(page, "Change password")
    button(page, "Change password").click()
    expect_field_error(page, "Current password", "Enter your current password.")
    axe.check(page, "Change password, nothing entered")


def _security_and_a_kept_click(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    link(page.get_by_role("navigation", name="Main"), "Security").click()
    expect_step(page, live_server, "/security", "Security")
    axe.check(page, "Security")
    button(page, "New backup codes").click()  # the sign-in is not fresh: confirm first
    expect_step(page, live_server, "/security/confirm?next=/security", "Confirm it is you")
    axe.check(page, "Confirm it is you")
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_label("Verification code", exact=True).fill(wrong_code(secret))
    button(page, "Confirm").click()
    expect_field_error(page, "Verification code", WRONG_CODE)
    axe.check(page, "Confirm it is you, wrong code")
    clock.advance(seconds=totp.PERIOD)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    button(page, "Confirm").click()
    if not javascript:  # the click on New backup codes was kept: sent on by itself, or here with a button
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: now the change you asked for")
        axe.check(page, "a kept click, to continue")
        button(page, "Continue").click()
    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    axe.check(page, "new backup codes")
    button(page, "I have saved my backup codes").click()


def _sessions(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    sign_in(new_page(), javascript, live_server, clock, secret)  # a second session, to sign out of
    page.goto("/sessions")
    expect_step(page, live_server, "/sessions", "Where you are signed in")
    expect(page.get_by_role("main").get_by_role("button", name="Sign out", exact=True).first).to_be_visible()
    axe.check(page, "Sessions")


def _directory(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    link(page.get_by_role("navigation", name="Main"), "Directory").click()
    expect_step(page, live_server, "/directory", f"Directory of {COMPANY}")
    expect(page.get_by_role("cell", name="Anna Smith")).to_be_visible()
    axe.check(page, "Directory")


def _terms_and_personal_settings(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    page.goto("/terms")
    expect_step(page, live_server, "/terms", "Terms of Use")
    axe.check(page, "Terms of Use, accepted")
    link(page.get_by_role("navigation", name="Main"), "Personal Settings").click()
    expect_step(page, live_server, "/personal-settings", "Personal Settings")
    expect(page.get_by_role("table")).to_be_visible()  # the choices so far
    axe.check(page, "Personal Settings with the choices so far")


def _not_found_signed_in(axe, page, new_page, javascript, live_server, clock, smtp, secret):
    response = page.goto("/no-such-page")
    assert response.status == 404
    axe.check(page, "404, signed in")


# --- Administration ------------------------------------------------------------------------------

def test_administration_user_pages(axe, console_errors, page, new_page, javascript, live_server, clock, smtp):
    """Administration > User: the list, the search, a user's details, a confirmation, a new user, the
    audit log; and the page where the new user chooses a password."""
    company = sign_in_as_admin(page, javascript, live_server, clock)
    make_person(company=company, email=EMAIL)
    make_person("jsoon", company, first_name="June", last_name="Soon", valid_until=in_days(10))
    page.goto("/")
    expect_home(page, live_server, ADMIN_ID, "Ada")
    expect(link(page, "1 Expiring within 30 days")).to_be_visible()
    axe.check(page, "home of a Company Administrator")
    steps = (_list_and_search, _user_details, _an_action, _new_user, _audit_log, _welcome_link)
    for step in steps:
        step(axe, page, new_page, javascript, live_server, smtp)
    assert console_errors == []


def _list_and_search(axe, page, new_page, javascript, live_server, smtp):
    go_to_administration(page, live_server)
    results = page.get_by_role("table", name="Users")
    expect(results.get_by_role("link", name=USER_ID, exact=True)).to_be_visible()
    axe.check(page, "Administration > User, everyone")
    search = page.get_by_label("Search", exact=True)
    search.fill("zz-nobody")
    if not javascript:
        button(page, "Search").click()
    expect(page.get_by_text("No users match.")).to_be_visible()
    axe.check(page, "Administration > User, no results")
    search.fill(USER_ID[:2])
    if not javascript:
        button(page, "Search").click()
    expect(results.get_by_role("link", name=ADMIN_ID, exact=True)).to_have_count(0)
    expect(results.get_by_role("link", name=USER_ID, exact=True)).to_be_visible()
    expect(page.locator("[id=results]")).to_have_count(1)  # htmx swaps the results in, not a second #results
    axe.check(page, "Administration > User, search results")
    page.get_by_label("Show", exact=True).select_option(label="Expiring within 30 days")
    if not javascript:
        button(page, "Search").click()
    search.fill("")
    if not javascript:
        button(page, "Search").click()
    expect(results.get_by_role("link", name="jsoon", exact=True)).to_be_visible()
    axe.check(page, "Administration > User, expiring")


def _user_details(axe, page, new_page, javascript, live_server, smtp):
    page.get_by_role("table", name="Users").get_by_role("link", name="jsoon", exact=True).click()
    expect_step(page, live_server, "/admin/users/jsoon", "User jsoon")
    axe.check(page, "user details")
    page.get_by_label("E-mail address", exact=True).fill("not an address")
    button(page, "Save").click()
    expect(page.get_by_label("E-mail address", exact=True)).to_have_attribute("aria-invalid", "true")
    axe.check(page, "user details, wrong e-mail address")
    page.get_by_label("Valid Until", exact=True).fill(in_days(900).isoformat())
    page.get_by_label("E-mail address", exact=True).fill("june.soon@acme.example")
    button(page, "Save").click()
    expect(page.get_by_role("alert")).to_be_visible()  # so far ahead: save anyway?
    axe.check(page, "user details, needs confirmation")
    page.goto("/admin/users/jsoon")


def _an_action(axe, page, new_page, javascript, live_server, smtp):
    button(page, "Reset MFA").click()
    expect_step(page, live_server, "/admin/users/jsoon/reset-mfa", "Reset MFA: jsoon?")
    axe.check(page, "confirmation page")
    button(page, "Reset MFA").click()
    expect_step(page, live_server, "/admin/users/jsoon", "User jsoon")
    expect_status(page, "MFA has been reset. The user registers a new authenticator at the next sign-in.")
    axe.check(page, "user details after an action")


def _new_user(axe, page, new_page, javascript, live_server, smtp):
    link(page, "Administration > User").click()
    link(page, "New user").click()
    expect_step(page, live_server, "/admin/new-user", "New user")
    axe.check(page, "new user")
    button(page, "Create user").click()
    expect_field_error(page, "User ID", "Enter a User ID.")
    axe.check(page, "new user, nothing entered")
    for label, value in (("User ID", "newbie"), ("First name", "Nina"), ("Last name", "New"),
                         ("E-mail address", "nina.new@acme.example")):
        page.get_by_label(label, exact=True).fill(value)
    button(page, "Create user").click()
    expect_step(page, live_server, "/admin/users/newbie", "User newbie")


def _audit_log(axe, page, new_page, javascript, live_server, smtp):
    page.goto("/admin/audit")
    expect_step(page, live_server, "/admin/audit", "Audit log")
    axe.check(page, "audit log")


def _welcome_link(axe, page, new_page, javascript, live_server, smtp):
    welcome = link_in(wait_for_mail(smtp, to="nina.new@acme.example", subject="Portal: your new User ID"),
                      live_server, "/new-password/")
    newcomer = new_page()
    newcomer.goto(welcome)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Choose your password")
    axe.check(newcomer, "welcome link: choose your password")


def test_contact_person_pages(axe, page, new_page, javascript, live_server, clock, smtp):
    """Administration > Contact Person: the list, a new one, the details; the public activation page and
    the page after the answer."""
    sign_in_as_admin(page, javascript, live_server, clock)
    go_to_administration(page, live_server)
    link(page, "Contact Person").click()
    expect_step(page, live_server, "/admin/contacts", "Administration > Contact Person")
    expect(page.get_by_text("No contact persons match.")).to_be_visible()
    axe.check(page, "contact persons, none yet")

    link(page, "New contact person").click()
    expect_step(page, live_server, "/admin/new-contact", "New contact person")
    axe.check(page, "new contact person")
    button(page, "Add and send activation e-mail").click()
    expect_field_error(page, "First name", "Enter the first name.")
    axe.check(page, "new contact person, nothing entered")
    for label, value in CONTACT.items():
        page.get_by_label(label, exact=True).fill(value)
    button(page, "Add and send activation e-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chris Miller")
    axe.check(page, "contact person details")

    link(page, "Administration > Contact Person").click()
    expect_step(page, live_server, "/admin/contacts", "Administration > Contact Person")
    page.get_by_label("Search", exact=True).fill("Mil")
    if not javascript:
        button(page, "Search").click()
    expect(page).to_have_url(re.compile(r"/admin/contacts\?(.*&)?q=Mil(&|$)"))
    expect(page.get_by_role("table", name="Contact persons").get_by_role("link", name="Chris Miller")).to_be_visible()
    expect(page.locator("[id=results]")).to_have_count(1)
    axe.check(page, "contact persons, search results")

    activation = link_in(wait_for_mail(smtp, to=CONTACT["E-mail address"],
                                       subject=f"Portal: please confirm you are a contact person of {COMPANY}"),
                         live_server, "/contact/activate/")
    contact = new_page()  # the contact person's own browser, signed in to nothing
    contact.goto(activation)
    expect(contact.get_by_role("heading", level=1)).to_have_text(f"Become a contact person of {COMPANY}?")
    axe.check(contact, "contact activation")
    button(contact, "Activate").click()
    expect(contact.get_by_role("heading", level=1)).to_have_text("You are now a contact person")
    axe.check(contact, "contact activation answered")
    response = contact.goto(activation)
    assert response.status == 410
    axe.check(contact, "contact activation link used")


# --- Service Center -------------------------------------------------------------------------------

def test_service_center_pages(axe, console_errors, page, javascript, live_server, clock, smtp):
    """Service Center: users of all companies, a user's details and the help with a ticket, companies,
    the first Company Administrator, the audit log and undeliverable mail."""
    make_admin()  # ACME Components and its only Company Administrator, ADMIN_ID
    operator = helpers.make_company("Portal Operator")
    make_person("helpdesk", operator, role="service-center", first_name="Hal", last_name="Help")
    empty = helpers.make_company("Empty Corp")
    with helpers.context():
        OutboxMessage.create(to_address="gone@acme.example", subject="Portal: your User ID", body_text="...",
                             status="failed", attempts=8, last_error="550 5.1.1 mailbox unavailable")
    secret = enroll_with_test_client(live_server, clock, "helpdesk")
    enroll_with_test_client(live_server, clock, ADMIN_ID)
    sign_in(page, javascript, live_server, clock, secret, "helpdesk", "Hal")

    link(page.get_by_role("navigation", name="Main"), "Service Center").click()
    expect_step(page, live_server, "/service-center/users", "Service Center: users of all companies")
    expect(page.get_by_role("table", name="Users").get_by_role("link", name=ADMIN_ID, exact=True)).to_be_visible()
    axe.check(page, "Service Center users")

    page.get_by_role("table", name="Users").get_by_role("link", name=ADMIN_ID, exact=True).click()
    expect_step(page, live_server, f"/service-center/users/{ADMIN_ID}", f"User {ADMIN_ID} of {COMPANY}")
    axe.check(page, "Service Center user details")
    button(page, "Reset MFA").click()
    expect_step(page, live_server, f"/service-center/users/{ADMIN_ID}/reset-mfa", f"Reset MFA: {ADMIN_ID}?")
    axe.check(page, "Service Center confirmation with a ticket")
    button(page, "Reset MFA").click()
    expect_field_error(page, "Ticket reference", "Enter the ticket reference.")
    axe.check(page, "Service Center confirmation, no ticket")

    page.goto("/service-center/users")
    link(page, "Companies").click()
    expect_step(page, live_server, "/service-center/companies", "Companies")
    axe.check(page, "companies")
    button(page, "Create company").click()
    expect_field_error(page, "Company name", "Enter the company name.")
    axe.check(page, "companies, nothing entered")

    page.goto(f"/service-center/companies/{empty.id}/first-admin")
    expect_step(page, live_server, f"/service-center/companies/{empty.id}/first-admin",
                "First Company Administrator of Empty Corp")
    axe.check(page, "first Company Administrator")
    button(page, "Create Company Administrator").click()
    expect_field_error(page, "User ID", "Enter a User ID.")
    axe.check(page, "first Company Administrator, nothing entered")

    page.goto("/service-center/audit")
    expect_step(page, live_server, "/service-center/audit", "Audit log")
    axe.check(page, "Service Center audit log")
    page.goto("/service-center/mail")
    expect_step(page, live_server, "/service-center/mail", "Undeliverable mail")
    expect(page.get_by_role("cell", name="gone@acme.example")).to_be_visible()
    axe.check(page, "undeliverable mail")
    assert console_errors == []


# --- error pages ----------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATE_LIMIT_SIGN_IN": ["10/minute", "1/minute"]}],
                         ids=["rate-limited"])
def test_error_pages(axe, page, javascript, live_server):
    """404 to someone not signed in, and 429 when sign-in attempts come too fast (swapped in by htmx)."""
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    axe.check(page, "404, not signed in")

    make_person()
    open_sign_in(page, javascript)
    enter_password(page, password="Not-The-Password-42")
    expect(page.get_by_role("alert")).to_contain_text(INVALID)
    enter_password(page, password="Not-The-Password-42")
    expect(page.get_by_text("Too many attempts in a short time")).to_be_visible()
    axe.check(page, "429")
