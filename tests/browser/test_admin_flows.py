"""Administration > User as a Company Administrator uses it in Chromium (JavaScript on and off): find a
user by the start of their User ID, open them, and Reset MFA or Deactivate, each confirmed on a page of
its own. The user, in a browser of their own, then feels the result."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.security import totp
from portal.services.signin import NOT_ACTIVE
from tests.browser.steps import (ADMIN_FIRST_NAME, ADMIN_ID, BOTH, USER_ID, enroll_with_test_client, enter_password,
                                 expect_home, expect_status, expect_step, fact, first_sign_in, go_to_administration,
                                 make_admin, make_person, open_sign_in, register_and_read_backup_codes, sign_in,
                                 sign_in_as_admin)
NOT_ACTIVE = str(NOT_ACTIVE)  # the English words, as the browser shows them (a lazy string to gettext)

pytestmark = pytest.mark.browser

RESET_DONE = "MFA has been reset. The user registers a new authenticator at the next sign-in."


def open_user(page, javascript: bool, live_server, query: str, user_id: str):
    """On Administration > User, type the start of a User ID into Search and open the user it finds.

    With JavaScript the results follow the typing (htmx swaps them in, no page load, no button pressed);
    without, the person presses Search. Either way the URL holds the search, so it can be bookmarked."""
    results = page.get_by_role("table", name="Users")
    expect(results.get_by_role("link", name=ADMIN_ID, exact=True)).to_be_visible()  # everyone, before searching
    search = page.get_by_label("Search", exact=True)
    if javascript:
        page.evaluate("window.portalTestSameDocument = true")  # a page load would lose this mark
        with page.expect_response(lambda r: r.url.startswith(f"{live_server.url}/admin/users?")) as answer:
            search.fill(query)
        assert answer.value.request.headers.get("hx-request") == "true"
    else:
        search.fill(query)
        page.get_by_role("button", name="Search", exact=True).click()
    expect(results.get_by_role("link", name=ADMIN_ID, exact=True)).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/admin/users\?(.*&)?q={re.escape(query)}(&|$)"))
    if javascript:
        assert page.evaluate("window.portalTestSameDocument") is True, "the results came by a full page load"

    results.get_by_role("link", name=user_id, exact=True).click()
    expect_step(page, live_server, f"/admin/users/{user_id}", f"User {user_id}")


def run_action(page, live_server, user_id: str, action: str, title: str, done: str):
    """Press an action's button on the user's page, confirm it on the page that explains it, see it done."""
    page.get_by_role("button", name=title, exact=True).click()
    expect_step(page, live_server, f"/admin/users/{user_id}/{action}", f"{title}: {user_id}?")
    page.get_by_role("button", name=title, exact=True).click()
    expect_step(page, live_server, f"/admin/users/{user_id}", f"User {user_id}")
    expect_status(page, done)


def expect_signed_out(page, live_server):
    """The page, opened again, asks for a sign-in: the session has ended on the server."""
    page.reload()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/sign-in(\?|$)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


@BOTH
def test_reset_mfa_makes_the_user_register_a_new_authenticator(page, new_page, javascript, live_server, clock,
                                                               console_errors):
    make_person(company=make_admin())
    own_browser = new_page()  # the user's, not the administrator's
    old_secret, _ = first_sign_in(own_browser, javascript, live_server)

    first_sign_in(page, javascript, live_server, ADMIN_ID, ADMIN_FIRST_NAME)
    go_to_administration(page, live_server)
    open_user(page, javascript, live_server, USER_ID[:2], USER_ID)
    expect(fact(page, "Authenticator")).to_have_text(re.compile(r"^Work phone, registered "))
    run_action(page, live_server, USER_ID, "reset-mfa", "Reset MFA", RESET_DONE)
    expect(fact(page, "Authenticator")).to_have_text("none (registers at next sign-in)")

    expect_signed_out(own_browser, live_server)
    clock.advance(seconds=totp.PERIOD)
    open_sign_in(own_browser, javascript)
    enter_password(own_browser)
    new_secret, _ = register_and_read_backup_codes(own_browser, live_server)  # QR code, new key, code
    assert new_secret != old_secret
    expect_home(own_browser, live_server)  # the Terms and the personal-data choice were made before
    assert console_errors == []


@BOTH
def test_deactivated_user_cannot_sign_in(page, new_page, javascript, live_server, clock, console_errors):
    make_person(company=sign_in_as_admin(page, javascript, live_server, clock))
    secret = enroll_with_test_client(live_server, clock)
    own_browser = new_page()
    sign_in(own_browser, javascript, live_server, clock, secret)  # the user can, before

    go_to_administration(page, live_server)
    open_user(page, javascript, live_server, USER_ID, USER_ID)
    run_action(page, live_server, USER_ID, "deactivate", "Deactivate", f"{USER_ID} is now inactive.")
    expect(fact(page, "Status")).to_have_text("Inactive")

    expect_signed_out(own_browser, live_server)
    clock.advance(seconds=totp.PERIOD)
    open_sign_in(own_browser, javascript)
    enter_password(own_browser)
    expect(own_browser.get_by_role("alert")).to_contain_text(NOT_ACTIVE)
    expect_step(own_browser, live_server, "/sign-in", "Sign in")
    assert console_errors == []
