"""Steps a person takes in Chromium, shared by the browser tests: by visible labels and button names.

People are made with tests.helpers (as the CLI would make them); everything else goes through the pages.
Mail is read from the real SMTP server of the `smtp` fixture.
"""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from portal import clock as portal_clock
from portal.security import totp
from tests import helpers

BOTH = pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
COMPANY = "ACME Components"
USER_ID = "jdoe"
FIRST_NAME = "Jane"  # helpers.make_user's default
ADMIN_ID = "boss"
ADMIN_FIRST_NAME = "Ada"
ADMIN_EMAIL = "ada.boss@acme.example"
KEY_TEXT = re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4})+$")  # Base32 in groups of four
JS_CLASS = re.compile(r"(^|\s)js(\s|$)")  # set on <html> by static/js/portal.js
BACKUP_CODE = re.compile(r"^[0-9a-z]{5}-[0-9a-z]{5}$")
MAIL_WAIT_SECONDS = 5.0


# --- people and codes -----------------------------------------------------------------------------

def make_person(user_id: str = USER_ID, company=None, **fields):
    """A user with a password and no authenticator yet, in `company` (a new one unless given)."""
    return helpers.make_user(company or helpers.make_company(COMPANY), user_id, **fields)


def make_admin():
    """A new company with its Company Administrator (a password, no authenticator yet); returns the company."""
    company = helpers.make_company(COMPANY)
    make_person(ADMIN_ID, company, role="company-admin", first_name=ADMIN_FIRST_NAME, email=ADMIN_EMAIL)
    return company


def code_now(secret: str) -> str:
    """What the authenticator app shows at the frozen time."""
    return totp.code_at(secret, portal_clock.timestamp())


def accepted_codes(secret: str) -> set[str]:
    """The codes the app accepts for this secret now: the current step and one either side."""
    now = portal_clock.timestamp()
    return {totp.code_at(secret, now + k * totp.PERIOD) for k in (-1, 0, 1)}


def wrong_code(secret: str) -> str:
    """A well-formed code that no accepted step (now, or one either side) produces: never flaky."""
    accepted = accepted_codes(secret)
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def enroll_with_test_client(live_server, clock, user_id: str = USER_ID) -> str:
    """Register an authenticator and make the first-sign-in choices without the browser (covered by
    test_sign_in_flow); returns the secret. The clock then moves one step on, since each step's code is
    accepted only once per user."""
    secret = helpers.enroll(live_server.app.test_client(), user_id)
    clock.advance(seconds=totp.PERIOD)
    return secret


# --- what the person sees -------------------------------------------------------------------------

