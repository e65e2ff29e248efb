"""Never lose what the person typed or clicked, and pages that fit a phone: re-authentication that completes the
form or the click it interrupted, an idle timeout that says so and returns to the page, and no page wider than
a 390 px screen. With JavaScript on and off."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.models import User
from tests import helpers
from tests.browser.steps import (
    ADMIN_ID,
    BOTH,
    USER_ID,
    code_now,
    enroll_with_test_client,
    expect_step,
    make_person,
    sign_in,
    sign_in_as_admin,
)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def admin_secret() -> str:
    """The Company Administrator's authenticator secret (enrolled by sign_in_as_admin)."""
    from portal.models import Authenticator
    from portal.security import crypto

    with helpers.context():
        return crypto.decrypt(Authenticator.get(Authenticator.user == User.get(User.user_id == ADMIN_ID).id)
                              .secret_encrypted)


def thirty_minutes_on(page, clock):
    """Half an hour passes while the page stays open, the person busy in another tab of the same browser: still
    signed in, but signed in more than 30 minutes ago, so administrative changes need a confirmation."""
    for _ in range(2):
        clock.advance(minutes=16)
        other_tab = page.context.new_page()
        other_tab.goto("/")
        other_tab.close()


def confirm_it_is_me(page, clock, secret: str):
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    clock.advance(seconds=30)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    page.get_by_role("button", name="Confirm", exact=True).click()


def go_on(page, javascript: bool):
    """The kept change goes on by itself with JavaScript; without, the person presses Continue."""
    if not javascript:
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: now the change you asked for")
        page.get_by_role("button", name="Continue", exact=True).click()


@BOTH
def test_a_confirmation_completes_the_new_user_form_it_interrupted(page, javascript, live_server, clock):
    sign_in_as_admin(page, javascript, live_server, clock)
    page.goto("/admin/new-user")
    page.get_by_label("User ID", exact=True).fill("kim.kept")
    page.get_by_label("First name", exact=True).fill("Kim")
    page.get_by_label("Last name", exact=True).fill("Kept")
    page.get_by_label("E-mail address", exact=True).fill("kim.kept@acme.example")
    thirty_minutes_on(page, clock)
    page.get_by_role("button", name="Create user", exact=True).click()
    confirm_it_is_me(page, clock, admin_secret())
    go_on(page, javascript)
    expect_step(page, live_server, "/admin/users/kim.kept", "User kim.kept")
    assert User.get(User.user_id == "kim.kept").email == "kim.kept@acme.example"


@BOTH
def test_a_confirmation_completes_the_click_it_interrupted(axe, page, javascript, live_server, clock):
    company = sign_in_as_admin(page, javascript, live_server, clock)
    make_person(USER_ID, company)
    page.goto(f"/admin/users/{USER_ID}")
    thirty_minutes_on(page, clock)
    page.get_by_role("button", name="Deactivate", exact=True).click()
    axe.check(page, "confirm it is you, a click kept")
    confirm_it_is_me(page, clock, admin_secret())
    if not javascript:
        axe.check(page, "the kept click, to continue")
    go_on(page, javascript)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Deactivate: {USER_ID}?")  # the click arrived
    axe.check(page, "a dangerous action's confirmation")
    page.get_by_role("button", name="Deactivate", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"{USER_ID} is now inactive.")


@BOTH
def test_after_the_idle_timeout_signing_in_returns_to_the_page(page, javascript, live_server, clock):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    sign_in(page, javascript, live_server, clock, secret)
    page.goto("/profile")
    page.get_by_label("Phone", exact=True).fill("+49 711 555")
    clock.advance(minutes=31)
    page.get_by_role("button", name="Save", exact=True).click()
    expect_step(page, live_server, "/sign-in?next=/profile", "Sign in")
    expect(page.get_by_role("alert")).to_contain_text("signed out after 30 minutes without activity")
    clock.advance(seconds=30)
    page.get_by_label("User ID", exact=True).fill(USER_ID)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect_step(page, live_server, "/profile", "Profile")


def test_no_page_is_wider_than_a_phone(page, new_page, live_server, clock, javascript):
    """Every page a person, a Company Administrator and the Service Center open, at 390 × 844."""
    company = sign_in_as_admin(page, javascript, live_server, clock)
    make_person(USER_ID, company)
    make_person("helpdesk", helpers.make_company("Service Center"), role="service-center", first_name="Hal")
    page.set_viewport_size(PHONE)
    pages = ["/", "/profile", "/profile/password", "/security", "/sessions", "/personal-settings", "/terms",
             "/directory", "/admin/users", f"/admin/users/{USER_ID}", "/admin/new-user", "/admin/contacts",
             "/admin/new-contact", "/admin/audit", "/security/confirm"]
    for path in pages:
        page.goto(path)
        width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, f"{path}: {width} px wide in a {viewport} px screen"
    staff_page = new_page()
    staff_page.set_viewport_size(PHONE)
    secret = enroll_with_test_client(live_server, clock, "helpdesk")
    sign_in(staff_page, javascript, live_server, clock, secret, "helpdesk", "Hal")
    for path in ["/service-center/users", f"/service-center/users/{USER_ID}", "/service-center/companies",
                 "/service-center/audit", "/service-center/mail"]:
        staff_page.goto(path)
        width, viewport = staff_page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, f"{path}: {width} px wide in a {viewport} px screen"
    anonymous = new_page()
    anonymous.set_viewport_size(PHONE)
    for path in ["/sign-in", "/forgot-id", "/new-password"]:
        anonymous.goto(path)
        width, viewport = anonymous.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, f"{path}: {width} px wide in a {viewport} px screen"
