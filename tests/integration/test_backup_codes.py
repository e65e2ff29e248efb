"""Signing in with a backup code: each code once, even in parallel; a mail when few are left."""
import re

from portal.models import BackupCode, OutboxMessage, User
from portal.services import ServiceError, recovery
from tests import helpers
from tests.security.test_races import in_parallel, pending_sign_ins


def enrolled_with_codes(client):
    """Enroll while keeping the backup codes that were shown."""
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "P",
                                         "code": helpers.code_now(secret)})
    codes = re.findall(r"<code>([^<]+)</code>", client.get("/sign-in/backup-codes").data.decode())
    helpers.post_form(client, "/sign-in/backup-codes", {})
    helpers.first_sign_in_choices(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    return secret, codes


def test_code_page_links_to_backup_code_and_lost_device(client, user):
    enrolled_with_codes(client)
    helpers.enter_password(client)
    html = client.get("/sign-in/verify").data.decode()
    assert 'href="/sign-in/backup-code"' in html and 'action="/sign-in/lost-device"' in html
    assert "Lost your device?" in html and "Use a backup code" in html


def test_backup_code_signs_in_once(app, user):
    client = app.test_client()
    _, codes = enrolled_with_codes(client)
    helpers.enter_password(client)
    page = client.get("/sign-in/backup-code")
    assert '<label for="code">Backup code</label>' in page.data.decode()
    response = helpers.post_form(client, "/sign-in/backup-code", {"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    helpers.enter_password(client)
    again = helpers.post_form(client, "/sign-in/backup-code", {"code": codes[0]})
    assert str(recovery.WRONG_BACKUP_CODE) in again.data.decode()
    assert BackupCode.select().where(BackupCode.used_at.is_null()).count() == 9


def test_using_a_backup_code_mails_the_owner_and_warns_when_few_are_left(app, user, clock):
    client = app.test_client()
    _, codes = enrolled_with_codes(client)
    for code in codes[:8]:
        helpers.enter_password(client)
        assert helpers.post_form(client, "/sign-in/backup-code", {"code": code}).status_code == 303
        helpers.post_form(client, "/sign-out", {}, token_from="/")
    messages = list(OutboxMessage.select().where(OutboxMessage.subject.contains("backup code was used"))
                    .order_by(OutboxMessage.id))
    assert len(messages) == 8
    assert "(9 left)" in messages[0].subject and "running out" not in helpers.mail_text(messages[0])
    assert "(2 left)" in messages[-1].subject and "running out" in helpers.mail_text(messages[-1])


def test_parallel_use_of_one_backup_code_signs_in_once(app, user):
    _, codes = enrolled_with_codes(app.test_client())
    pendings = pending_sign_ins(app, 6)
    results = in_parallel(6, lambda i: recovery.use_backup_code(pendings[i], codes[3]))
    assert sum(not isinstance(r, ServiceError) for r in results) == 1


def test_wrong_backup_codes_count_towards_the_five_attempts(client, user):
    enrolled_with_codes(client)
    helpers.enter_password(client)
    for _ in range(4):
        assert str(recovery.WRONG_BACKUP_CODE) in helpers.post_form(
            client, "/sign-in/backup-code", {"code": "aaaaa-aaaaa"}).data.decode()
    response = helpers.post_form(client, "/sign-in/backup-code", {"code": "aaaaa-aaaaa"})
    assert response.headers["Location"] == "/sign-in"


def test_backup_code_page_needs_the_password_step_first(client, user):
    response = client.get("/sign-in/backup-code")
    assert response.headers["Location"] == "/sign-in"


def test_security_page_shows_codes_left(app, user):
    client = app.test_client()
    secret, codes = enrolled_with_codes(client)
    helpers.enter_password(client)
    helpers.post_form(client, "/sign-in/backup-code", {"code": codes[0]})
    assert "9 of 10" in client.get("/security").data.decode()
    assert User.get_by_id(user.id).failed_code_count == 0


def test_codes_are_stored_under_argon2id_and_one_attempt_costs_one_verification(app, user, monkeypatch):
    from portal.security import passwords

    client = app.test_client()
    _, codes = enrolled_with_codes(client)
    stored = list(BackupCode.select())
    assert all(b.code_hash.startswith("$argon2id$") and len(b.lookup) == 8 for b in stored)
    assert not any(c.replace("-", "")[:4] in b.lookup for c in codes for b in stored)
    calls = []
    real = passwords.verify_backup_code
    monkeypatch.setattr(passwords, "verify_backup_code", lambda *a: calls.append(a) or real(*a))
    helpers.enter_password(client)
    for attempt in ("zzzzz-zzzzz", codes[3]):
        helpers.post_form(client, "/sign-in/backup-code", {"code": attempt})
    assert len(calls) == 2  # a wrong code and a right one: one argon2id verification each
    assert client.get("/").status_code == 200


def test_codes_made_before_argon2id_still_work_once(app, user):
    from portal.services import mfa

    client = app.test_client()
    enrolled_with_codes(client)
    with helpers.context():
        legacy = "abcde23456"
        BackupCode.update(code_hash=mfa._legacy_hash(legacy), lookup=None).where(
            BackupCode.id == BackupCode.select(BackupCode.id).limit(1)).execute()
    helpers.enter_password(client)
    assert helpers.post_form(client, "/sign-in/backup-code", {"code": "ABCDE-23456"}).headers["Location"] == "/"
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    helpers.enter_password(client)
    assert str(recovery.WRONG_BACKUP_CODE) in helpers.post_form(client, "/sign-in/backup-code",
                                                           {"code": legacy}).data.decode()
