"""Every page and every mail in German has no English sentence of the source left in it: the catalog's own
English strings (translations/messages.pot) are the list, found as whole words with any value in place of a
placeholder. Strings that German writes the same (ALLOWED_SAME, when the German catalog agrees) are skipped.

It fails while the German catalog is incomplete, naming the pages and the English left on them.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal import ROOT
from portal.models import ContactPerson, User
from portal.services import contacts, oidc_clients
from portal.infrastructure import outbox
from tests import helpers

ALLOWED_SAME = {"Name", "Status", "Status:", "Service Center", "IP", "Details", "Client ID", "Redirect URIs",
                "Portal", "Administration", "Account", "Link", "Code", "OK", "Authenticator", "Version %(version)s"}
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
TAG = re.compile(r"<[^>]*>")
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL)
KEPT = re.compile(r'<(\w+)\b[^>]*\btranslate="no"[^>]*>.*?</\1>', re.DOTALL)
SAID = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')


def _catalog(path):
    with open(path, "rb") as fh:
        return read_po(fh)


def english_sources() -> dict[str, list[str]]:
    """Each English msgid (singular and plural) as its literal parts, which a value for each placeholder joins."""
    german = {m.id: m.string for m in _catalog(ROOT / "translations/de/LC_MESSAGES/messages.po") if m.id}
    patterns = {}
    for message in _catalog(ROOT / "translations/messages.pot"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        if ids[0] in ALLOWED_SAME and german.get(message.id) == message.id:
            continue
        for text in ids:
            literal = PLACEHOLDER.sub(" ", text)
            if not re.search(r"[A-Za-z]{3}", literal):
                continue  # nothing but placeholders and punctuation: nothing English to find
            words = TAG.sub("", html.unescape(text))  # as read: a msgid may hold HTML
            patterns[text] = [" ".join(part.split()) for part in PLACEHOLDER.split(words) if part.strip()]
    return patterns


def _word_at(text: str, start: int, end: int) -> bool:
    """text[start:end] is not a piece of a longer word ("Name" in "Namen", "Active" in "Inactive")."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (text[start].isalnum() and (before.isalnum() or before in "-_")) \
        and not (text[end - 1].isalnum() and (after.isalnum() or after in "-_"))


def found_in(text: str, parts: list[str]) -> bool:
    """The parts in order, each a whole word or phrase, each within a value's length of the one before."""
    start = 0
    while (position := text.find(parts[0], start)) >= 0:
        start = position + 1
        end, ok = position + len(parts[0]), _word_at(text, position, position + len(parts[0]))
        for part in parts[1:]:
            if not ok:
                break
            following = text.find(part, end, end + 200 + len(part))
            ok = following >= 0 and _word_at(text, following, following + len(part))
            end = following + len(part)
        if ok:
            return True
    return False


def visible(body: str) -> list[str]:
    """What a person reads: the text without tags, and the words in attributes (labels, titles, hints)."""
    body = KEPT.sub(" ", SCRIPT.sub(" ", body))  # translate="no": the audit log's event names and details
    text = html.unescape(TAG.sub(" ", body))
    said = " | ".join(html.unescape(value) for value in SAID.findall(body))
    return [" ".join(text.split()), said]


def english_left(body: str, patterns) -> list[str]:
    """The English sources found, each with the words around it (to find it on the page)."""
    left = []
    for source, parts in patterns.items():
        for text in visible(body):
            if found_in(text, parts):
                at = text.find(parts[0])
                left.append(f"{source!r} in …{text[max(0, at - 60):at + len(parts[0]) + 60]}…")
                break
    return left


@pytest.fixture
def people(app, company, clock):
    """A user, a Company Administrator and a Service Center person, each signed in with a German browser, and
    one German browser signed in nowhere; a contact person and an application for the pages that show them."""
    helpers.make_user(company, "boss", role="company-admin", first_name="Bea", last_name="Boss",
                      email="boss@acme.example")
    helpers.make_user(company, "jdoe")
    operator = helpers.make_company("Operator")
    helpers.make_user(operator, "helpdesk", role="service-center", first_name="Hal", email="hal@operator.example")
    for kind, title in (("terms", "Nutzungsbedingungen"), ("personal_data", "Anzeige Ihrer persönlichen Daten")):
        with open(ROOT / "portal/content" / f"{kind}.txt", encoding="utf-8") as fh:
            version = fh.readline()
        (Path(app.instance_path) / f"{kind}.de.txt").write_text(f"{version}Title: {title}\n\nDer Text auf Deutsch.\n",
                                                              encoding="utf-8")
    clients = {}
    for who in ("anonymous", "jdoe", "boss", "helpdesk"):
        clients[who] = app.test_client()
        clients[who].environ_base.update(GERMAN)
        if who != "anonymous":
            helpers.enroll(clients[who], who)
    with helpers.context():
        contact = contacts.create(User.get(User.user_id == "boss"), {"first_name": "Cora", "last_name": "Contact",
                                                                      "email": "cora@acme.example"})
        oidc_clients.create_client("Data Sheets", ["https://sheets.example/cb"])
    return clients, {"user_id": "jdoe", "contact_id": contact.id, "company_id": company.id}


