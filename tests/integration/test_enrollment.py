"""Sign-in step 2a: registering an authenticator with a QR code, then backup codes shown once."""
import re
from urllib.parse import unquote

from portal.models import Authenticator, BackupCode, LoginSession, OutboxMessage, User
from portal.security import crypto, totp
from portal.services import mfa
from tests import helpers


def enrollment_page(client):
    helpers.enter_password(client)
    return client.get("/sign-in/enroll")


def test_enrollment_page_shows_qr_key_and_labelled_fields(client, user):
    page = enrollment_page(client)
    html = page.data.decode()
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert '<svg role="img"' in html and "QR code" in html
    key = helpers.KEY.search(html).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", key)
    assert '<label for="device_name">Device name</label>' in html
    assert '<label for="code">Verification code</label>' in html
    assert 'autocomplete="one-time-code"' in html


def test_reload_shows_the_same_key_in_the_same_sign_in(client, user):
    first = helpers.KEY.search(enrollment_page(client).data.decode()).group(1)
    second = helpers.KEY.search(client.get("/sign-in/enroll").data.decode()).group(1)
    assert first == second


def test_another_sign_in_gets_another_key(app, user):
    first = helpers.KEY.search(enrollment_page(app.test_client()).data.decode()).group(1)
    second = helpers.KEY.search(enrollment_page(app.test_client()).data.decode()).group(1)
    assert first != second


def test_secret_is_encrypted_at_rest(client, user):
    key = helpers.KEY.search(enrollment_page(client).data.decode()).group(1).replace(" ", "")
    stored = LoginSession.get().enrollment_secret
    assert key not in stored
    with helpers.context():
        assert crypto.decrypt(stored) == key


def test_provisioning_uri_uses_issuer_and_user_id(app, client, user):
    enrollment_page(client)
    with helpers.context():
        enrollment = mfa.enrollment_for(LoginSession.get())
    assert unquote(enrollment.uri).startswith("otpauth://totp/Portal:jdoe?secret=")
    assert "issuer=Portal" in enrollment.uri and "@" not in enrollment.uri


def test_correct_code_registers_authenticator_and_shows_backup_codes_once(client, user):
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    response = client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page),
                                                     "device_name": "  Work   phone ", "code": helpers.code_now(secret)})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in/backup-codes"
    authenticator = Authenticator.get(Authenticator.user == user)
    assert authenticator.device_name == "Work phone"
    assert secret not in authenticator.secret_encrypted
    codes_page = client.get("/sign-in/backup-codes")
    assert codes_page.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([^<]+)</code>", codes_page.data.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)
    stored = {b.code_hash for b in BackupCode.select()}
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)
    download = client.get("/sign-in/backup-codes.txt")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert all(c in download.data.decode() for c in codes)
    helpers.post_form(client, "/sign-in/backup-codes", {})
    assert client.get("/sign-in/backup-codes").headers["Location"] == "/"
    assert client.get("/sign-in/backup-codes.txt").status_code == 303
    assert client.get("/").headers["Location"] == "/terms"  # first sign-in: Terms of Use next


def test_enrollment_mails_a_notice(client, user):
    helpers.enroll(client)
    message = OutboxMessage.get()
    assert message.to_address == "jdoe@acme.example"
    assert "new authenticator" in message.subject and "Work phone" in helpers.mail_text(message)


def test_wrong_code_keeps_the_page_and_the_typed_device_name(client, user):
    page = enrollment_page(client).data.decode()
    response = client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page),
                                                     "device_name": "Tablet", "code": "000000"})
    html = response.data.decode()
    assert response.status_code == 200
    assert str(mfa.WRONG_CODE) in html and 'value="Tablet"' in html
    assert Authenticator.select().count() == 0


def test_device_name_is_required(client, user):
    page = enrollment_page(client).data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    response = client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page),
                                                     "device_name": "", "code": helpers.code_now(secret)})
    assert "Enter a device name." in response.data.decode()
    assert Authenticator.select().count() == 0


def test_enrollment_code_cannot_be_used_again_to_sign_in(client, user, clock):
    helpers.enter_password(client)
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    code = helpers.code_now(secret)
    client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "P", "code": code})
    other = helpers.APP.test_client()
    helpers.enter_password(other)
    response = helpers.post_form(other, "/sign-in/verify", {"code": code})
    assert str(mfa.USED_CODE) in response.data.decode()


def test_htmx_enrollment_success_redirects_with_hx_redirect(client, user):
    page = enrollment_page(client).data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    response = client.post("/sign-in/enroll", headers={"HX-Request": "true"},
                           data={"csrf_token": helpers.csrf_token(page), "device_name": "P",
                                 "code": helpers.code_now(secret)})
    assert response.headers["HX-Redirect"] == "/sign-in/backup-codes"


def test_enrollment_page_as_fragment(client, user):
    enrollment_page(client)
    response = client.get("/sign-in/enroll", headers={"HX-Request": "true"})
    assert "<html" not in response.data.decode() and 'id="auth-step"' in response.data.decode()


def test_person_with_authenticator_is_sent_to_the_code_step(client, user, clock):
    helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    helpers.enter_password(client)
    assert client.get("/sign-in/enroll").headers["Location"] == "/sign-in/verify"


def test_qr_code_encodes_the_otpauth_uri(client, user):
    page = enrollment_page(client).data.decode()
    assert totp.PERIOD == 30 and totp.DIGITS == 6
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert "<path" in svg and "style=" not in svg  # CSP style-src 'self' forbids inline styles


def test_a_new_qr_code_after_an_earlier_attempt_says_the_old_entry_must_go(app, user, clock):
    first = app.test_client()
    helpers.enter_password(first)
    page = first.get("/sign-in/enroll").data.decode()
    assert "This is a new QR code" not in page
    for _ in range(5):  # five wrong codes end this sign-in
        helpers.post_form(first, "/sign-in/enroll", {"device_name": "Phone", "code": "000000"})
    again = app.test_client()
    helpers.enter_password(again)
    renewed = again.get("/sign-in/enroll").data.decode()
    assert "This is a new QR code" in renewed and "delete that entry first" in renewed
    assert helpers.KEY.search(renewed).group(1) != helpers.KEY.search(page).group(1)
    assert "This is a new QR code" in again.get("/sign-in/enroll").data.decode()  # a reload says it too
    secret = helpers.KEY.search(renewed).group(1).replace(" ", "")
    helpers.post_form(again, "/sign-in/enroll", {"device_name": "Phone", "code": helpers.code_now(secret)})
    assert User.get().enrollment_offers == 0
