"""A person signs in to the example application (examples/relying_party) through Portal and signs out again,
with JavaScript on and off: Chromium, Portal on its live server, the application on another port.

The application checks ID and logout tokens against the real time (Authlib, joserfc), so the frozen clock is
set near it for these tests; it still stands still, and TOTP codes are computed with it."""
import datetime as dt
import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from examples.relying_party.app import create_app as create_application
from portal import clock as portal_clock
from tests.browser import steps

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"BACKCHANNEL_DELIVERY": "inline"}


@pytest.fixture
def application(live_server, clock, tmp_path):
    """The example application on its own loopback port, registered in Portal as the operator would."""
    # A little in the past: the steps move the clock on by a TOTP period at a time, and no token may look as
    # if issued in the future to the application (nor to Authlib's check of id_token_hint at Portal).
    clock.current = portal_clock.system_now().replace(microsecond=0) - dt.timedelta(minutes=2)
    server = make_server("127.0.0.1", 0, lambda e, s: [], threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    result = live_server.app.test_cli_runner().invoke(args=[
        "client", "create", "Material Data Sheets", "--redirect-uri", f"{url}/callback", "--first-party",
        "--post-logout-redirect-uri", f"{url}/", "--backchannel-logout-uri", f"{url}/backchannel-logout"])
    assert result.exit_code == 0, result.output
    client_id = re.search(r"client_id:\s+(\S+)", result.output).group(1)
    secret = re.search(r"client_secret:\s+(\S+)", result.output).group(1)
    server.app = create_application({"ISSUER": live_server.url, "CLIENT_ID": client_id, "CLIENT_SECRET": secret,
                                     "NAME": "Material Data Sheets", "SESSIONS_DB": str(tmp_path / "rp.db")})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def sign_in_at_the_application(page, application, javascript):
    page.goto(application + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Material Data Sheets")
    page.get_by_role("link", name="Sign in with Portal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    html = expect(page.locator("html"))
    html.to_have_class(steps.JS_CLASS) if javascript else html.not_to_have_class(steps.JS_CLASS)
    steps.enter_password(page)


def expect_signed_in_at_the_application(page, application):
    expect(page).to_have_url(application + "/")
    expect(page.get_by_text("Signed in as Jane Doe (User ID jdoe).")).to_be_visible()
    claims = page.locator("table")
    expect(claims).to_contain_text("amr")
    expect(claims).to_contain_text("ACME Components")


@steps.BOTH
def test_first_sign_in_through_the_application_comes_back_to_it(page, javascript, live_server, application):
    steps.make_person()
    sign_in_at_the_application(page, application, javascript)
    steps.register_and_read_backup_codes(page, live_server)
    steps.make_first_sign_in_choices(page, live_server)
    expect_signed_in_at_the_application(page, application)


def sign_in_with_a_code(page, javascript, live_server, clock, application):
    """Someone who has an authenticator signs in to the application: password and code at Portal, then back."""
    steps.make_person()
    secret = steps.enroll_with_test_client(live_server, clock)
    sign_in_at_the_application(page, application, javascript)
    steps.verify(page, steps.code_now(secret))
    expect_signed_in_at_the_application(page, application)


@steps.BOTH
def test_signing_out_at_the_application_ends_the_portal_session(page, javascript, live_server, clock, application):
    sign_in_with_a_code(page, javascript, live_server, clock, application)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(application + "/")
    expect(page.get_by_text("You are not signed in.")).to_be_visible()
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


@steps.BOTH
def test_signing_out_of_portal_signs_out_of_the_application(page, javascript, live_server, clock, application):
    sign_in_with_a_code(page, javascript, live_server, clock, application)
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have been signed out.")
    page.goto(application + "/")  # the logout token reached the application before Portal answered
    expect(page.get_by_text("You are not signed in.")).to_be_visible()
