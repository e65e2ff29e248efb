"""Words that fit the moment: what a new user, an administrator or an operator reads."""
import re

from portal.models import OutboxMessage
from tests import helpers


def test_a_new_users_welcome_page_says_what_comes_next(app, company, clock):
    from portal.services import admin

    boss = helpers.make_user(company, "boss", role="company-admin")
    with helpers.context():
        admin.create_user(boss, {"user_id": "newbie", "email": "newbie@acme.example", "first_name": "N",
                                 "last_name": "B"})
    mail = OutboxMessage.get(OutboxMessage.to_address == "newbie@acme.example")
    token = re.search(r"/new-password/([A-Za-z0-9_-]+)", helpers.mail_text(mail)).group(1)
    client = app.test_client()
    page = client.get(f"/new-password/{token}").data.decode()
    assert "Choose your password" in page and "Save my password" in page
    assert "register an authenticator app" in page and "with a code from your authenticator app" not in page
    response = helpers.post_form(client, f"/new-password/{token}", {"password": "Quiet-Lantern-Harbor-93",
                                                                     "confirm": "Quiet-Lantern-Harbor-93"})
    assert "first you register your authenticator app" in client.get(response.headers["Location"]).data.decode()


def test_the_first_backup_codes_mention_no_older_ones(app, user, clock):
    client = app.test_client()
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    helpers.post_form(client, "/sign-in/enroll", {"device_name": "Phone", "code": helpers.code_now(secret)})
    assert "older backup codes" not in client.get("/sign-in/backup-codes").data.decode()


def test_mail_starts_with_a_capital_and_an_administrator_is_not_sent_to_ask_themselves(app, company, clock):
    from portal.services import account_help

    boss = helpers.make_user(company, "boss", role="company-admin")
    worker = helpers.make_user(company, "worker")
    with helpers.context():
        account_help.reset_mfa(boss, worker)
        account_help.reset_mfa(boss, boss)
    to_worker = helpers.mail_text(OutboxMessage.get(OutboxMessage.to_address == "worker@acme.example"))
    to_boss = helpers.mail_text(OutboxMessage.get(OutboxMessage.to_address == "boss@acme.example"))
    for text in (to_worker, to_boss):
        body = text.split("\n\n", 1)[1]
        assert body[0].isupper(), body[:40]
    assert "contact your Company Administrator" in to_worker
    assert "your Company Administrator" not in to_boss and "another Company Administrator of your company" in to_boss


def test_the_personal_data_choice_says_where_to_change_it(app, user, clock):
    client = app.test_client()
    helpers.enroll(client, choices=False)
    helpers.submit(client, "/terms")
    response = helpers.submit(client, "/personal-settings", choice="refuse")
    home = client.get(response.headers["Location"]).data.decode()
    assert 'You can change it at any time in <a href="/personal-settings">Personal Settings</a>.' in home
