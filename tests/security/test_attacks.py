"""Attacks a reviewer will try (security.md), each a real attempt through the test client."""
import gzip
import logging
import re

import pytest
from peewee import OperationalError

from portal.infrastructure import outbox
from portal.models import Authenticator, LoginSession, OutboxMessage, User
from portal.services import ServiceError, account_help, mfa
from tests import helpers
from tests.security.test_races import in_parallel, pending_sign_ins

# The provider's endpoints treat a pending sign-in as no sign-in (tests/integration/oidc proves it gets no code).
PUBLIC_PREFIXES = ("/static", "/sign-in", "/sign-out", "/forgot-id", "/new-password", "/recover", "/contact",
                   "/healthz", "/profile/email/", "/.well-known/", "/oidc/")


def get_routes(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments]


def test_pending_sign_in_reaches_no_page_but_the_code_step(app, client, user):
    helpers.enter_password(client)  # password right, code not yet
    for rule in get_routes(app):
        if rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(rule.rule, headers=headers)
            assert response.status_code in (303, 404) or "HX-Redirect" in response.headers, rule.rule
            assert response.status_code != 200 or "HX-Redirect" in response.headers, rule.rule


def test_code_guessing_across_parallel_sign_ins_stops_at_ten(app, user, clock):
    secret = helpers.enroll(app.test_client())
    clock.advance(seconds=30)
    pendings = pending_sign_ins(app, 4)

    def guess(i):
        outcomes = []
        for _ in range(5):
            record = LoginSession.get_or_none(LoginSession.id == pendings[i].id)
            if record is None:
                break
            try:
                mfa.verify(record, "000000")
            except ServiceError as error:
                outcomes.append(error.message)
        return outcomes

    in_parallel(4, guess)
    assert User.get_by_id(user.id).code_blocked_until is not None
    assert User.get_by_id(user.id).failed_code_count < 10  # the count restarted when the block began
    # Once blocked, even the right code is refused until the block ends.
    client = app.test_client()
    helpers.enter_password(client)
    refused = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert refused.headers["Location"] == "/sign-in" and client.get("/").status_code == 303


def test_planted_session_cookie_does_not_survive_sign_in(app, user, clock):
    attacker = app.test_client()
    attacker.get("/sign-in")
    planted = helpers.session_cookie(attacker, app)
    victim = app.test_client()
    victim.set_cookie(app.config["SESSION_COOKIE_NAME"], planted)
    helpers.enroll(victim)
    assert helpers.session_cookie(victim, app) != planted
    assert attacker.get("/").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https:evil.example", "javascript:alert(1)",
                                    "https://evil.example/", "%2F%2Fevil.example", "/%5Cevil.example",
                                    "\\/evil.example", "/\t/evil.example"])
def test_next_never_leaves_the_site(app, user, clock, target):
    client = app.test_client()
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    clock.advance(seconds=30)
    page = client.get("/sign-in", query_string={"next": target})
    client.post("/sign-in", query_string={"next": target},
                data={"csrf_token": helpers.csrf_token(page.data), "user_id": "jdoe", "password": helpers.PASSWORD})
    response = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    location = response.headers["Location"]
    # Either home, or a path on this site (such as /%5Cevil.example, which is a 404 here).
    assert location == "/" or (location.startswith("/") and not location.startswith("//") and "\\" not in location
                               and ":" not in location)


@pytest.mark.parametrize("field,value", [("first_name", "Eve\r\nBcc: all@evil.example"),
                                         ("email", "eve@x.example\r\nBcc: all@evil.example"),
                                         ("email", "eve@x.example, all@evil.example"),
                                         ("email", '"Eve" <eve@x.example>')])
def test_header_injection_through_user_data_is_refused(company, field, value):
    values = {"email": "eve@x.example", "first_name": "Eve", "last_name": "Evil", field: value}
    with pytest.raises(ServiceError):
        helpers.make_user(company, "eve", **values)
    assert OutboxMessage.select().count() == 0


def test_links_in_mail_ignore_host_and_forwarded_host(app, client, user):
    """Every request carries the attacker's Host (the test client keeps cookies per host, so the sign-in
    must be made under that Host too, or no recovery mail would be written)."""
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}

    def post(path, **data):
        token = helpers.csrf_token(client.get(path, headers=evil).data)
        return client.post(path, headers=evil, data={"csrf_token": token, **data})

    post("/forgot-id", email="jdoe@acme.example")
    assert post("/sign-in", user_id="jdoe", password=helpers.PASSWORD).status_code == 303
    token = helpers.csrf_token(client.get("/sign-in/enroll", headers=evil).data)
    client.post("/sign-in/lost-device", headers=evil, data={"csrf_token": token})
    messages = list(OutboxMessage.select().order_by(OutboxMessage.id))
    assert [m.subject for m in messages] == ["Portal: your User ID",
                                            "Portal: your link to register a new authenticator"]
    for message in messages:
        text = helpers.mail_text(message)
        assert "http://portal.example.test/" in text
        assert "evil.example" not in text and "evil.example" not in helpers.mail_html(message)


