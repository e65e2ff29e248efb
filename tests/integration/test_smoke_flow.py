"""The whole first-sign-in path through the test client, as a quick end-to-end check."""
from tests import helpers


def test_first_sign_in_then_sign_in_again(client, user, clock):
    secret = helpers.enroll(client)
    assert client.get("/").status_code == 200
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    assert client.get("/").status_code == 303
    helpers.sign_in(client, secret, clock_=clock)
    assert b"jdoe" in client.get("/").data
