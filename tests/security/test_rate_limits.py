"""Rate limits: per client IP and per target, a page a person understands, and no bypass by
X-Forwarded-For or by changing the case of the User ID. With PORTAL_TEST_REDIS_URL the limits are
shared through Redis, as between gunicorn workers."""
import pytest

from portal.services import oidc_clients
from tests import helpers
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory"] + (["redis"] if REDIS_URL else []))
def app_config(request):
    config = {"RATELIMIT_ENABLED": True, "RATE_LIMIT_SIGN_IN": ["6/minute", "3/minute"],
              "RATE_LIMIT_FORGOT_ID": ["50/hour", "2/hour"], "RATE_LIMIT_NEW_PASSWORD": ["4/hour", "50/hour"],
              "RATE_LIMIT_REAUTH": ["30/hour", "2/15 minutes"]}
    if request.param == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except redis.exceptions.ConnectionError as error:
            pytest.fail(f"Redis at PORTAL_TEST_REDIS_URL is not reachable: {error}")
        config["RATELIMIT_STORAGE_URI"] = REDIS_URL
    return config


def attempt(client, user_id="jdoe", headers=None):
    return helpers.post_form(client, "/sign-in", {"user_id": user_id, "password": "Wrong-Lantern-Harbor-93"},
                             headers=headers)


def test_per_user_id_limit_whatever_the_case(client, user):
    for variant in ("jdoe", "JDOE", "JDoe"):
        assert attempt(client, variant).status_code == 200
    blocked = attempt(client, "jDOE")
    assert blocked.status_code == 429
    html = blocked.data.decode()
    assert "Too many attempts" in html and "please wait" in html and "Traceback" not in html
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert attempt(client, "someone-else").status_code == 200  # other accounts are not affected


def test_per_ip_limit_across_user_ids(client):
    for n in range(6):
        assert attempt(client, f"user{n}").status_code == 200
    assert attempt(client, "user9").status_code == 429


def test_spoofed_forwarded_for_does_not_reset_the_ip_limit(client):
    for n in range(6):
        attempt(client, f"user{n}", headers={"X-Forwarded-For": f"10.0.0.{n}"})
    assert attempt(client, "user9", headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 429


def test_unknown_and_known_user_ids_are_limited_alike(client, user):
    for _ in range(3):
        attempt(client, "jdoe")
        attempt(client, "ghost")
    assert attempt(client, "jdoe").status_code == attempt(client, "ghost").status_code == 429


def test_forgot_id_is_limited_per_address(client, user):
    for _ in range(2):
        assert helpers.post_form(client, "/forgot-id", {"email": "jdoe@acme.example"}).status_code == 200
    assert helpers.post_form(client, "/forgot-id", {"email": "JDOE@acme.example"}).status_code == 429


def test_new_password_is_limited_per_ip(client):
    for n in range(4):
        helpers.post_form(client, "/new-password", {"user_id": f"someone{n}"})
    assert helpers.post_form(client, "/new-password", {"user_id": "other"}).status_code == 429


def test_get_pages_are_not_counted(client):
    for _ in range(20):
        assert client.get("/sign-in").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "PROXY_COUNT": 1,
                                         "RATE_LIMIT_SIGN_IN": ["2/minute", "50/minute"]}], indirect=False)
def test_behind_one_trusted_proxy_each_client_has_its_own_bucket(client):
    for n in range(2):
        attempt(client, f"user{n}", headers={"X-Forwarded-For": "203.0.113.7"})
    assert attempt(client, "x", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert attempt(client, "y", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200


@pytest.mark.parametrize("path", ["/profile/email", "/profile/password", "/security/confirm"])
def test_confirmations_while_signed_in_are_limited_per_session(client, user, clock, path):
    """Changing the password or the address asks for the current password and a code, under a limit."""
    secret = helpers.enroll(client)
    fields = {"current_password": "Wrong-1-Harbor", "password": "Wrong-1-Harbor", "email": "new@acme.example",
              "confirm": "x"}
    answers = []
    for _ in range(3):
        clock.advance(seconds=30)
        answers.append(helpers.post_form(client, path, {**fields, "code": helpers.code_now(secret)},
                                         token_from="/profile" if path == "/profile/email" else path).status_code)
    assert answers == [200, 200, 429]


@pytest.mark.parametrize("limits", [["100/minute", "3/minute"]], ids=["token"])
def test_token_endpoint_is_limited_per_application(app, client, limits):
    app.config["RATE_LIMIT_TOKEN"] = limits
    with helpers.context():
        ids = [oidc_clients.create_client(name, ["https://app.example/cb"]).client.client_id for name in "AB"]

    def token_request(client_id):
        return client.post("/oidc/token", data={"grant_type": "authorization_code", "code": "x"},
                           auth=(client_id, "wrong secret"))
    for _ in range(3):
        assert token_request(ids[0]).status_code == 401
    limited = token_request(ids[0])
    assert limited.status_code == 429 and limited.json["error"] == "temporarily_unavailable"
    assert int(limited.headers["Retry-After"]) > 0
    assert token_request(ids[1]).status_code == 401  # another application is not affected
