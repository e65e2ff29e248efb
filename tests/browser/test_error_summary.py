"""Every problem of a form at once: the error summary at the top ("There is a problem"), each error a link to its
field, the focus on the summary after the page load or the htmx swap, and the title starting with "Error: ".
With JavaScript on and off, and on a phone-sized screen."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import (
    BOTH,
    enroll_with_test_client,
    enter_password,
    expect_step,
    make_person,
    open_sign_in,
    sign_in,
    sign_in_as_admin,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def expect_summary(page, *messages: str):
    """The summary lists exactly these messages as links, has the focus, and the title says Error."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.locator("li")).to_have_count(len(messages))
    for message in messages:
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))


def follow(page, message: str, label: str):
    """The summary's link takes the person to the field it names."""
    page.locator(".error-summary").get_by_role("link", name=message).click()
    expect(page.get_by_label(label, exact=True)).to_be_focused()


def fits_the_screen(page):
    """No horizontal scrolling: the document is no wider than the viewport."""
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{page.url}: {width} px wide in a {viewport} px screen"


@BOTH
def test_sign_in_and_enrollment_show_every_problem_at_once(page, javascript, live_server, clock):
    make_person()
    page.set_viewport_size(PHONE)
    open_sign_in(page, javascript)
    enter_password(page, "", "")
    expect_summary(page, "Enter your User ID.", "Enter your password.")
    follow(page, "Enter your password.", "Password")
    fits_the_screen(page)

    enter_password(page)
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    page.get_by_label("Device name", exact=True).fill("")
    page.get_by_label("Verification code", exact=True).fill("12345")
    page.get_by_role("button", name="Register and sign in", exact=True).click()
    expect_summary(page, "Enter a device name.", "Enter the 6 digits your authenticator app shows, such as 123456.")
    follow(page, "Enter a device name.", "Device name")
    fits_the_screen(page)


@BOTH
def test_profile_shows_every_problem_at_once(page, javascript, live_server, clock):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    sign_in(page, javascript, live_server, clock, secret)
    page.goto("/profile")
    page.get_by_label("First name", exact=True).fill("")
    page.get_by_label("Phone", exact=True).fill("call me maybe")
    page.get_by_role("button", name="Save", exact=True).click()
    expect_summary(page, "Enter your first name.",
                   "Enter a phone number with digits, spaces and + ( ) - . / only, such as +49 711 123 456.")
    follow(page, "Enter your first name.", "First name")


@BOTH
def test_a_new_user_form_shows_every_problem_at_once(page, javascript, live_server, clock):
    sign_in_as_admin(page, javascript, live_server, clock)
    page.set_viewport_size(PHONE)
    page.goto("/admin/new-user")
    fits_the_screen(page)
    page.get_by_label("User ID", exact=True).fill("x")
    page.get_by_label("First name", exact=True).fill("Nina")
    page.get_by_label("Last name", exact=True).fill("New")
    page.get_by_label("E-mail address", exact=True).fill("not-an-address")
    page.get_by_role("button", name="Create user", exact=True).click()
    expect_summary(page, "A User ID has 3 to 64 characters: letters, digits, dots, dashes or underscores, starting "
                         "with a letter or digit, such as j.smith-2.",
                   "Enter an e-mail address in the right format, like name@example.com.")
    fits_the_screen(page)
