"""Which language and time zone a person gets: the Profile choice while signed in, else the switcher's cookie,
else Accept-Language, else English; mail in its reader's language; dates and times in the person's zone."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_babel import force_locale, gettext

from portal import clock as portal_clock
from portal.models import Company, ContactPerson, OutboxMessage, User
from portal.services import consent, lifecycle
from tests import helpers


def words(app, code: str, msgid: str, **values) -> str:
    """The catalog's translation of a msgid (what the page should say in that language)."""
    with app.test_request_context(), force_locale(code):
        return gettext(msgid, **values)


@pytest.fixture
def signed_in(client, user):
    helpers.enroll(client)
    return client


def lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def heading(html: str) -> str:
    return re.search(r"<h1[^>]*>([^<]+)</h1>", html).group(1).strip()


@pytest.mark.parametrize("header,code", [("de-DE,de;q=0.9", "de"), ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
                                         ("es-419", "es"), ("ja", "ja"), ("zh-CN,zh;q=0.9", "zh_Hans"),
                                         ("ko-KR", "en"), ("", "en")])
def test_the_browser_language_chooses_the_page_language(app, client, header, code):
    html = client.get("/sign-in", headers={"Accept-Language": header}).data.decode()
    assert lang(html) == code.replace("_", "-")
    assert heading(html) == words(app, code, "Sign in")


def test_the_sign_in_page_rendered_once_is_rendered_once_per_language(app, client):
    german = client.get("/sign-in", headers={"Accept-Language": "de"}).data.decode()
    english = client.get("/sign-in", headers={"Accept-Language": "en"}).data.decode()
    assert lang(german) == "de" and lang(english) == "en"
    assert helpers.without_csrf(client.get("/sign-in", headers={"Accept-Language": "de"}).data) == \
        helpers.without_csrf(german)


def test_pages_say_they_depend_on_the_language_asked_for(client):
    response = client.get("/sign-in")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_the_switcher_sets_a_cookie_that_wins_over_the_browser(app, client):
    page = client.get("/forgot-id", headers={"Accept-Language": "de"}).data.decode()
    assert 'href="/language/ja?next=/forgot-id"' in page and 'lang="ja"' in page
    response = client.get("/language/ja?next=/forgot-id", headers={"Accept-Language": "de"})
    assert response.status_code == 303 and response.headers["Location"] == "/forgot-id"
    cookie = response.headers["Set-Cookie"]
    assert "portal_lang=ja" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = client.get("/forgot-id", headers={"Accept-Language": "de"}).data.decode()
    assert lang(html) == "ja" and heading(html) == words(app, "ja", "Forgot ID")
    assert 'lang="ja" aria-current="true"' in html


