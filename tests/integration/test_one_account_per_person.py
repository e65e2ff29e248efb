"""Accounts are personal: an e-mail address belongs to at most one active user of a company (in any case)."""
import pytest

from portal.models import User
from portal.services import ServiceError, accounts
from tests import helpers

RULE = "Accounts are personal: an e-mail address belongs to one active user of a company"


@pytest.fixture
def boss_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", email="boss@acme.example")
    helpers.make_user(company, "jane", email="jane@acme.example", first_name="Jane", last_name="Doe")
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


def test_creating_a_second_active_user_on_an_address_is_refused(boss_client, company):
    response = helpers.post_form(boss_client, "/admin/new-user", {
        "user_id": "jane2", "email": "JANE@acme.example", "first_name": "Jane", "last_name": "Doe", "phone": "",
        "role": "user", "active": "y", "valid_until": ""})
    assert RULE in response.data.decode() and "Jane Doe (jane)" in response.data.decode()
    assert not User.select().where(User.user_id == "jane2").exists()
    with pytest.raises(ServiceError, match=RULE):  # the `portal` command obeys the same rule
        helpers.make_user(company, "jane3", email="jane@ACME.example")
    helpers.make_user(company, "jane4", email="jane@acme.example", active=False)  # an inactive one may


def test_changing_an_address_to_one_in_use_is_refused_everywhere(app, boss_client, company, clock):
    helpers.make_user(company, "worker", email="worker@acme.example")
    response = helpers.post_form(boss_client, "/admin/users/worker", {
        "email": "jane@acme.example", "first_name": "Jane", "last_name": "Doe", "phone": "", "role": "user",
        "active": "y", "valid_until": "2027-03-16"})
    assert RULE in response.data.decode()
    worker = app.test_client()
    secret = helpers.enroll(worker, "worker")
    clock.advance(seconds=30)
    response = helpers.post_form(worker, "/profile/email", {"email": "jane@acme.example",
                                                            "current_password": helpers.PASSWORD,
                                                            "code": helpers.code_now(secret)}, token_from="/profile")
    page = response.data.decode()
    assert RULE in page and "another active user of your company" in page and "(jane)" not in page


def test_re_activating_onto_a_taken_address_is_refused(app, boss_client, company):
    helpers.make_user(company, "old", email="jane@acme.example", active=False)
    response = helpers.post_form(boss_client, "/admin/users/old/activate", {"confirmed": "yes"},
                                 token_from="/admin/users/old")
    assert RULE in boss_client.get(response.headers["Location"]).data.decode()
    assert not User.get(User.user_id == "old").active


def test_existing_shared_addresses_are_listed_for_the_company_administrator(boss_client, company):
    shared = helpers.make_user(company, "twin", email="twin@acme.example")
    helpers.make_user(company, "twin2", email="other@acme.example")
    User.update(email="Twin@acme.example", email_key="twin@acme.example").where(User.user_id == "twin2").execute()
    home = boss_client.get("/").data.decode()
    assert "share one" in home and 'href="/admin/users/twin"' in home and 'href="/admin/users/twin2"' in home
    assert User.get_by_id(shared.id).email == "twin@acme.example"  # nothing is changed silently
    with helpers.context():
        assert list(accounts.shared_addresses(company.id)) == ["twin@acme.example"]