def test_thousand_character_unicode_password_works_end_to_end(app, company, clock):
    password = ("Grüße-Ωmega-北京-" * 80)[:1000]
    helpers.make_user(company, "longpw", password=password)
    client = app.test_client()
    assert helpers.enter_password(client, "longpw", password).headers["Location"] == "/sign-in/enroll"
    other = app.test_client()
    assert "incorrect" in helpers.enter_password(other, "longpw", password[:-1]).data.decode()


def test_every_page_forbids_framing_and_inline_script(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin")
    client = app.test_client()
    helpers.enroll(client, "boss")
    for rule in get_routes(app):
        if rule.rule.startswith(("/static", "/service-center")):
            continue
        response = client.get(rule.rule)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, rule.rule
        assert response.headers.get("X-Frame-Options") == "DENY", rule.rule


def test_totp_secret_is_never_shown_or_logged_after_enrollment(app, client, user, caplog):
    caplog.set_level(logging.DEBUG)
    secret = helpers.enroll(client)
    for path in ("/", "/security", "/profile", "/sign-in/enroll", "/sign-in/backup-codes", "/sessions"):
        assert secret not in client.get(path).data.decode(), path
    assert secret not in caplog.text
    stored = Authenticator.get().secret_encrypted
    assert secret not in stored


def test_database_failure_mid_request_leaves_no_half_change(app, client, user, monkeypatch):
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")

    def connection_lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(outbox, "queue", connection_lost)  # fails inside the enrollment's transaction
    response = client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "P",
                                                     "code": helpers.code_now(secret)})
    assert response.status_code == 500 and "Something went wrong" in response.data.decode()
    assert Authenticator.select().count() == 0  # rolled back whole
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200  # the next request works


def test_smtp_down_during_a_burst_loses_nothing(app, user, smtp):
    from portal import mail

    smtp.stop()
    with app.app_context():
        for n in range(20):
            outbox.queue("jdoe@acme.example", f"burst {n}", "authenticator_registered", user=user, device_name="X",
                         when=user.created_at)
        assert mail.deliver_due() == (0, 20)
    smtp.start()
    OutboxMessage.update(next_attempt_at=user.created_at).execute()
    with app.app_context():
        assert mail.deliver_due() == (20, 0)
    assert len(smtp.wait_for(20)) == 20


@pytest.fixture
def app_config(request):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": request.getfixturevalue("smtp").port} \
        if "smtp" in request.fixturenames else {}


def test_sign_in_page_weighs_under_40_kb_compressed(client):
    page = client.get("/sign-in")
    total = len(gzip.compress(page.data))
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.data.decode()):
        total += len(gzip.compress(client.get(asset).data))
    assert total < 40 * 1024, total


def test_each_link_works_only_for_its_own_purpose(app, company, clock):
    """Tokens of every kind, tried on every other link page: all refused, nothing changed."""
    from portal.infrastructure import links
    from portal.models import ContactPerson
    from portal.services import admin, contacts

    boss = helpers.make_user(company, "boss", role="company-admin")
    target = helpers.make_user(company, "target")
    with app.app_context():
        tokens = {purpose: links.issue(target, purpose, data='{"email": "new@acme.example"}'
                                       if purpose == links.EMAIL_CHANGE else None)
                  for purpose in (links.RECOVERY, links.PASSWORD_RESET, links.EMAIL_CHANGE, links.WELCOME)}
        contact = contacts.create(boss, {"first_name": "C", "last_name": "P", "email": "cp@acme.example"})
    activation = re.search(r"/contact/activate/([A-Za-z0-9_-]+)", helpers.mail_text(OutboxMessage.select().order_by(
        OutboxMessage.id.desc()).get())).group(1)
    tokens["activation"] = activation
    pages = {"/recover/": {links.RECOVERY}, "/new-password/": {links.PASSWORD_RESET, links.WELCOME},
             "/profile/email/": {links.EMAIL_CHANGE}, "/contact/activate/": {"activation"}}
    client = app.test_client()
    for prefix, accepted in pages.items():
        for purpose, token in tokens.items():
            status = client.get(prefix + token).status_code
            assert (status == 200) == (purpose in accepted), (prefix, purpose, status)
    assert ContactPerson.get_by_id(contact.id).status == "pending"
    assert User.get_by_id(target.id).password_hash == target.password_hash
    assert admin  # imported for the Company Administrator fixture above


def test_addresses_typed_into_names_never_become_links_in_mail(app, company):

    boss = helpers.make_user(company, "boss", role="company-admin", last_name="Boss https://evil.example/login")
    target = helpers.make_user(company, "target")
    with helpers.context():
        account_help.reset_mfa(boss, target)
        html = helpers.mail_html(OutboxMessage.get(OutboxMessage.to_address == "target@acme.example"))
    assert "https://evil.example/login" in html and 'href="https://evil.example' not in html
    assert '<a href="http://portal.example.test/">' in html  # Portal's own link still is one