@pytest.mark.parametrize("path", ["/language/xx", "/language/de_DE", "/language/"])
def test_an_unknown_language_is_no_page(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_switcher_returns_only_to_this_site(client, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.headers["Location"] == "/sign-in"


def test_the_profile_choice_wins_while_signed_in_and_stays_after_sign_out(app, client, user):
    client.set_cookie("portal_lang", "ja")
    helpers.enroll(client)
    saved = helpers.post_form(client, "/profile", {"first_name": "Jane", "last_name": "Doe", "phone": "",
                                                    "language": "fr", "time_zone": ""},
                              headers={"Accept-Language": "de"})
    assert saved.status_code == 303
    html = client.get("/", headers={"Accept-Language": "de"}).data.decode()
    assert lang(html) == "fr" and words(app, "fr", "Your details have been saved.") in html
    assert User.get_by_id(user.id).language == "fr"
    signed_out = helpers.submit(client, "/", action="/sign-out")
    assert "portal_lang=fr" in signed_out.headers["Set-Cookie"]
    assert lang(client.get("/sign-in", headers={"Accept-Language": "de"}).data.decode()) == "fr"


def test_the_browser_language_is_kept_when_the_profile_says_none(app, client, user):
    helpers.enroll(client)
    assert lang(client.get("/", headers={"Accept-Language": "es"}).data.decode()) == "es"


@pytest.mark.parametrize("field,value", [("language", "xx"), ("language", "de_DE"),
                                         ("time_zone", "Mars/Olympus"), ("time_zone", "x" * 300)])
def test_a_language_or_zone_that_is_none_of_the_choices_is_refused_with_a_message(app, signed_in, field, value):
    values = {"first_name": "Jane", "last_name": "Doe", "phone": "", "language": "", "time_zone": "", field: value}
    response = helpers.post_form(signed_in, "/profile", values)
    assert response.status_code == 200
    assert "Choose a language from the list." in response.data.decode() or \
        "Choose a time zone from the list" in response.data.decode()


def test_times_are_shown_in_the_persons_zone_with_its_name(app, client, company, clock):
    user = helpers.make_user(company, "jdoe", language="de")
    helpers.enroll(client)  # registered at 9:00 UTC, 10:00 in Berlin in March
    assert "16.03.2026, 09:00 UTC" in client.get("/security").data.decode()
    Company.update(time_zone="Europe/Berlin").where(Company.id == company.id).execute()
    assert "16.03.2026, 10:00 MEZ" in client.get("/security").data.decode()
    User.update(time_zone="Asia/Tokyo").where(User.id == user.id).execute()
    page = client.get("/security").data.decode()
    assert "16.03.2026, 18:00 Japanische Normalzeit" in page  # no short name in German: the long one


def test_dates_are_typed_as_iso_in_every_language(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", language="ja")
    worker = helpers.make_user(company, "worker")
    client = app.test_client()
    helpers.enroll(client, "boss")
    page = client.get("/admin/users/worker").data.decode()
    assert "2027-03-31" in page and 'placeholder="YYYY-MM-DD"' in page  # the hint's example
    values = {"email": "worker@acme.example", "first_name": "Jane", "last_name": "Doe", "phone": "",
              "role": "user", "active": "y", "valid_until": "2027-03-31"}
    assert helpers.post_form(client, "/admin/users/worker", values).status_code == 303
    assert User.get_by_id(worker.id).valid_until == dt.date(2027, 3, 31)
    refused = helpers.post_form(client, "/admin/users/worker", {**values, "valid_until": "31.03.2027"})
    assert words(app, "ja", "Enter the date as year-month-day, for example 2027-03-31.") in refused.data.decode()


def test_mail_is_written_in_its_readers_language_and_zone(app, client, company, clock):
    user = helpers.make_user(company, "jdoe", language="fr")
    Company.update(time_zone="Europe/Paris").where(Company.id == company.id).execute()
    helpers.enroll(client)
    mail = OutboxMessage.select().where(OutboxMessage.subject.contains(
        words(app, "fr", "a new authenticator was registered"))).get()
    assert mail.subject.startswith(words(app, "fr", "%(product)s: %(subject)s", product="Portal", subject=""))
    assert mail.subject.startswith("Portal\u202f: ")  # French puts a narrow space before the colon
    assert "16 mars 2026, 10:00" in helpers.mail_text(mail)
    assert '<html lang="fr">' in helpers.mail_html(mail)
    assert User.get_by_id(user.id).language == "fr"


def test_a_contact_person_gets_mail_in_the_language_their_administrator_chose(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin")
    client = app.test_client()
    helpers.enroll(client, "boss")
    page = client.get("/admin/new-contact").data.decode()
    assert '<option selected value="en">English</option>' in page  # the administrator's own language first
    assert helpers.post_form(client, "/admin/new-contact", {"first_name": "Carl", "last_name": "Contact",
                                                            "email": "carl@acme.example", "phone": "",
                                                            "department": "", "language": "es"}).status_code == 303
    assert ContactPerson.get().language == "es"
    mail = OutboxMessage.get(OutboxMessage.to_address == "carl@acme.example")
    expected = words(app, "es", "please confirm you are a contact person of %(company)s", company="ACME Components")
    assert mail.subject == words(app, "es", "%(product)s: %(subject)s", product="Portal", subject=expected)
    assert "23 mar 2026" in helpers.mail_text(mail)  # the link's last day, as Spanish writes it


def test_a_new_user_is_welcomed_in_the_language_chosen_for_them(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", language="de")
    client = app.test_client()
    helpers.enroll(client, "boss")
    values = {"user_id": "neu", "first_name": "Nina", "last_name": "Neu", "email": "nina@acme.example",
              "phone": "", "role": "user", "valid_until": "", "language": "ja"}
    assert helpers.post_form(client, "/admin/new-user", values).status_code == 303
    assert User.get(User.user_id == "neu").language == "ja"
    mail = OutboxMessage.get(OutboxMessage.to_address == "nina@acme.example")
    assert mail.subject == words(app, "ja", "%(product)s: %(subject)s", product="Portal",
                                 subject=words(app, "ja", "your new User ID"))


def test_the_lifecycle_job_warns_a_french_user_in_french(app, company, clock):
    user = helpers.make_user(company, "sleepy", language="fr")
    last = portal_clock.months_before(clock.current, 11)
    User.update(activity_at=last, last_sign_in_at=last).where(User.id == user.id).execute()
    with app.app_context():
        assert lifecycle.run().counts["warned"] == 1
    mail = OutboxMessage.get()
    notice = words(app, "fr", "%(product)s account notice: %(subject)s", product="Portal", subject="")
    assert mail.subject.startswith(notice) and "16 avr. 2026" in mail.subject  # 12 months after the last sign-in
    assert words(app, "fr", "This is an account notice, not one of the notifications you configure "
                             "yourself.") in helpers.mail_text(mail)


def test_the_cli_and_the_job_without_a_choice_stay_english(app, company, clock):
    user = helpers.make_user(company, "sleepy")
    last = portal_clock.months_before(clock.current, 11)
    User.update(activity_at=last, last_sign_in_at=last).where(User.id == user.id).execute()
    with app.app_context():
        lifecycle.run()
    assert OutboxMessage.get().subject.startswith("Portal account notice: sign in before Apr 16, 2026")


def test_terms_are_shown_in_the_persons_language_and_accepting_records_one_version(app, client, user):
    with app.app_context():
        version = consent.document(consent.TERMS).version
    instance = app.instance_path
    with open(f"{instance}/terms.de.txt", "w", encoding="utf-8") as fh:
        fh.write(f"Version: {version}\nTitle: Nutzungsbedingungen\n\nDiese Bedingungen gelten.\n")
    with open(f"{instance}/personal_data.de.txt", "w", encoding="utf-8") as fh:
        fh.write("Version: 1999-01\nTitle: Veraltet\n\nEin alter Text.\n")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    helpers.enroll(client, choices=False)
    page = client.get("/terms").data.decode()
    assert "Diese Bedingungen gelten." in page and f'name="version" value="{version}"' in page
    assert helpers.submit(client, "/terms").status_code == 303
    assert User.get_by_id(user.id).terms_version == version
    settings = client.get("/personal-settings").data.decode()
    assert "Ein alter Text." not in settings  # a translation of another version is not shown: the English one is
    assert "Showing your personal data" in settings
