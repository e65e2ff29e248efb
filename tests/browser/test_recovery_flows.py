"""Ways back in, as a person takes them in Chromium (JavaScript on and off): a backup code, an e-mailed
recovery link to register a new authenticator, New Password and Forgot ID.

Every link is read from mail that a real SMTP server on loopback (aiosmtpd) received from the app.
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from portal import clock as portal_clock
from portal.auth.recovery_views import FORGOT_ID_SENT, NEW_PASSWORD_SENT
from portal.security import totp
from portal.services.mfa import WRONG_CODE
from portal.services.recovery import WRONG_BACKUP_CODE
from portal.services.signin import INVALID
from tests import helpers

pytestmark = pytest.mark.browser

BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
USER_ID = "jdoe"
FIRST_NAME = "Jane"
EMAIL = "jane.doe@acme.example"  # unlike the User ID, so a page showing the address does not show the ID
NEW_PASSWORD = "Brand-New-Harbor-77"
KEY_TEXT = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")
JS_CLASS = re.compile(r"(^|\s)js(\s|$)")
BACKUP_CODE = re.compile(r"^[0-9a-z]{5}-[0-9a-z]{5}$")
MAIL_WAIT_SECONDS = 5.0

RECOVERY_SUBJECT = "Portal: your link to register a new authenticator"
NEW_PASSWORD_SUBJECT = "Portal: your link to set a new password"


@pytest.fixture
def app_config(smtp):
    """The live server sends its mail to a real SMTP server on loopback (the `smtp` fixture)."""
    return smtp.config()


# --- mail -----------------------------------------------------------------------------------------

def wait_for_mail(smtp, live_server, subject: str, to: str = EMAIL):
    """The one mail with this subject to this address, waiting (on the SMTP server) until it arrives."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        seen = len(smtp.messages)  # counted before looking, so a mail arriving meanwhile is not waited for
        found = [m for m in smtp.messages[:seen] if m["Subject"] == subject and m["To"] == to]
        if found:
            assert len(found) == 1, f"{len(found)} mails {subject!r} to {to}"
            return found[0]
        remaining = deadline - time.monotonic()
        received = [(m["Subject"], m["To"]) for m in smtp.messages]
        assert remaining > 0, f"no mail {subject!r} to {to}; received: {received}"
        smtp.wait_for(seen + 1, remaining)


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, live_server, path: str) -> str:
    """The one link in the mail, which must point at the live server's BASE_URL and `path`."""
    links = re.findall(r"https?://\S+", mail_text(message))
    wanted = [link for link in links if link.startswith(f"{live_server.url}{path}")]
    assert len(wanted) == 1, f"expected one {path} link built from BASE_URL {live_server.url}: {links}"
    return wanted[0]


# --- steps a person takes -------------------------------------------------------------------------

def make_person():
    """A company and a user with a password and no authenticator yet."""
    return helpers.make_user(helpers.make_company(), USER_ID, email=EMAIL, first_name=FIRST_NAME)


def code_now(secret: str) -> str:
    return totp.code_at(secret, portal_clock.timestamp())


def accepted_codes(secret: str) -> set[str]:
    """The codes the app accepts for this secret now: the current step and one either side."""
    now = portal_clock.timestamp()
    return {totp.code_at(secret, now + k * totp.PERIOD) for k in (-1, 0, 1)}


def open_sign_in(page, javascript: bool):
    """Go to the sign-in page, checking that JavaScript really is on or off (portal.js marks <html>)."""
    page.goto("/sign-in")
    html = expect(page.locator("html"))
    if javascript:
        html.to_have_class(JS_CLASS)
    else:
        html.not_to_have_class(JS_CLASS)


