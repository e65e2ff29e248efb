"""Portal on a live server for the provider's tests, on SQLite and PostgreSQL (the `database_url` fixture)."""
import pytest

from portal.models import Authenticator, User
from portal.security import crypto, totp
from portal.services import consent
from tests import helpers
from tests.oidc import Browser, LivePortal


@pytest.fixture
def portal(tmp_path, database_url, clock):
    with LivePortal(tmp_path, database_url) as live:
        yield live


@pytest.fixture
def person(portal):
    """A user with a registered authenticator who has made the first sign-in's choices, as after a first sign-in
    (that one goes through the pages in tests/browser/test_oidc_flows.py): (user, secret)."""
    return make_person()


def make_person():
    """The `person` fixture's user, for a test with a Portal of its own: (user, secret)."""
    user = helpers.make_user(helpers.make_company("ACME Components"))
    secret = totp.new_secret()
    with helpers.context():
        Authenticator.create(user=user, device_name="Work phone", secret_encrypted=crypto.encrypt(secret))
        consent.accept_terms(user, consent.document(consent.TERMS).version)
        consent.set_personal_data(user, False, consent.document(consent.PERSONAL_DATA).version)
    return User.get_by_id(user.id), secret


@pytest.fixture
def browser(portal):
    return Browser(portal)