def expect_step(page, live_server, path: str, heading: str):
    """The person is on the page at `path` with `heading` as its title, and its scripts have run (htmx listens
    to what is typed next)."""
    expect(page).to_have_url(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.wait_for_load_state()


def expect_home(page, live_server, user_id: str = USER_ID, first_name: str = FIRST_NAME):
    """Signed in: the home page greets the person and lists the User ID."""
    expect_step(page, live_server, "/", f"Welcome, {first_name}")
    expect(fact(page, "User ID")).to_have_text(user_id)


def fact(page, term: str):
    """The value (<dd>) shown for `term` (<dt>) in a list of facts, such as "User ID" on the home page."""
    return page.locator(f"xpath=//dt[normalize-space()='{term}']/following-sibling::dd[1]")


def expect_field_error(page, label: str, message: str | re.Pattern):
    """The error is shown and tied to its field, so screen readers announce it with the field."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    pattern = message if isinstance(message, re.Pattern) else re.compile(re.escape(message))
    expect(field).to_have_accessible_description(pattern)


def expect_status(page, message: str):
    """A flashed notice (role=status) with exactly this text."""
    expect(page.get_by_role("status")).to_have_text(message)


# --- sign-in --------------------------------------------------------------------------------------

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
    """Open "Cannot scan?" and read the key, as a person without a camera would; returns it without spaces."""
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


def register_and_read_backup_codes(page, live_server) -> tuple[str, list[str]]:
    """On the enrollment page: register the authenticator, read the backup codes off the page and confirm
    they are saved. Returns the authenticator's secret and the codes."""
    expect_step(page, live_server, "/sign-in/enroll", "Register your authenticator app")
    expect(page.locator("svg.qr")).to_be_visible()
    secret = read_key(page)
    register(page, code_now(secret))

    expect_step(page, live_server, "/sign-in/backup-codes", "Save your backup codes")
    codes = [c.strip() for c in page.locator("#backup-codes li").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(BACKUP_CODE.match(c) for c in codes), codes
    page.get_by_role("button", name="I have saved my backup codes", exact=True).click()
    return secret, codes


def make_first_sign_in_choices(page, live_server):
    """Every first sign-in asks for the Terms of Use, then the personal-data choice, before home."""
    expect_step(page, live_server, "/terms", "Terms of Use")
    page.get_by_role("button", name="I accept the Terms of Use", exact=True).click()
    expect_step(page, live_server, "/personal-settings", "Personal Settings")
    page.get_by_role("button", name="Do not show my personal data", exact=True).click()


def first_sign_in(page, javascript: bool, live_server, user_id: str = USER_ID,
                  first_name: str = FIRST_NAME) -> tuple[str, list[str]]:
    """First sign-in: enroll, save the backup codes, accept the Terms, make the personal-data choice.
    Returns the authenticator's secret and the backup codes."""
    open_sign_in(page, javascript)
    enter_password(page, user_id)
    secret, codes = register_and_read_backup_codes(page, live_server)
    make_first_sign_in_choices(page, live_server)
    expect_home(page, live_server, user_id, first_name)
    return secret, codes


def password_step(page, javascript: bool, live_server, clock, password: str = helpers.PASSWORD,
                  user_id: str = USER_ID):
    """Sign in with the password up to the code step, one TOTP step after the last sign-in (each step
    is accepted once per user)."""
    clock.advance(seconds=totp.PERIOD)
    open_sign_in(page, javascript)
    enter_password(page, user_id, password)
    expect_step(page, live_server, "/sign-in/verify", "Enter your verification code")


def sign_in(page, javascript: bool, live_server, clock, secret: str, user_id: str = USER_ID,
            first_name: str = FIRST_NAME):
    """A whole sign-in of someone enrolled: password, then the code of a fresh step, then home."""
    password_step(page, javascript, live_server, clock, user_id=user_id)
    verify(page, code_now(secret))
    expect_home(page, live_server, user_id, first_name)


def sign_in_as_admin(page, javascript: bool, live_server, clock):
    """A new company whose Company Administrator (enrolled outside the browser) signs in; returns the company."""
    company = make_admin()
    secret = enroll_with_test_client(live_server, clock, ADMIN_ID)
    sign_in(page, javascript, live_server, clock, secret, ADMIN_ID, ADMIN_FIRST_NAME)
    return company


def sign_out(page, live_server):
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out", exact=True).click()
    expect_step(page, live_server, "/sign-in", "Sign in")
    expect_status(page, "You have been signed out.")


def use_backup_code(page, live_server, code: str):
    page.get_by_role("link", name="Use a backup code", exact=True).click()
    expect_step(page, live_server, "/sign-in/backup-code", "Use a backup code")
    page.get_by_label("Backup code", exact=True).fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()


# --- navigation -----------------------------------------------------------------------------------

def go_to_administration(page, live_server):
    """Follow "Administration" in the top navigation (shown to Company Administrators only)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Administration", exact=True).click()
    expect_step(page, live_server, "/admin/users", "Administration > User")


# --- mail -----------------------------------------------------------------------------------------

def wait_for_mail(smtp, subject: str, to: str):
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


# --- accessibility --------------------------------------------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # WCAG 2.0 and 2.1, levels A and AA

# With JavaScript off, Chromium runs no timer callbacks, and axe waits on setTimeout(fn, 0) between rules:
# its run would never end. Promise callbacks still run, so timers become those (axe needs no real delay
# here: the pages have no frames to wait for). Page scripts cannot run at all then, so nothing else sees it.
TIMERS_WITHOUT_JAVASCRIPT = """() => {
  window.setTimeout = (callback, delay, ...args) => { Promise.resolve().then(() => callback(...args)); return 0; };
  window.clearTimeout = () => {};
}"""


# A few rules (duplicate-id-aria among them) report what fails them only as "needs review" (incomplete),
# never as a violation: a label whose `for` names an id that an earlier element also has labels nothing, and
# axe would let it pass. Here every failure is a violation.
FAILURES_ARE_VIOLATIONS = """() => axe.configure({
  rules: axe.getRules().map(rule => ({id: rule.ruleId, reviewOnFail: false}))})"""


class Axe:
    """axe-core (the npm package's axe.min.js, read from disk by the `axe` fixture) run on the page as shown.

    The source goes in by page.evaluate, which the page's Content-Security-Policy (script-src 'self', no
    inline script) does not govern and which works with JavaScript off too; page.add_script_tag(content=...)
    is blocked by that CSP unless the context has bypass_csp=True, and with JavaScript off runs nothing."""

    def __init__(self, source: str, javascript: bool):
        self.source = source
        self.javascript = javascript

    def violations(self, page) -> list[dict]:
        """axe's violations of WCAG 2.1 A and AA on the page's document as it is now."""
        if not page.evaluate("typeof window.axe === 'object'"):  # a new document (an htmx swap keeps it)
            if not self.javascript:
                page.evaluate(TIMERS_WITHOUT_JAVASCRIPT)
            page.evaluate(self.source)
            page.evaluate(FAILURES_ARE_VIOLATIONS)
        return page.evaluate(
            """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
                 .then(result => result.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))})))""",
            WCAG_TAGS)

    def check(self, page, what: str = ""):
        """Fail with every WCAG 2.1 A/AA violation on the page: rule, impact, elements (selectors), help."""
        title = page.title()
        where = f"{what + ': ' if what else ''}{page.url} ({title!r}, JavaScript {'on' if self.javascript else 'off'})"
        found = self.violations(page)
        assert not found, f"{len(found)} accessibility violation(s) on {where}:\n" + format_violations(found)


def format_violations(violations: list[dict]) -> str:
    """One block per rule: its id, impact and help, then each offending element and what to fix."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " >> ".join(t if isinstance(t, str) else " ".join(t) for t in node["target"])
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {target}\n      {summary}")
    return "\n".join(lines)
