"""Bad input never gets a 500: every route of the URL map, every query parameter the pages read and every
field of every form on every page, each with values an attacker or a broken client sends (over-long, NUL,
bytes that are not UTF-8, a lone surrogate, the last code points, years 9999 and 10000, huge and negative
numbers), as anonymous, a user, a Company Administrator and the Service Center, on SQLite and PostgreSQL.
A bad value gets a message or a 4xx page, and is never saved."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest

from portal.models import ContactPerson, LoginSession, Passkey, User
from portal.services import contacts, oidc_clients
from tests import helpers

BAD_TEXT = ["x" * 3000, "a\x00b", b"a\xed\xa0\x80", b"a\xf4\x90\x80\x80", "a\U0010ffff", "a\ud7ff", "\ufeff=1+2",
            "9999-12-31", "10000-01-01", "0000-00-00", "99999999999999999999999", "-1", "0"]
BAD_IDS = ["99999999999999999999999", "9223372036854775808", "-1", "0"]
QUERY = ["q", "status", "sort", "page", "user", "event", "since", "until", "format", "next"]
SKIP_ACTIONS = ("/sign-out", "/security/replace-authenticator")  # would end the walk's own session


class Forms(HTMLParser):
    """Every form of a page that posts: its action and the fields a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post":
            self._current = (attrs.get("action") or "", [])
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea") and attrs.get("name"):
            if attrs.get("type") not in ("submit", "checkbox", "radio") or "checked" in attrs:
                self._current[1].append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def encoded(pairs) -> str:
    """application/x-www-form-urlencoded with str or raw bytes values (bytes go as they are: not UTF-8)."""
    return urlencode([(k, v) for k, v in pairs])


def check(response, what: str):
    body = response.get_data(as_text=True)
    assert response.status_code < 500 and "Traceback" not in body, f"{what}: {response.status_code}"


@pytest.fixture
def people(app, company, clock):
    """Signed-in clients of each kind, plus what their pages act on (a user, a contact person)."""
    operator = helpers.make_company("Portal Operator")
    helpers.make_user(company, "boss", role="company-admin", first_name="Ada", email="boss@acme.example")
    helpers.make_user(company, "jdoe")
    helpers.make_user(operator, "helpdesk", role="service-center", first_name="Hal", email="hal@operator.example")
    clients = {"anonymous": app.test_client()}
    for user_id in ("boss", "jdoe", "helpdesk"):
        clients[user_id] = app.test_client()
        helpers.enroll(clients[user_id], user_id)
    with helpers.context():
        contact = contacts.create(User.get(User.user_id == "boss"), {"first_name": "Cora", "last_name": "Contact",
                                                                      "email": "cora@acme.example"})
        application = oidc_clients.create_client("Data Sheets", ["https://sheets.example/cb"]).client
        passkey = Passkey.create(user=User.get(User.user_id == "jdoe"), name="Laptop", credential_id="AAAA",
                                 public_key="AAAA", user_handle="AAAA")  # its Remove form is walked too
    return clients, {"user_id": "jdoe", "contact_id": contact.id, "company_id": company.id,
                     "client_id": application.client_id,
                     "session_id": LoginSession.select().first().id, "token": "A" * 43, "action": "reset-mfa",
                     "passkey_id": passkey.id, "code": "de"}


def in_path(value) -> str:
    return quote(value if isinstance(value, bytes) else value.encode("utf-8"), safe="")


def urls(app, valid: dict):
    """Each route with valid arguments (True), and with each bad value in each argument (False)."""
    marker = 987654321  # built into the path, then replaced by the bad value as it would be sent
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {a: valid[a] for a in rule.arguments}
        yield rule, rule.build(values, append_unknown=False)[1], True
        for argument in rule.arguments:
            path = rule.build({**values, argument: marker}, append_unknown=False)[1]
            ids = rule._converters[argument].__class__.__name__ == "DatabaseId"
            for value in BAD_IDS if ids else BAD_TEXT:
                yield rule, path.replace(str(marker), in_path(value), 1), False


def post(client, action: str, pairs, what: str):
    check(client.post(action, data=encoded(pairs), content_type="application/x-www-form-urlencoded"), what)


def walk_routes(app, client, who: str, valid: dict) -> list[str]:
    """Every route, its path arguments and the query parameters; returns the pages that showed."""
    token = helpers.csrf_token(client.get("/sign-in" if who == "anonymous" else "/").data)
    pages = []
    for rule, path, valid_path in urls(app, valid):
        if "GET" in rule.methods:
            response = client.get(path)
            check(response, f"{who} GET {path}")
            if valid_path and response.status_code == 200:
                if "text/html" in response.content_type:
                    pages.append(response.get_data(as_text=True))
                for value in BAD_TEXT:
                    check(client.get(path + "?" + encoded([(name, value) for name in QUERY])),
                          f"{who} GET {path}?...={value!r:.40}")
        if "POST" in rule.methods and not path.startswith(SKIP_ACTIONS) and not valid_path:
            post(client, path, [("csrf_token", token), ("confirmed", "yes")], f"{who} POST {path}")
    return pages


def walk_forms(client, who: str, pages: list[str], walked: set) -> None:
    """Each field of each form on the pages (each form once), one at a time, with each bad value; the rest as the
    page has it."""
    for page in pages:
        parser = Forms()
        parser.feed(page)
        for action, fields in parser.forms:
            if action.startswith(SKIP_ACTIONS) or (who, action, tuple(fields)) in walked:
                continue
            walked.add((who, action, tuple(fields)))
            for index, (name, _) in enumerate(fields):
                for value in BAD_TEXT if name != "csrf_token" else ():
                    post(client, action, fields[:index] + [(name, value)] + fields[index + 1:],
                         f"{who} POST {action} {name}={value!r:.40}")


# The forms each kind of person's walk reaches at least (35 in all); one test each, so that the suite's processes
# (make test) share the walk.
FORMS_REACHED = {"anonymous": 4, "boss": 21, "jdoe": 10, "helpdesk": 10}


@pytest.mark.parametrize("who", sorted(FORMS_REACHED))
def test_no_bad_value_in_any_route_parameter_or_field_gets_a_500(app, people, who):
    clients, valid = people
    walked = set()
    walk_forms(clients[who], who, walk_routes(app, clients[who], who, valid), walked)
    assert len(walked) >= FORMS_REACHED[who]
    _nothing_bad_was_saved()


def _nothing_bad_was_saved():
    for model in (User, ContactPerson):
        for row in model.select():
            for field in ("email", "first_name", "last_name", "phone", "department"):
                value = str(getattr(row, field, ""))
                assert "\x00" not in value and "xxxxxxxxxx" not in value and "\U0010ffff" not in value, (model, field)
        if model is User:
            assert all(u.valid_until.year < 2040 for u in model.select())


@pytest.mark.parametrize("query", ["a\U0010ffff", "a\ud7ff", "\U0010ffff\U0010ffff", "\ud7ff"])
def test_a_search_for_the_last_code_points_finds_nothing_and_fails_nothing(app, people, query):
    clients, _ = people
    for who, path in (("boss", "/admin/users"), ("helpdesk", "/service-center/users")):
        response = clients[who].get(path + "?" + urlencode({"q": query}))
        assert response.status_code == 200 and "No users" in response.get_data(as_text=True)


def test_a_nul_character_at_sign_in_gets_a_clear_page_and_changes_nothing(app, user):
    client = app.test_client()
    response = helpers.post_form(client, "/sign-in", {"user_id": "jdoe\x00", "password": "x"})
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert User.get().failed_password_count == 0
