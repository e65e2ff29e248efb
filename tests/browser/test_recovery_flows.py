"""Ways back in, as a person takes them in Chromium (JavaScript on and off): a backup code, an e-mailed
recovery link to register a new authenticator, New Password and Forgot ID.

Every link is read from mail that a real SMTP server on loopback (aiosmtpd) received from the app.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.auth.recovery_views import FORGOT_ID_SENT, NEW_PASSWORD_SENT
from portal.security import totp
from portal.services.mfa import WRONG_CODE
from portal.services.recovery import WRONG_BACKUP_CODE
from portal.services.signin import INVALID
from tests import helpers
from tests.browser.steps import (BOTH, USER_ID, accepted_codes, code_now, enter_password, expect_field_error,
                                 expect_home, expect_step, first_sign_in, link_in, mail_text,
                                 make_person, open_sign_in, password_step, register_and_read_backup_codes,
                                 sign_out, use_backup_code, verify, wait_for_mail)
FORGOT_ID_SENT, NEW_PASSWORD_SENT, WRONG_CODE, WRONG_BACKUP_CODE, INVALID = (  # English, as the browser shows them
    str(words) for words in (FORGOT_ID_SENT, NEW_PASSWORD_SENT, WRONG_CODE, WRONG_BACKUP_CODE, INVALID))

pytestmark = pytest.mark.browser

EMAIL = "jane.doe@acme.example"  # unlike the User ID, so a page showing the address does not show the ID
NEW_PASSWORD = "Brand-New-Harbor-77"

RECOVERY_SUBJECT = "Portal: your link to register a new authenticator"
NEW_PASSWORD_SUBJECT = "Portal: your link to set a new password"


@pytest.fixture
def app_config(smtp):
    """The live server sends its mail to a real SMTP server on loopback (the `smtp` fixture)."""
    return smtp.config()


@pytest.fixture(autouse=True)
def person(live_server):
    """Every test here is about one person with a User ID and a password (and no authenticator yet)."""
    return make_person(email=EMAIL)


def ask_for_mail(page, javascript: bool, live_server, link: str, path: str, label: str, value: str, button: str,
                 sent: str) -> tuple[str, str]:
    """From the sign-in page follow `link` (the page's title too) and ask for mail about `value`. Returns
    what the person then sees (URL and main text), which must not tell whether `value` is known."""
    open_sign_in(page, javascript)
    page.get_by_role("link", name=link, exact=True).click()
    expect_step(page, live_server, path, link)
    page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_have_text(sent)
    return page.url, page.get_by_role("main").inner_text()


# --- tests ----------------------------------------------------------------------------------------

@BOTH
def test_backup_code_signs_in_once(page, javascript, live_server, clock, smtp, console_errors):
    _, codes = first_sign_in(page, javascript, live_server)
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    use_backup_code(page, live_server, codes[3])
    expect_home(page, live_server)
    notice = wait_for_mail(smtp, to=EMAIL, subject="Portal: a backup code was used (9 left)")
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
    old_secret, old_codes = first_sign_in(page, javascript, live_server)
    sign_out(page, live_server)

    password_step(page, javascript, live_server, clock)
    page.get_by_role("button", name="Lost your device? Get a link by e-mail", exact=True).click()
    expect_step(page, live_server, "/sign-in/lost-device", "Check your e-mail")
    link = link_in(wait_for_mail(smtp, to=EMAIL, subject=RECOVERY_SUBJECT), live_server, "/recover/")

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
    wait_for_mail(smtp, to=EMAIL, subject="Portal: your authenticator was removed with a recovery link")
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
    secret = helpers.enroll(live_server.app.test_client())  # enrollment in the browser is tested above

    answers = [ask_for_mail(page, javascript, live_server, "New Password", "/new-password", "User ID", user_id,
                            "Send the link", NEW_PASSWORD_SENT) for user_id in ("no-such-user", USER_ID)]
    assert answers[0] == answers[1], "the page tells whether the User ID exists"
    link = link_in(wait_for_mail(smtp, to=EMAIL, subject=NEW_PASSWORD_SUBJECT), live_server, "/new-password/")

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
    wait_for_mail(smtp, to=EMAIL, subject="Portal: your password was changed")

    enter_password(page, password=helpers.PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text(INVALID)
    password_step(page, javascript, live_server, clock, NEW_PASSWORD)  # the authenticator still applies
    verify(page, code_now(secret))
    expect_home(page, live_server)
    assert console_errors == []


@BOTH
def test_forgot_id_mails_the_user_id_and_never_shows_it(page, javascript, live_server, smtp, console_errors):
    answers = []
    for address in ("nobody@acme.example", EMAIL):
        answers.append(ask_for_mail(page, javascript, live_server, "Forgot ID", "/forgot-id", "E-mail address",
                                    address, "Send my User ID", FORGOT_ID_SENT))
        assert USER_ID not in page.content()
    assert answers[0] == answers[1], "the page tells whether the address is registered"

    text = mail_text(wait_for_mail(smtp, to=EMAIL, subject="Portal: your User ID"))
    assert f"{USER_ID} (ACME Components)" in text
    assert console_errors == []

