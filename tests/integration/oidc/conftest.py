"""Portal on a live server for the provider's tests, on SQLite and PostgreSQL (the `database_url` fixture)."""
import pytest

from tests import helpers
from tests.oidc import Browser, LivePortal


@pytest.fixture
def portal(tmp_path, database_url, clock):
    with LivePortal(tmp_path, database_url) as live:
        yield live


@pytest.fixture
def person(portal, clock):
    """A user with an authenticator, who has made the first sign-in's choices: (user, secret). The clock moves
    one step on, since each step's code is accepted once."""
    user = helpers.make_user(helpers.make_company("ACME Components"))
    enrolling = portal.app.test_client()
    secret = helpers.enroll(enrolling)
    helpers.post_form(enrolling, "/sign-out", {}, token_from="/")  # the browser of each test starts signed out
    clock.advance(seconds=30)
    return user, secret


@pytest.fixture
def browser(portal):
    return Browser(portal)
