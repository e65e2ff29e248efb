"""Sign-in as a person does it in Chromium: by visible labels, with JavaScript (htmx) on and off."""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from portal import clock as portal_clock
from portal.security import totp
from portal.services.mfa import WRONG_CODE
from portal.services.signin import INVALID
from tests import helpers

pytestmark = pytest.mark.browser

BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
USER_ID = "jdoe"
KEY_TEXT = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")  # Base32 in groups of four
JS_CLASS = re.compile(r"(^|\s)js(\s|$)")  # set on <html> by static/js/portal.js
BACKUP_CODE = re.compile(r"^[0-9a-z]{5}-[0-9a-z]{5}$")


# --- steps a person takes -------------------------------------------------------------------------

def make_person(user_id: str = USER_ID):
    """A company and a user with a password and no authenticator yet."""
    return helpers.make_user(helpers.make_company(), user_id)


def code_now(secret: str) -> str:
    """What the authenticator app shows at the frozen time."""
    return totp.code_at(secret, portal_clock.timestamp())


def wrong_code(secret: str) -> str:
    """A well-formed code that no accepted step (now, or one either side) produces: never flaky."""
    now = portal_clock.timestamp()
    accepted = {totp.code_at(secret, now + k * totp.PERIOD) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def open_sign_in(page, javascript: bool):
    """Go to the sign-in page, checking that JavaScript really is on or off (portal.js marks <html>)."""
    page.goto("/sign-in")
    html = expect(page.locator("html"))
    if javascript:
        html.to_have_class(JS_CLASS)
    else:
        html.not_to_have_class(JS_CLASS)


def enter_password(page, user_id: str = USER_ID, password: str = helpers.PASSWORD):
    page.get_by_label("User ID", exact=True).fill(user_id)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def read_key(page) -> str:
    """Open "Cannot scan?" as a person would and read the key; returns it without spaces."""
    key = page.locator("#totp-key")
    if page.locator("details", has=key).get_attribute("open") is None:  # closed unless opened earlier
        page.get_by_text("Cannot scan? Enter the key instead").click()
    expect(key).to_be_visible()
    text = key.inner_text().strip()
    assert KEY_TEXT.match(text), f"key not shown in groups of four: {text!r}"
    return text.replace(" ", "")


def register(page, code: str, device_name: str = "Work phone"):
    page.get_by_label("Device name", exact=True).fill(device_name)
    page.get_by_label("Verification code", exact=True).fill(code)
    page.get_by_role("button", name="Register and sign in", exact=True).click()


def verify(page, code: str):
    page.get_by_label("Verification code", exact=True).fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()


def make_first_sign_in_choices(page, live_server):
    """Every first sign-in asks for the Terms of Use, then the personal-data choice, before home."""
    expect_step(page, live_server, "/terms", "Terms of Use")
    page.get_by_role("button", name="I accept the Terms of Use", exact=True).click()
    expect_step(page, live_server, "/personal-settings", "Personal Settings")
    page.get_by_role("button", name="Do not show my personal data", exact=True).click()


def expect_step(page, live_server, path: str, heading: str):
    """The person is on the page at `path` with `heading` as its title."""
    expect(page).to_have_url(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def expect_home(page, live_server, user_id: str = USER_ID):
    """Signed in: the home page lists the User ID."""
    expect(page).to_have_url(live_server.url + "/")
    user_id_value = page.locator("xpath=//dt[normalize-space()='User ID']/following-sibling::dd[1]")
    expect(user_id_value).to_have_text(user_id)


def expect_code_error(page, message: str):
    """The error is shown and tied to the code field, so screen readers announce it with the field."""
    field = page.get_by_label("Verification code", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(message)))


def decode_qr(page) -> str:
    """Photograph the QR code as shown and decode it with ZXing, as an authenticator app's scanner would."""
    png = page.locator("svg.qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one readable QR code, found {len(found)}"
    return found[0].text


def enroll_with_test_client(live_server, clock) -> str:
    """Register an authenticator without the browser (covered elsewhere); returns its secret.

    The clock then moves one step on, since each step's code is accepted only once.
    """
    secret = helpers.enroll(live_server.app.test_client())
    clock.advance(seconds=totp.PERIOD)
    return secret


def register_and_save_backup_codes(page, live_server) -> str:
    """The first sign-in up to its backup codes, read off the page; returns the authenticator's secret."""
    enter_password(page)
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    expect(page.locator("svg.qr")).to_be_visible()
    secret = read_key(page)

    register(page, code_now(secret))
    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10 and all(BACKUP_CODE.match(c.strip()) for c in codes), codes
    page.get_by_role("button", name="I have saved my backup codes", exact=True).click()
    return secret


# --- tests ----------------------------------------------------------------------------------------

@BOTH
def test_first_sign_in_enrolls_and_signs_in_again(page, javascript, live_server, clock, console_errors):
    make_person()
    open_sign_in(page, javascript)
    secret = register_and_save_backup_codes(page, live_server)
    make_first_sign_in_choices(page, live_server)
    expect_home(page, live_server)

    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out", exact=True).click()
    expect_step(page, live_server, "/sign-in", "Sign in")
    expect(page.get_by_role("status")).to_have_text("You have been signed out.")

    clock.advance(seconds=totp.PERIOD)  # the enrollment code's step is used up
    enter_password(page)
    expect_step(page, live_server, "/sign-in/verify", "Enter your verification code")
    verify(page, code_now(secret))
    expect_home(page, live_server)
    assert console_errors == []


def test_terms_and_personal_data_choice_can_be_made_as_the_page_is(page, live_server, console_errors):
    """Regression: the forms once sent an empty `version` before the real one, so accepting always failed."""
    make_person()
    open_sign_in(page, javascript=True)
    register_and_save_backup_codes(page, live_server)
    make_first_sign_in_choices(page, live_server)
    expect_home(page, live_server)


@BOTH
def test_qr_code_scans_to_the_key_shown_as_text(page, javascript, live_server, console_errors):
    make_person()
    open_sign_in(page, javascript)
    enter_password(page)
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")

    uri = urlsplit(decode_qr(page))
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", f"/Portal:{USER_ID}")
    assert query == {"secret": [read_key(page)], "issuer": ["Portal"]}
    assert console_errors == []


@BOTH
def test_wrong_password_and_unknown_user_id_get_the_same_message(page, javascript, live_server, console_errors):
    make_person()
    for user_id, password in ((USER_ID, "Not-The-Password-42"), ("nobody-here", helpers.PASSWORD)):
        open_sign_in(page, javascript)  # a fresh page, so the message seen is this attempt's
        enter_password(page, user_id, password)
        expect(page.get_by_role("alert")).to_have_text(INVALID)
        expect_step(page, live_server, "/sign-in", "Sign in")
    assert console_errors == []


@BOTH
def test_wrong_code_at_enrollment_can_be_retried(page, javascript, live_server, console_errors):
    make_person()
    open_sign_in(page, javascript)
    enter_password(page)
    secret = read_key(page)

    register(page, wrong_code(secret))
    expect_code_error(page, WRONG_CODE)
    assert read_key(page) == secret, "a retry must offer the same key, or the scanned one stops working"

    register(page, code_now(secret))
    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    assert console_errors == []


@BOTH
def test_wrong_code_at_verification_can_be_retried(page, javascript, live_server, clock, console_errors):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    open_sign_in(page, javascript)
    enter_password(page)
    expect_step(page, live_server, "/sign-in/verify", "Enter your verification code")

    verify(page, wrong_code(secret))
    expect_code_error(page, WRONG_CODE)

    verify(page, code_now(secret))
    expect_home(page, live_server)
    assert console_errors == []


@pytest.mark.parametrize("enrolled, path, heading", [
    (False, "/sign-in/enroll", "Register your authenticator app"),
    (True, "/sign-in/verify", "Enter your verification code"),
], ids=["enroll-step", "verify-step"])
def test_htmx_swaps_in_the_code_step_without_a_page_load(page, live_server, clock, console_errors,
                                                         enrolled, path, heading):
    make_person()
    if enrolled:
        enroll_with_test_client(live_server, clock)
    open_sign_in(page, javascript=True)
    # A full page load would start a new window object and lose this mark.
    page.evaluate("window.portalTestSameDocument = true")

    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/sign-in")) as answer:
        enter_password(page)
    response = answer.value
    assert response.request.headers.get("hx-request") == "true"
    assert response.headers.get("hx-push-url") == path

    expect_step(page, live_server, path, heading)
    assert page.evaluate("window.portalTestSameDocument") is True, "the code step came by a full page load"
    expect(page.locator("#auth-step")).to_have_count(1)  # swapped in place, not nested
    assert console_errors == []