def pages(app, clients, values) -> dict[str, str]:
    """Every page a GET shows (HTML), for each person, with the route's arguments filled in."""
    shown = {}
    for who, client in clients.items():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or set(rule.arguments) - set(values):
                continue
            path = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
            response = client.get(path)
            if response.mimetype == "text/html" and response.status_code < 500:
                shown[f"{who} {path}"] = response.data.decode()
    return shown


def mailed_links() -> list[str]:
    """The paths of the links in the mail written so far (the contact person's activation, ...)."""
    from portal.models import OutboxMessage

    with helpers.context():
        texts = [helpers.mail_text(message) for message in OutboxMessage.select()]
    return [link.removeprefix("http://portal.example.test") for text in texts
            for link in re.findall(r"http://portal\.example\.test(/\S+)", text)]


def steps_and_errors(app) -> dict[str, str]:
    """The sign-in steps, a form with its errors, flashes, the error pages, the pages of mailed links, as a
    German browser sees them."""
    client = app.test_client()
    client.environ_base.update(GERMAN)
    shown = {f"link {path}": client.get(path).data.decode() for path in mailed_links()}
    shown |= {"sign-in, empty": helpers.post_form(client, "/sign-in", {"user_id": "", "password": ""}).data.decode(),
             "sign-in, wrong": helpers.enter_password(client, "jdoe", "Wrong-Lantern-Harbor-93").data.decode(),
             "no such page": client.get("/no-such-page").data.decode()}
    helpers.enter_password(client, "jdoe")
    shown["code step"] = client.get("/sign-in/verify").data.decode()
    shown["code step, wrong code"] = helpers.post_form(client, "/sign-in/verify", {"code": "000000"}).data.decode()
    shown["backup code"] = client.get("/sign-in/backup-code").data.decode()
    shown["backup code, wrong"] = helpers.post_form(client, "/sign-in/backup-code",
                                                    {"code": "aaaaa-aaaaa"}).data.decode()
    shown["forgot ID sent"] = helpers.post_form(client, "/forgot-id", {"email": "jdoe@acme.example"},
                                                token_from="/forgot-id").data.decode()
    newcomer = app.test_client()
    newcomer.environ_base.update(GERMAN)
    helpers.enter_password(newcomer, "newbie")
    shown["enrollment"] = newcomer.get("/sign-in/enroll").data.decode()
    shown["enrollment, wrong code"] = helpers.post_form(newcomer, "/sign-in/enroll",
                                                        {"device_name": "", "code": "12"}).data.decode()
    return shown


def mails(company) -> dict[str, str]:
    """Every mail template, as outbox.render writes it for a German reader (text; the HTML has the same words)."""
    with helpers.context():
        reader = User.get(User.user_id == "jdoe")
        User.update(language="de").where(User.id == reader.id).execute()
        reader.language = "de"
        admin = User.get(User.user_id == "boss")
        contact = ContactPerson.get()
        contact.language = "de"
        now = dt.datetime(2026, 3, 16, 9, 0)
        common = {"user": reader, "admin": admin, "contact": contact, "company": reader.company, "users": [reader, admin],
                      "link": "http://portal.example.test/x", "lifetime": "15 Minuten", "when": now, "until": now, "since": now,
                      "paused_until": now, "deadline": now.date(), "today": now.date(), "expires": now, "device_name": "Telefon",
                      "left": 1, "low": True, "new_email": "neu@acme.example", "old_email": "alt@acme.example", "target": reader,
                      "ticket": "T-1", "activated": True, "by_admin": True}
        written = {}
        for template in sorted(p.stem for p in (ROOT / "templates/email").glob("[a-z]*.txt")):
            for variant, flags in (("", {}), (" (other case)", {"activated": False, "by_admin": False, "low": False,
                                                                  "admin": None, "users": [reader]})):
                row = outbox.render(reader.email, "Betreff", template, notice=True, **{**common, **flags})
                from portal.security import crypto
                written[f"mail {template}{variant}"] = crypto.decrypt(row["body_text"]) + "\n" + row["subject"]
    return written


def test_every_page_and_mail_in_german_has_no_english_sentence_left(app, people, company):
    clients, values = people
    helpers.make_user(company, "newbie")
    shown = {**pages(app, clients, values), **steps_and_errors(app), **mails(company)}
    assert len(shown) > 60  # every page and mail was there to look at
    patterns = english_sources()
    assert len(patterns) > 500
    left = {name: found for name, body in shown.items() if (found := english_left(body, patterns))}
    assert not left, "English left in German:\n" + "\n".join(f"{name}: {found[:4]}" for name, found in left.items())


def test_a_page_with_english_left_is_found(app, people):
    """The check itself: an English page is full of the source's sentences."""
    english = app.test_client().get("/sign-in").data.decode()
    found = english_left(english, english_sources())
    assert any(item.startswith("'After your password you enter a 6-digit code from your authenticator app.'")
               for item in found)
