"""Account take-over by someone who holds one thing of the owner's: their mailbox, an administrator's session,
or an old link. Each test makes the attack through the test client."""
import datetime as dt
import re

import pytest

from portal.models import Authenticator, OutboxMessage, Token, User
from tests import helpers

RESET = re.compile(r"/new-password/([A-Za-z0-9_-]+)")
RECOVER = re.compile(r"/recover/([A-Za-z0-9_-]+)")
CONFIRM = re.compile(r"/profile/email/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "Brand-New-Harbor-77"


def last_mail(to: str | None = None) -> OutboxMessage:
    query = OutboxMessage.select().order_by(OutboxMessage.id.desc())
    return (query.where(OutboxMessage.to_address == to) if to else query).get()


def link_token(pattern: re.Pattern, to: str | None = None) -> str:
    return pattern.search(helpers.mail_text(last_mail(to))).group(1)


def mailed_reset_link(client, user_id: str = "jdoe") -> str:
    """New Password, as anyone who knows a User ID can ask for it; the link goes to the owner's mailbox."""
    helpers.post_form(client, "/new-password", {"user_id": user_id})
    return link_token(RESET)


def set_password_by_link(client, token: str, password: str = NEW_PASSWORD):
    return helpers.post_form(client, f"/new-password/{token}", {"password": password, "confirm": password})


def ask_for_recovery_link(client, password: str = helpers.PASSWORD):
    helpers.enter_password(client, password=password)
    return helpers.post_form(client, "/sign-in/lost-device", {}, token_from="/sign-in/verify")


@pytest.fixture
def enrolled(app, user, clock):
    """The owner, enrolled and signed out; returns the authenticator's secret."""
    owner = app.test_client()
    secret = helpers.enroll(owner)
    helpers.post_form(owner, "/sign-out", {}, token_from="/")
    clock.advance(seconds=30)
    return secret


# --- the mailbox alone ---------------------------------------------------------------------------

def test_the_mailbox_alone_cannot_replace_both_factors(app, enrolled, clock):
    """New Password -> sign in with it -> "Lost your device?" would hand the whole account to whoever reads
    the mail; the second link is refused, on the page and by mail, until the pause is over."""
    attacker = app.test_client()
    assert set_password_by_link(attacker, mailed_reset_link(attacker)).status_code == 303
    mails_before = OutboxMessage.select().count()
    response = ask_for_recovery_link(attacker, NEW_PASSWORD)
    assert response.headers["Location"] == "/sign-in/verify"
    page = attacker.get("/sign-in/verify").data.decode()
    assert "not available for this User ID until Mar 23, 2026, 9:00\u202fAM UTC" in page and "backup code" in page
    assert not Token.select().where(Token.purpose == "recovery").exists()
    assert Authenticator.select().count() == 1
    notice = last_mail()
    assert OutboxMessage.select().count() == mails_before + 1 and "No link was sent" in helpers.mail_text(notice)
    assert "no link to register a new authenticator" in notice.subject

    # The owner was told when the password was set, and after the pause mailed recovery works again.
    changed = OutboxMessage.get(OutboxMessage.subject == "Portal: your password was changed")
    assert "until Mar 23, 2026, 9:00\u202fAM UTC" in helpers.mail_text(changed)
    clock.advance(days=7, minutes=1)
    assert ask_for_recovery_link(app.test_client(), NEW_PASSWORD).headers["Location"] == "/sign-in/lost-device"
    assert Token.select().where(Token.purpose == "recovery").exists()


def test_after_a_mailed_recovery_new_password_sends_no_link(app, enrolled, clock):
    owner = app.test_client()
    earlier = mailed_reset_link(app.test_client())  # an attacker's link from before the recovery
    ask_for_recovery_link(owner)
    assert helpers.post_form(owner, f"/recover/{link_token(RECOVER)}", {}).headers["Location"] == "/sign-in/enroll"

    attacker = app.test_client()
    helpers.post_form(attacker, "/new-password", {"user_id": "jdoe"})
    mail = last_mail()
    assert "not available" in mail.subject and not RESET.search(helpers.mail_text(mail))
    assert "until Mar 23, 2026, 9:00\u202fAM UTC" in helpers.mail_text(mail)
    assert attacker.get(f"/new-password/{earlier}").status_code == 410  # voided, or paused at the least
    before = User.get_by_id(1).password_hash
    response = helpers.post_form(attacker, f"/new-password/{earlier}", {"password": NEW_PASSWORD,
                                                                        "confirm": NEW_PASSWORD},
                                 token_from="/new-password")
    assert response.status_code == 410 and User.get_by_id(1).password_hash == before


def test_a_reset_link_asked_for_before_a_mailed_recovery_is_refused_after_it(app, enrolled, clock):
    from portal.infrastructure import links

    with helpers.context():
        token = links.issue(User.get(), links.PASSWORD_RESET)
    owner = app.test_client()
    ask_for_recovery_link(owner)
    helpers.post_form(owner, f"/recover/{link_token(RECOVER)}", {})
    page = app.test_client().get(f"/new-password/{token}")
    assert page.status_code == 410 and "replaced through an e-mailed link" in page.data.decode()


def test_a_reset_sent_by_a_company_administrator_still_works_after_a_mailed_recovery(app, company, enrolled, clock):
    from portal.services import account_help

    boss = helpers.make_user(company, "boss", role="company-admin")
    owner = app.test_client()
    ask_for_recovery_link(owner)
    helpers.post_form(owner, f"/recover/{link_token(RECOVER)}", {})
    with helpers.context():
        account_help.send_password_reset(boss, User.get(User.user_id == "jdoe"))
    token = link_token(RESET, "jdoe@acme.example")
    assert set_password_by_link(app.test_client(), token).headers["Location"] == "/sign-in"


# --- links that outlive their purpose ------------------------------------------------------------

def test_a_reset_link_from_before_a_password_change_no_longer_works(app, user, clock):
    owner = app.test_client()
    secret = helpers.enroll(owner)
    stolen = mailed_reset_link(app.test_client())
    clock.advance(seconds=30)
    code = helpers.code_now(secret)
    helpers.post_form(owner, "/profile/password", {"current_password": helpers.PASSWORD, "code": code,
                                                    "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert helpers.enter_password(app.test_client(), password=NEW_PASSWORD).status_code == 303  # changed
    assert app.test_client().get(f"/new-password/{stolen}").status_code == 410


def test_a_welcome_link_dies_when_the_password_is_set_through_a_reset_link(app, company, clock):
    from portal.services import admin

    boss = helpers.make_user(company, "boss", role="company-admin")
    with helpers.context():
        admin.create_user(boss, {"user_id": "newbie", "email": "newbie@acme.example", "first_name": "New",
                                 "last_name": "Bie"})
    welcome = link_token(RESET, "newbie@acme.example")
    reset = mailed_reset_link(app.test_client(), "newbie")
    assert set_password_by_link(app.test_client(), reset).status_code == 303
    assert app.test_client().get(f"/new-password/{welcome}").status_code == 410


def test_an_email_change_link_dies_after_a_password_change(app, user, clock):
    from portal.infrastructure import links

    with helpers.context():
        token = links.issue(User.get(), links.EMAIL_CHANGE, data='{"email": "thief@evil.example"}')
    mailed_reset = mailed_reset_link(app.test_client())
    set_password_by_link(app.test_client(), mailed_reset)
    assert app.test_client().get(f"/profile/email/{token}").status_code == 410
    assert User.get().email == "jdoe@acme.example"


def test_links_the_person_asks_for_last_fifteen_minutes(app, enrolled, clock):
    reset = mailed_reset_link(app.test_client())
    ask_for_recovery_link(app.test_client())
    recover = link_token(RECOVER)
    clock.advance(minutes=15, seconds=1)
    client = app.test_client()
    assert client.get(f"/new-password/{reset}").status_code == 410
    assert client.get(f"/recover/{recover}").status_code == 410


def test_no_usable_token_is_stored_in_clear(app, enrolled, clock, monkeypatch):
    """Links are stored as hashes and waiting mail encrypted: a dump of every table holds no working link."""
    from portal import mail
    from portal.db import db
    from portal.models import ALL_MODELS

    def server_down(message):
        raise ConnectionRefusedError

    monkeypatch.setattr(mail, "send", server_down)  # the mails wait in the outbox
    client = app.test_client()
    helpers.post_form(client, "/new-password", {"user_id": "jdoe"})
    ask_for_recovery_link(client)
    assert OutboxMessage.select().where(OutboxMessage.status == "queued").count() == 2
    dump = repr([db.execute_sql(f'SELECT * FROM "{m._meta.table_name}"').fetchall() for m in ALL_MODELS])
    assert "/new-password/" not in dump and "/recover/" not in dump


# --- guessing with a stolen session ---------------------------------------------------------------

@pytest.mark.parametrize("path, fields", [
    ("/profile/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ("/profile/email", {"email": "thief@evil.example"}),
    ("/security/confirm", {}),
])
def test_a_stolen_session_cannot_guess_the_password(app, user, clock, path, fields):
    """Wrong current passwords count like sign-in failures, and five of them end the session."""
    thief = app.test_client()
    secret = helpers.enroll(thief)
    password_field = "password" if path == "/security/confirm" else "current_password"
    statuses = []
    for guess in range(6):
        page = thief.get("/profile" if path == "/profile/email" else path)
        if page.status_code != 200:
            statuses.append(page.status_code)
            break
        response = thief.post(path, data={"csrf_token": helpers.csrf_token(page.data), **fields,
                                          password_field: f"Guess-{guess}-Harbor", "code": helpers.code_now(secret)})
        statuses.append(response.status_code)
    assert statuses[-1] == 303 and len(statuses) <= 6  # signed out after the fifth wrong password
    assert thief.get("/").status_code == 303
    assert "signed out after too many wrong passwords" in thief.get("/sign-in").data.decode()
    from portal.models import KnownBrowser
    # Counted as at sign-in: on the browser that signed in (a thief with both cookies), toward forgetting it.
    assert KnownBrowser.get().failed_password_count == 5
    assert User.get().email == "jdoe@acme.example"


# --- locking the owner out ------------------------------------------------------------------------

def wrong_passwords(client, user_id: str, count: int):
    for n in range(count):
        helpers.enter_password(client, user_id, f"Wrong-{n}-Lantern")


def test_anyone_can_block_a_user_id_but_not_in_the_owners_browser(app, user, clock):
    owner = app.test_client()
    secret = helpers.enroll(owner)
    helpers.post_form(owner, "/sign-out", {}, token_from="/")
    attacker = app.test_client()
    for variant in ("JDOE", "jdoe", "ｊｄｏｅ", "Jdoe", "jDoe"):  # case and width variants are the same User ID
        wrong_passwords(attacker, variant, 2)
    assert User.get().password_blocked_at is not None
    assert "/sign-in/verify" not in helpers.enter_password(app.test_client()).headers.get("Location", "")
    helpers.sign_in(owner, secret, clock_=clock)  # the owner's browser signed in before: not blocked
    home = owner.get("/")
    assert home.status_code == 200 and "Your password was blocked" in home.data.decode()
    blocked = OutboxMessage.get(OutboxMessage.subject.contains("blocked"))
    assert "browsers where you have signed in before" in helpers.mail_text(blocked)


def test_a_known_browser_counts_its_own_wrong_passwords(app, user, clock):
    owner = app.test_client()
    secret = helpers.enroll(owner)
    helpers.post_form(owner, "/sign-out", {}, token_from="/")
    wrong_passwords(owner, "jdoe", 9)
    helpers.sign_in(owner, secret, clock_=clock)  # the right one starts its count again
    helpers.post_form(owner, "/sign-out", {}, token_from="/")
    wrong_passwords(owner, "jdoe", 10)  # then the browser is forgotten, and counts like any other
    assert User.get().password_blocked_at is None
    from portal.models import KnownBrowser
    assert KnownBrowser.select().count() == 0
    wrong_passwords(owner, "jdoe", 10)
    assert User.get().password_blocked_at is not None


def test_the_code_step_closes_after_three_rests_until_a_backup_code(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    from portal.services import mfa
    with helpers.context():
        backup = mfa.replace_backup_codes(User.get())[0]
    for _rest in range(4):  # ten wrong codes (two sign-ins of five), four times, 15 minutes apart
        for _ in range(2):
            helpers.enter_password(client)
            for _ in range(5):
                helpers.post_form(client, "/sign-in/verify", {"code": "000000"}, token_from="/sign-in/verify")
        clock.advance(minutes=16)
    assert User.get().code_step_closed_at is not None
    assert OutboxMessage.select().where(OutboxMessage.subject.contains("code step of your User ID is closed")).count() == 1
    # Even the right code is refused now; the pending sign-in stays for a backup code or recovery.
    helpers.enter_password(client)
    refused = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert refused.status_code == 200 and "code step of this User ID is closed" in refused.data.decode()
    response = helpers.post_form(client, "/sign-in/backup-code", {"code": backup})
    assert response.headers["Location"] == "/"
    assert User.get().code_step_closed_at is None and User.get().failed_code_count == 0


def test_confirming_while_signed_in_honours_a_resting_or_closed_code_step(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    User.update(code_step_closed_at=clock.current).execute()
    clock.advance(seconds=30)
    response = helpers.post_form(client, "/security/confirm", {"password": helpers.PASSWORD,
                                                               "code": helpers.code_now(secret)})
    assert "code step of this User ID is closed" in response.data.decode()
    User.update(code_step_closed_at=None, code_blocked_until=clock.current + dt.timedelta(minutes=5)).execute()
    response = helpers.post_form(client, "/security/confirm", {"password": helpers.PASSWORD,
                                                               "code": helpers.code_now(secret)})
    assert "You can try again after" in response.data.decode()
    from portal import clock as portal_clock
    from portal.models import Authenticator
    assert Authenticator.get().last_used_step < portal_clock.timestamp() // 30  # the code was not even used


# --- e-mail changes nobody confirms ---------------------------------------------------------------

@pytest.fixture
def boss_client(app, company, clock):
    """A Company Administrator, signed in, and the company's plain user jdoe (enrolled)."""
    helpers.make_user(company, "boss", role="company-admin", email="boss@acme.example")
    helpers.make_user(company)
    helpers.enroll(app.test_client())  # jdoe
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


def admin_form(client, user_id: str, **changes):
    values = {"email": f"{user_id}@acme.example", "first_name": "Jane", "last_name": "Doe", "phone": "",
              "role": "user", "active": "y", "valid_until": "2027-03-16", **changes}
    return helpers.post_form(client, f"/admin/users/{user_id}", values)


def test_an_administrator_changes_their_own_address_only_on_profile(boss_client):
    response = admin_form(boss_client, "boss", email="boss@evil.example", role="company-admin", first_name="Ada")
    assert "Change your own e-mail address on your Profile page" in response.data.decode()
    assert User.get(User.user_id == "boss").email == "boss@acme.example"
    assert not Token.select().where(Token.purpose == "email_change").exists()


def test_an_administrator_cannot_redirect_a_users_mail_to_themselves(app, boss_client):
    """Change jdoe's address to the administrator's own, then reset: the reset goes to jdoe's real address,
    and the new address's confirmation needs jdoe's password (the administrator reads that mailbox)."""
    response = admin_form(boss_client, "jdoe", email="boss-private@acme.example")
    assert response.status_code == 303
    assert User.get(User.user_id == "jdoe").email == "jdoe@acme.example"
    notice = last_mail("jdoe@acme.example")
    assert "Company Administrator Jane Doe (boss)" in helpers.mail_text(notice)  # told at once, and by whom
    token = link_token(CONFIRM, "boss-private@acme.example")

    helpers.post_form(boss_client, "/admin/users/jdoe/send-password-reset", {"confirmed": "yes"},
                      token_from="/admin/users/jdoe")
    assert RESET.search(helpers.mail_text(last_mail("jdoe@acme.example")))  # to the confirmed address
    mailbox = app.test_client()
    page = mailbox.get(f"/profile/email/{token}").data.decode()
    assert 'name="password"' in page
    refused = helpers.post_form(mailbox, f"/profile/email/{token}", {"password": "Guessed-Password-1"})
    assert "The password is not correct" in refused.data.decode()
    assert User.get(User.user_id == "jdoe").email == "jdoe@acme.example"
    # The owner confirms with their password, and the change takes effect.
    helpers.post_form(mailbox, f"/profile/email/{token}", {"password": helpers.PASSWORD})
    assert User.get(User.user_id == "jdoe").email == "boss-private@acme.example"


# --- a company that cannot help itself ------------------------------------------------------------

def test_blocked_administrators_do_not_count_as_ones_who_can_help(app, company, clock):
    from portal.services import ServiceError, service_center

    staff_company = helpers.make_company("Portal Operator")
    staff = helpers.make_user(staff_company, "helpdesk", role="service-center")
    helpers.make_user(company, "first", role="company-admin")
    helpers.make_user(company, "second", role="company-admin")
    User.update(password_blocked_at=clock.current).where(User.role == "company-admin").execute()
    with helpers.context():
        assert service_center.refusal(User.get(User.user_id == "second")) is None
        service_center.send_password_reset(staff, User.get(User.user_id == "first"), "T-77")
        assert Token.select().where(Token.purpose == "password_reset").count() == 1
        # No administrator can help, so the Service Center may also create one.
        created = service_center.create_first_admin(staff, company, {"user_id": "third", "email": "third@acme.example",
                                                                     "first_name": "T", "last_name": "Hird"}, "T-78")
        assert created.role == "company-admin"
        User.update(password_blocked_at=None).where(User.user_id == "first").execute()
        with pytest.raises(ServiceError):
            service_center.send_password_reset(staff, User.get(User.user_id == "second"), "T-79")


def test_operators_unblock_passwords_and_reset_mfa_with_the_portal_command(app, runner, user, clock):
    from portal.models import AuditEvent

    helpers.enroll(app.test_client())
    User.update(password_blocked_at=clock.current, failed_password_count=10).execute()
    result = runner.invoke(args=["unblock-password", "JDOE", "--ticket", "OPS-1"])
    assert result.exit_code == 0, result.output
    assert User.get().password_blocked_at is None and User.get().failed_password_count == 0
    result = runner.invoke(args=["reset-mfa", "jdoe", "--ticket", "OPS-2"])
    assert result.exit_code == 0 and not Authenticator.select().exists()
    events = {e.event: e.details for e in AuditEvent.select().where(AuditEvent.event.startswith("operator."))}
    assert "OPS-1" in events["operator.password_unblocked"] and "OPS-2" in events["operator.mfa_reset"]
    assert runner.invoke(args=["unblock-password", "ghost", "--ticket", "OPS-3"]).exit_code == 2
    assert runner.invoke(args=["reset-mfa", "jdoe"]).exit_code == 2  # no ticket
    assert runner.invoke(args=["reset-mfa", "jdoe", "--ticket", "bad\nticket"]).exit_code == 2


# --- the last administrator, and the operator's own staff -----------------------------------------

def test_two_administrators_demoting_each_other_at_once_leave_one(app, company, clock):
    from portal.services import admin
    from tests.security.test_races import in_parallel

    for attempt in range(8):
        User.delete().where(User.user_id.in_(["ann", "bob"])).execute()
        ann = helpers.make_user(company, "ann", role="company-admin")
        bob = helpers.make_user(company, "bob", role="company-admin")
        pairs = [(ann, bob), (bob, ann)]

        def demote(i):
            actor, target = pairs[i]
            return admin.update_user(actor, target, {"role": "user"})

        results = in_parallel(2, demote)
        admins = User.select().where((User.role == "company-admin") & (User.company == company.id)).count()
        assert admins == 1, (attempt, results)


def test_the_operators_company_administrator_cannot_manage_service_center_staff(app, clock):
    operator = helpers.make_company("Portal Operator")
    helpers.make_user(operator, "opsboss", role="company-admin")
    helpers.make_user(operator, "helpdesk", role="service-center")
    client = app.test_client()
    helpers.enroll(client, "opsboss")
    assert ">helpdesk<" not in client.get("/admin/users").data.decode()
    assert client.get("/admin/users/helpdesk").status_code == 404
    for action in ("reset-mfa", "deactivate", "send-password-reset", "end-sessions"):
        response = helpers.post_form(client, f"/admin/users/helpdesk/{action}", {"confirmed": "yes"},
                                     token_from="/admin/users")
        assert response.status_code == 404
    staff = User.get(User.user_id == "helpdesk")
    assert staff.active and staff.role == "service-center"
