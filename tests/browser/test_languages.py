"""Portal in the languages of its users, as Chromium shows it, with JavaScript on and off: a German browser
signs in and enrolls in German, the switcher changes the language without JavaScript, a signed-in person's
Profile choice wins over the browser, a French user's lifecycle warning is in French, and axe-core finds no
violation in any language. The expected words are the catalogs' own translations.
"""
from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from portal.i18n import LANGUAGES, language_name, tag
from tests import helpers
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.steps import (
    BOTH,
    FIRST_NAME,
    USER_ID,
    code_now,
    enroll_with_test_client,
    make_person,
    wait_for_mail,
)

pytestmark = [pytest.mark.browser, BOTH]


@pytest.fixture
def app_config(smtp):
    return smtp.config()


@pytest.fixture
def browser_in(chromium, live_server, javascript):
    """A page in a browser that asks for `locale` (Playwright sends it as Accept-Language)."""
    contexts = []

    def open_page(locale: str):
        context = chromium.new_context(base_url=live_server.url, java_script_enabled=javascript, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def words(live_server, code: str, msgid: str, **values) -> str:
    with live_server.app.test_request_context(), force_locale(code):
        return gettext(msgid, **values)


def expect_language(page, code: str):
    expect(page.locator("html")).to_have_attribute("lang", tag(code))


def sign_in_in(page, live_server, code: str, secret: str):
    """Password and code, with the labels and buttons of that language."""
    say = lambda msgid: words(live_server, code, msgid)
    page.goto("/sign-in")
    page.get_by_label(say("User ID"), exact=True).fill(USER_ID)
    page.get_by_label(say("Password"), exact=True).fill(helpers.PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Enter your verification code"))
    page.get_by_label(say("Verification code"), exact=True).fill(code_now(secret))
    page.get_by_role("button", name=say("Verify"), exact=True).click()


def test_a_german_browser_signs_in_and_enrolls_in_german(browser_in, live_server, clock):
    make_person()
    page = browser_in("de-DE")
    say = lambda msgid: words(live_server, "de", msgid)
    page.goto("/sign-in")
    expect_language(page, "de")
    assert say("Sign in") != "Sign in"
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Sign in"))
    expect(page).to_have_title(f"{say('Sign in')} · Portal")
    page.get_by_label(say("User ID"), exact=True).fill(USER_ID)
    page.get_by_label(say("Password"), exact=True).fill(helpers.PASSWORD)
    page.get_by_role("button", name=say("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Register your authenticator app"))
    expect_language(page, "de")
    page.get_by_text(say("Cannot scan? Enter the key instead")).click()
    secret = page.locator("#totp-key").inner_text().replace(" ", "")
    page.get_by_label(say("Device name"), exact=True).fill("Diensthandy")
    page.get_by_label(say("Verification code"), exact=True).fill(code_now(secret))
    page.get_by_role("button", name=say("Register and sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Save your backup codes"))
    expect_language(page, "de")


def test_the_switcher_changes_the_language_without_javascript(browser_in, live_server, javascript):
    page = browser_in("en-US")
    page.goto("/sign-in")
    expect_language(page, "en")
    switcher = page.get_by_role("navigation", name="Language")
    for code in LANGUAGES:
        expect(switcher.get_by_role("link", name=language_name(code), exact=True)).to_be_visible()
    switcher.get_by_role("link", name=language_name("fr"), exact=True).click()
    expect_language(page, "fr")
    expect(page).to_have_url(live_server.url + "/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text(words(live_server, "fr", "Sign in"))
    page.get_by_role("link", name=words(live_server, "fr", "Forgot ID"), exact=True).click()
    expect_language(page, "fr")  # the choice stays, page after page
    expect(page.get_by_role("heading", level=1)).to_have_text(words(live_server, "fr", "Forgot ID"))
    page.get_by_role("navigation", name=words(live_server, "fr", "Language")).get_by_role(
        "link", name=language_name("ja"), exact=True).click()
    expect_language(page, "ja")
    expect(page).to_have_url(live_server.url + "/forgot-id")


def test_a_signed_in_persons_profile_choice_wins_over_the_browser(browser_in, live_server, clock):
    make_person(language="fr")
    secret = enroll_with_test_client(live_server, clock)
    page = browser_in("de-DE")
    sign_in_in(page, live_server, "de", secret)  # before sign-in: the browser's German
    expect_language(page, "fr")  # signed in: French, as chosen on Profile
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words(live_server, "fr", "Welcome, %(name)s", name=FIRST_NAME))
    page.goto("/profile")
    page.get_by_label(words(live_server, "fr", "Language"), exact=True).select_option("es")
    page.get_by_role("button", name=words(live_server, "fr", "Save"), exact=True).first.click()
    expect_language(page, "es")
    expect(page.get_by_role("status").first).to_have_text(words(live_server, "es", "Your details have been saved."))


def test_a_lifecycle_warning_mail_to_a_french_user_is_in_french(browser_in, live_server, clock, smtp):
    from portal import clock as portal_clock
    from portal.models import User

    user = make_person(language="fr", email="sleepy@acme.example")
    with live_server.app.app_context():
        last = portal_clock.months_before(clock.current, 11)
        User.update(activity_at=last, last_sign_in_at=last).where(User.id == user.id).execute()
    runner = live_server.app.test_cli_runner()
    assert runner.invoke(args=["lifecycle", "run"]).exit_code == 0
    assert runner.invoke(args=["mail", "send"]).exit_code == 0
    say = lambda msgid, **values: words(live_server, "fr", msgid, **values)
    subject = say("%(product)s account notice: %(subject)s", product="Portal", subject=say(
        "sign in before %(date)s or User ID %(user_id)s will be deactivated", date="16 avr. 2026", user_id=USER_ID))
    mail = wait_for_mail(smtp, subject, "sleepy@acme.example")
    text = mail.get_body(("plain",)).get_content()
    assert say("This is an account notice, not one of the notifications you configure yourself.") in text
    assert say("Hello %(first)s %(last)s,", first="Jane", last="Doe") in text
    link = next(line for line in text.splitlines() if line.startswith(live_server.url))
    page = browser_in("fr-FR")
    page.goto(link)
    expect_language(page, "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Sign in"))


@pytest.mark.parametrize("code", LANGUAGES)
def test_no_accessibility_violation_in_any_language(axe, browser_in, live_server, clock, code):
    """The sign-in page, and signed in the home page and Profile (with its language and zone choices)."""
    make_person(language=code)
    secret = enroll_with_test_client(live_server, clock)
    page = browser_in(tag(code))
    page.goto("/sign-in")
    expect_language(page, code)
    axe.check(page, f"sign-in in {code}")
    sign_in_in(page, live_server, code, secret)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words(live_server, code, "Welcome, %(name)s", name=FIRST_NAME))
    expect_language(page, code)
    axe.check(page, f"home in {code}")
    page.goto("/profile")
    axe.check(page, f"Profile in {code}")
