"""Terms of Use and personal-data consent: asked at first sign-in, recorded with version, changeable."""
from portal.models import ConsentRecord, User
from tests import helpers


def after_enrollment(client):
    helpers.enroll(client, choices=False)


def test_terms_come_first_then_the_personal_data_choice(client, user):
    after_enrollment(client)
    assert client.get("/").headers["Location"] == "/terms"
    assert client.get("/profile").headers["Location"] == "/terms"
    page = client.get("/terms").data.decode()
    assert "Terms of Use" in page and "Version 2026-12" in page
    assert "Group or shared accounts are not supported" in page
    helpers.post_form(client, "/terms", {"version": "2026-12"})
    assert client.get("/").headers["Location"] == "/personal-settings"
    page = client.get("/personal-settings").data.decode()
    assert "phone number" in page and "Allow showing my personal data" in page
    helpers.post_form(client, "/personal-settings", {"version": "2026-03", "choice": "refuse"})
    assert client.get("/").status_code == 200
    saved = User.get_by_id(user.id)
    assert saved.terms_version == "2026-12" and saved.show_personal_data is False
    assert [(r.kind, r.given) for r in ConsentRecord.select().order_by(ConsentRecord.id)] == [
        ("terms", True), ("personal_data", False)]


def test_the_gate_also_redirects_htmx_requests(client, user):
    after_enrollment(client)
    assert client.get("/", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/terms"


def test_a_new_terms_version_asks_again_within_a_second(app, client, user, clock):
    helpers.enroll(client)
    assert client.get("/").status_code == 200
    (app.instance_path and __import__("os").makedirs(app.instance_path, exist_ok=True))
    with open(f"{app.instance_path}/terms.txt", "w") as fh:
        fh.write("Version: 2027-01\nTitle: Terms of Use\n\nNew rules apply.\n")
    assert client.get("/").status_code == 200  # the text read less than a second ago
    clock.advance(seconds=1)
    assert client.get("/").headers["Location"] == "/terms"
    assert "New rules apply." in client.get("/terms").data.decode()
    stale = helpers.post_form(client, "/terms", {"version": "2026-12"})
    assert stale.status_code == 200 and "changed while you were reading" in stale.data.decode()
    helpers.post_form(client, "/terms", {"version": "2027-01"})
    assert client.get("/").status_code == 200


def test_personal_data_choice_can_be_withdrawn_as_easily_as_given(client, user):
    helpers.enroll(client)  # allowed at first sign-in
    page = client.get("/personal-settings").data.decode()
    assert "other users may see your name" in page
    helpers.post_form(client, "/personal-settings", {"version": "2026-03", "choice": "refuse"})
    assert User.get_by_id(user.id).show_personal_data is False
    helpers.post_form(client, "/personal-settings", {"version": "2026-03", "choice": "allow"})
    assert User.get_by_id(user.id).show_personal_data is True
    assert ConsentRecord.select().where(ConsentRecord.kind == "personal_data").count() == 3


def test_directory_shows_personal_data_only_with_consent(client, company, user):
    helpers.make_user(company, "private", first_name="Paula", last_name="Private", phone="555-1")
    helpers.enroll(client)
    html = client.get("/directory").data.decode()
    assert "Jane Doe" in html  # jdoe allowed at first sign-in
    assert "private" in html and "Paula" not in html and "555-1" not in html and "private@acme.example" not in html


def test_directory_shows_only_the_own_company(client, user):
    other = helpers.make_company("Other Corp")
    helpers.make_user(other, "stranger")
    helpers.enroll(client)
    assert "stranger" not in client.get("/directory").data.decode()
