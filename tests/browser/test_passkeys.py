"""Passkeys in Chromium with a virtual authenticator (the DevTools protocol's WebAuthn domain: CTAP2, an internal
authenticator with resident keys and user verification): add a passkey on the Security page, sign in with the
password and the passkey, with the passkey alone, remove it; with JavaScript off the same person signs in with a
code as before and sees no passkey at all. axe-core checks every page that shows passkeys.

The server is at http://localhost:PORT: an IP address cannot be a relying party id."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.models import LoginSession, Passkey, User
from portal.security import totp
from tests import helpers
from tests.browser.steps import (
    BOTH,
    code_now,
    enroll_with_test_client,
    enter_password,
    expect_home,
    expect_status,
    expect_step,
    make_person,
    open_sign_in,
    password_step,
    sign_in,
    sign_out,
    verify,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def server_host() -> str:
    return "localhost"


def virtual_authenticator(page) -> tuple[object, str]:
    """A platform authenticator for this page, as a phone or laptop with a PIN or fingerprint has."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def credentials(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def confirm_it_is_me(page, live_server, clock, secret: str):
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/security/confirm?next=")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    clock.advance(seconds=totp.PERIOD)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_label("Verification code", exact=True).fill(code_now(secret))
    button(page, "Confirm").click()


def add_passkey(page, live_server, clock, secret: str, name: str = "Laptop"):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security", exact=True).click()
    page.get_by_role("link", name="Add a passkey or security key", exact=True).click()
    confirm_it_is_me(page, live_server, clock, secret)
    expect_step(page, live_server, "/security/passkeys/new", "Add a passkey or security key")
    page.get_by_label("Passkey name", exact=True).fill(name)
    button(page, "Add passkey").click()
    expect_step(page, live_server, "/security", "Security")
    expect_status(page, f"Your passkey \u201c{name}\u201d was added. You can use it instead of a code when you "
                        "sign in.")


def newest_session() -> LoginSession:
    return LoginSession.select().where(LoginSession.stage == "active").order_by(LoginSession.created_at.desc(),
                                                                                LoginSession.id.desc()).get()


def test_add_a_passkey_sign_in_with_it_with_and_without_the_password_and_remove_it(page, new_page, live_server,
                                                                                   clock, console_errors):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    cdp, authenticator = virtual_authenticator(page)
    sign_in(page, True, live_server, clock, secret)
    add_passkey(page, live_server, clock, secret)
    row = page.get_by_role("row").filter(has_text="Laptop")
    expect(row).to_contain_text("never")
    [credential] = credentials(cdp, authenticator)
    assert credential["isResidentCredential"] and Passkey.get().credential_id == credential["credentialId"] \
        .rstrip("=").replace("+", "-").replace("/", "_")
    assert Passkey.get().sign_count == credential["signCount"]

    sign_out(page, live_server)
    password_step(page, True, live_server, clock)  # the code step, with the passkey offered first
    expect(page.get_by_label("Verification code", exact=True)).to_be_visible()
    button(page, "Use your passkey or security key").click()
    expect_home(page, live_server)
    assert newest_session().amr.split() == ["pwd", "hwk"]
    assert credentials(cdp, authenticator)[0]["signCount"] == Passkey.get().sign_count == credential["signCount"] + 1

    sign_out(page, live_server)
    button(page, "Sign in with a passkey").click()  # no User ID, no password
    expect_home(page, live_server)
    assert newest_session().amr.split() == ["hwk", "mfa"]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security", exact=True).click()
    # when it was added and last used, as the person's language writes a time, with the zone named
    expect(page.get_by_role("row").filter(has_text="Laptop")).to_contain_text(re.compile(r"\d{4}\W+\d+:\d\d\W+[AP]M\W+UTC"))
    button(page, "Remove Laptop").click()
    confirm_it_is_me(page, live_server, clock, secret)  # the click was kept, and goes on by itself
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove passkey: \u201cLaptop\u201d?")
    button(page, "Remove passkey").click()
    expect_status(page, "Your passkey \u201cLaptop\u201d was removed.")
    expect(page.get_by_text("You have no passkeys or security keys yet.")).to_be_visible()
    assert Passkey.select().count() == 0

    sign_out(page, live_server)
    button(page, "Sign in with a passkey").click()  # the device still holds it; Portal no longer knows it
    expect(page.get_by_role("alert")).to_contain_text("That passkey is not registered with Portal.")
    assert console_errors == []


def test_with_javascript_off_the_same_person_signs_in_with_a_code_and_sees_no_passkey(page, new_page, live_server,
                                                                                     clock):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    virtual_authenticator(page)
    sign_in(page, True, live_server, clock, secret)
    add_passkey(page, live_server, clock, secret)

    without = new_page_without_javascript(page, live_server)
    open_sign_in(without, False)
    expect(button(without, "Sign in with a passkey")).to_be_hidden()
    clock.advance(seconds=totp.PERIOD)
    enter_password(without)
    expect_step(without, live_server, "/sign-in/verify", "Enter your verification code")
    expect(button(without, "Use your passkey or security key")).to_be_hidden()
    verify(without, code_now(secret))
    expect_home(without, live_server)
    without.goto("/security")
    expect(without.get_by_role("row").filter(has_text="Laptop")).to_be_visible()  # listed, and removable
    expect(without.get_by_role("link", name="Add a passkey or security key")).to_be_hidden()
    expect(without.get_by_text("Adding a passkey or security key needs JavaScript in your browser.")).to_be_visible()


def new_page_without_javascript(page, live_server):
    context = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    opened = context.new_page()
    page.on("close", lambda _: context.close())
    return opened


@BOTH
def test_passkey_pages_are_accessible(axe, page, javascript, live_server, clock):
    """The sign-in page and code step with their passkey buttons, the Security page listing passkeys, adding one,
    removing one; with JavaScript on (the buttons shown) and off (hidden)."""
    user = make_person()
    secret = enroll_with_test_client(live_server, clock)
    Passkey.create(user=User.get_by_id(user.id), name="Blue security key", credential_id="AAAA", public_key="AAAA",
                   user_handle="AAAA")
    open_sign_in(page, javascript)
    if javascript:
        expect(button(page, "Sign in with a passkey")).to_be_visible()
    axe.check(page, "sign-in with the passkey button")
    password_step(page, javascript, live_server, clock)
    if javascript:
        expect(button(page, "Use your passkey or security key")).to_be_visible()
    axe.check(page, "code step with the passkey button")
    verify(page, code_now(secret))
    expect_home(page, live_server)
    page.goto("/security")
    axe.check(page, "Security with a passkey listed")
    button(page, "Remove Blue security key").click()
    confirm_it_is_me(page, live_server, clock, secret)
    if not javascript:
        button(page, "Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove passkey: \u201cBlue security key\u201d?")
    axe.check(page, "remove a passkey")
    page.goto("/security/passkeys/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a passkey or security key")
    if javascript:
        expect(page.get_by_label("Passkey name", exact=True)).to_be_visible()
    axe.check(page, "add a passkey")
    if javascript:
        button(page, "Add passkey").click()  # no name: the server's sentence, announced
        expect(page.get_by_role("alert")).to_contain_text("Enter a name for the passkey")
        axe.check(page, "add a passkey, no name")