def enter_password(page, password: str = helpers.PASSWORD, user_id: str = USER_ID):
    page.get_by_label("User ID", exact=True).fill(user_id)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_step(page, live_server, path: str, heading: str):
    expect(page).to_have_url(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def expect_home(page, live_server):
    expect_step(page, live_server, "/", f"Welcome, {FIRST_NAME}")
    user_id_value = page.locator("xpath=//dt[normalize-space()='User ID']/following-sibling::dd[1]")
    expect(user_id_value).to_have_text(USER_ID)


def expect_field_error(page, label: str, message: str | re.Pattern):
    """The error is shown and tied to its field, so screen readers announce it with the field."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    pattern = message if isinstance(message, re.Pattern) else re.compile(re.escape(message))
    expect(field).to_have_accessible_description(pattern)


def read_key(page) -> str:
    """Open "Cannot scan?" and read the key, as a person without a camera would; returns it without spaces."""
    key = page.locator("#totp-key")
    if page.locator("details", has=key).get_attribute("open") is None:
        page.get_by_text("Cannot scan? Enter the key instead").click()
    expect(key).to_be_visible()
    text = key.inner_text().strip()
    assert KEY_TEXT.match(text), f"key not shown in groups of four: {text!r}"
    return text.replace(" ", "")


def register_and_read_backup_codes(page, live_server) -> tuple[str, list[str]]:
    """On the enrollment page: register the authenticator, read the backup codes off the page and confirm
    they are saved. Returns the authenticator's secret and the codes."""
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    expect(page.locator("svg.qr")).to_be_visible()
    secret = read_key(page)
    page.get_by_label("Device name", exact=True).fill("Work phone")
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    page.get_by_role("button", name="Register and sign in", exact=True).click()

    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    codes = [c.strip() for c in page.locator("#backup-codes code").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(BACKUP_CODE.match(c) for c in codes), codes
    page.get_by_role("button", name="I have saved my backup codes", exact=True).click()
    return secret, codes


def first_sign_in(page, javascript: bool, live_server) -> tuple[str, list[str]]:
    """First sign-in: enroll, save the backup codes, accept the Terms, make the personal-data choice."""
    open_sign_in(page, javascript)
    enter_password(page)
    secret, codes = register_and_read_backup_codes(page, live_server)
    expect_step(page, live_server, "/terms", "Terms of Use")
    page.get_by_role("button", name="I accept the Terms of Use", exact=True).click()
    expect_step(page, live_server, "/personal-settings", "Personal Settings")
    page.get_by_role("button", name="Do not show my personal data", exact=True).click()
    expect_home(page, live_server)
    return secret, codes


def sign_out(page, live_server):
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out", exact=True).click()
    expect_step(page, live_server, "/sign-in", "Sign in")


def password_step(page, javascript: bool, live_server, clock, password: str = helpers.PASSWORD):
    """Sign in with the password up to the code step, one TOTP step after the last sign-in (each step
    is accepted once per user)."""
    clock.advance(seconds=totp.PERIOD)
    open_sign_in(page, javascript)
    enter_password(page, password)
    expect_step(page, live_server, "/sign-in/verify", "Enter your verification code")


def verify(page, code: str):
    page.get_by_label("Verification code", exact=True).fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()


def use_backup_code(page, live_server, code: str):
    page.get_by_role("link", name="Use a backup code", exact=True).click()
    expect_step(page, live_server, "/sign-in/backup-code", "Use a backup code")
    page.get_by_label("Backup code", exact=True).fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()


# --- tests ----------------------------------------------------------------------------------------

@BOTH
def test_backup_code_signs_in_once(page, javascript, live_server, clock, smtp, console_errors):
    make_person()
    _, codes = first_sign_in(page, javascript, live_server)
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    use_backup_code(page, live_server, codes[3])
    expect_home(page, live_server)
    notice = wait_for_mail(smtp, live_server, "Portal: a backup code was used (9 left)")
    assert "you have 9 left" in mail_text(notice)
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    use_backup_code(page, live_server, codes[3])
    expect_step(page, live_server, "/sign-in/backup-code", "Use a backup code")
    expect_field_error(page, "Backup code", WRONG_BACKUP_CODE)

    page.get_by_label("Backup code", exact=True).fill(codes[4].upper())  # as typed off paper, any case
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_home(page, live_server)
    assert console_errors == []


@BOTH
def test_recovery_link_replaces_the_authenticator(page, javascript, live_server, clock, smtp, console_errors):
    make_person()
    old_secret, old_codes = first_sign_in(page, javascript, live_server)
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    page.get_by_role("button", name="Lost your device? Get a link by e-mail", exact=True).click()
    expect_step(page, live_server, "/sign-in/lost-device", "Check your e-mail")
    link = link_in(wait_for_mail(smtp, live_server, RECOVERY_SUBJECT), live_server, "/recover/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a new authenticator")
    # The same browser holds this person's pending sign-in, so the password is not asked again.
    expect(page.get_by_label("Password", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Your old authenticator has been removed. Register your new one now.")
    new_secret, new_codes = register_and_read_backup_codes(page, live_server)
    assert new_secret != old_secret
    assert not set(new_codes) & set(old_codes)
    expect_home(page, live_server)  # the Terms and the personal-data choice were made at the first sign-in
    wait_for_mail(smtp, live_server, "Portal: your authenticator was removed with a recovery link")
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    while accepted_codes(old_secret) & accepted_codes(new_secret):  # about 1 in 100,000: keep the check meaningful
        clock.advance(seconds=totp.PERIOD)
    verify(page, code_now(old_secret))
    expect_field_error(page, "Verification code", WRONG_CODE)
    use_backup_code(page, live_server, old_codes[0])
    expect_field_error(page, "Backup code", WRONG_BACKUP_CODE)
    page.get_by_role("link", name="Use a code from the authenticator app instead", exact=True).click()
    verify(page, code_now(new_secret))
    expect_home(page, live_server)

    assert console_errors == []
    response = page.goto(link)  # a second time: links work once
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_text("already been used")).to_be_visible()
    # Chromium reports every document answered with an error status in the console; this one is meant.
    assert console_errors == [f"Failed to load resource: the server responded with a status of 410 (GONE) ({link})"]


@BOTH
def test_new_password_by_mail_then_sign_in_with_it(page, javascript, live_server, clock, smtp, console_errors):
    make_person()
    secret = helpers.enroll(live_server.app.test_client())  # enrollment in the browser is tested above

    answers = []
    for user_id in ("no-such-user", USER_ID):
        open_sign_in(page, javascript)
        page.get_by_role("link", name="New Password", exact=True).click()
        expect_step(page, live_server, "/new-password", "New Password")
        page.get_by_label("User ID", exact=True).fill(user_id)
        page.get_by_role("button", name="Send the link", exact=True).click()
        expect(page.get_by_role("status")).to_have_text(NEW_PASSWORD_SENT)
        answers.append((page.url, page.get_by_role("main").inner_text()))
    assert answers[0] == answers[1], "the page tells whether the User ID exists"
    link = link_in(wait_for_mail(smtp, live_server, NEW_PASSWORD_SUBJECT), live_server, "/new-password/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a new password")
    page.get_by_label("New password", exact=True).fill("password1")
    page.get_by_label("Repeat new password", exact=True).fill("password1")
    page.get_by_role("button", name="Set new password", exact=True).click()
    expect_field_error(page, "New password", re.compile("too easy to guess"))

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password", exact=True).click()
    expect_step(page, live_server, "/sign-in", "Sign in")
    expect(page.get_by_role("status")).to_contain_text("Your password has been changed.")
    wait_for_mail(smtp, live_server, "Portal: your password was changed")

    enter_password(page, helpers.PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(INVALID)
    password_step(page, javascript, live_server, clock, NEW_PASSWORD)  # the authenticator still applies
    verify(page, code_now(secret))
    expect_home(page, live_server)
    assert console_errors == []


@BOTH
def test_forgot_id_mails_the_user_id_and_never_shows_it(page, javascript, live_server, smtp, console_errors):
    make_person()
    answers = []
    for address in ("nobody@acme.example", EMAIL):
        open_sign_in(page, javascript)
        page.get_by_role("link", name="Forgot ID", exact=True).click()
        expect_step(page, live_server, "/forgot-id", "Forgot ID")
        page.get_by_label("E-mail address", exact=True).fill(address)
        page.get_by_role("button", name="Send my User ID", exact=True).click()
        expect(page.get_by_role("status")).to_have_text(FORGOT_ID_SENT)
        assert USER_ID not in page.content()
        answers.append((page.url, page.get_by_role("main").inner_text()))
    assert answers[0] == answers[1], "the page tells whether the address is registered"

    text = mail_text(wait_for_mail(smtp, live_server, "Portal: your User ID"))
    assert f"{USER_ID} (ACME Components)" in text
    assert console_errors == []

