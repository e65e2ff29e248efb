"""Accessibility of the provider's pages (axe-core, WCAG 2.1 A and AA), JavaScript on and off: the consent page,
the logout confirmation, Connected applications (empty and with an application) and the Service Center's list
of applications. The onward page moves on at once; the flows in test_oidc_flows.py pass through it."""
import base64
import hashlib
import secrets
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from portal.models import User
from portal.services import oidc, oidc_clients
from tests import helpers
from tests.browser.steps import BOTH, enroll_with_test_client, make_person, sign_in

pytestmark = [pytest.mark.browser, BOTH]
CALLBACK = "http://127.0.0.1:9/callback"


def authorization_url(client_id: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()).rstrip(b"=")
    return "/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid profile email",
        "state": "s", "nonce": secrets.token_urlsafe(8), "code_challenge": challenge.decode(),
        "code_challenge_method": "S256"})


def test_consent_logout_and_connected_applications(axe, page, javascript, live_server, clock):
    make_person()
    secret = enroll_with_test_client(live_server, clock)
    with helpers.context():
        client = oidc_clients.create_client("Supplier Portal", [CALLBACK], public=True).client
    sign_in(page, javascript, live_server, clock, secret)

    page.get_by_role("link", name="Connected applications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connected applications")
    axe.check(page, "Connected applications, none")

    page.goto(authorization_url(client.client_id))
    expect(page.get_by_role("heading", level=1)).to_have_text("Allow Supplier Portal to use your Portal sign-in?")
    axe.check(page, "consent")

    with helpers.context():
        oidc.give_consent(User.get(User.user_id == "jdoe"), client, "openid profile email")
    page.goto("/applications")
    expect(page.get_by_role("cell", name="Supplier Portal", exact=True)).to_be_visible()
    axe.check(page, "Connected applications, one")
    page.get_by_role("button", name="Withdraw access of Supplier Portal").click()
    expect(page.get_by_role("status")).to_contain_text("can no longer use your Portal sign-in")
    axe.check(page, "Connected applications, withdrawn")

    page.goto(f"/oidc/logout?client_id={client.client_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out of Portal?")
    axe.check(page, "logout confirmation")
    page.get_by_role("button", name="Sign out").last.click()
    expect(page.get_by_role("status")).to_have_text("You have been signed out.")


def test_service_center_applications(axe, page, javascript, live_server, clock):
    make_person("helpdesk", role="service-center", first_name="Hal", last_name="Help")
    secret = enroll_with_test_client(live_server, clock, "helpdesk")
    with helpers.context():
        oidc_clients.create_client("Material Data Sheets", ["https://sheets.example/callback"], first_party=True,
                                   backchannel_logout_uri="https://sheets.example/logout")
    sign_in(page, javascript, live_server, clock, secret, "helpdesk", "Hal")
    page.get_by_role("link", name="Registered applications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registered applications")
    expect(page.get_by_role("cell", name="Material Data Sheets", exact=True)).to_be_visible()
    axe.check(page, "Service Center applications")
