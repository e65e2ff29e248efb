"""Sign-in as a person does it in Chromium: by visible labels, with JavaScript (htmx) on and off."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from portal.security import totp
from portal.services.mfa import WRONG_CODE
from portal.services.signin import INVALID
from tests import helpers
from tests.browser.steps import (BOTH, USER_ID, code_now, enroll_with_test_client, enter_password, expect_field_error,
                                 expect_home, expect_step, make_first_sign_in_choices, make_person, open_sign_in,
                                 read_key, register, register_and_read_backup_codes, sign_out, verify,
                                 wrong_code)
WRONG_CODE, INVALID = (str(words) for words in (WRONG_CODE, INVALID))  # English, as the browser shows them

pytestmark = pytest.mark.browser


def decode_qr(page) -> str:
    """Photograph the QR code as shown and decode it with ZXing, as an authenticator app's scanner would."""
    png = page.locator("svg.qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"expected one readable QR code, found {len(found)}"
    return found[0].text


# --- tests ----------------------------------------------------------------------------------------

@BOTH
def test_first_sign_in_enrolls_and_signs_in_again(page, javascript, live_server, clock, console_errors):
    make_person()
    open_sign_in(page, javascript)
    enter_password(page)
    secret, _ = register_and_read_backup_codes(page, live_server)
    make_first_sign_in_choices(page, live_server)
    expect_home(page, live_server)

    sign_out(page, live_server)  # checks "You have been signed out."

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
    enter_password(page)
    register_and_read_backup_codes(page, live_server)
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
        expect(page.get_by_role("alert")).to_contain_text(INVALID)
        expect_step(page, live_server, "/sign-in", "Sign in")
    assert console_errors == []


@BOTH
def test_wrong_code_at_enrollment_can_be_retried(page, javascript, live_server, console_errors):
    make_person()
    open_sign_in(page, javascript)
    enter_password(page)
    secret = read_key(page)

    register(page, wrong_code(secret))
    expect_field_error(page, "Verification code", WRONG_CODE)
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
    expect_field_error(page, "Verification code", WRONG_CODE)

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


@BOTH
def test_on_a_phone_the_key_shows_at_once_and_the_app_opens_from_a_link(page, javascript, live_server, clock):
    """The QR code is on the very screen that would have to scan it: the key is shown without opening
    "Cannot scan?", and an otpauth:// link opens the authenticator app; with JavaScript a button copies the key."""
    make_person()
    page.set_viewport_size({"width": 390, "height": 844})
    open_sign_in(page, javascript)
    enter_password(page)
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    key = page.locator("#totp-key")
    expect(key).to_be_visible()  # without a click
    link = page.get_by_role("link", name="Open in authenticator app")
    uri = link.get_attribute("href")
    secret = key.inner_text().replace(" ", "")
    assert uri.startswith("otpauth://totp/") and parse_qs(urlsplit(uri).query)["secret"] == [secret]
    copy = page.get_by_role("button", name="Copy the key")
    if javascript:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        copy.click()
        expect(page.get_by_text("Copied.")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == secret
    else:
        expect(copy).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(key).to_be_hidden()  # on a wide screen, behind "Cannot scan?" as before
    register(page, code_now(read_key(page)))
    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
