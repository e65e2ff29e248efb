"""The sign-in page is rendered once per worker and served with each visitor's own CSRF token."""
from flask import g, render_template

from portal.auth.forms import SignInForm
from tests import helpers


def token_free(html: str) -> str:
    return html.replace(helpers.csrf_token(html), "TOKEN")


def test_sign_in_page_is_the_same_for_everybody_but_its_csrf_token(app, user):
    first, second = app.test_client(), app.test_client()
    pages = [first.get("/sign-in").data.decode(), second.get("/sign-in").data.decode()]
    assert helpers.csrf_token(pages[0]) != helpers.csrf_token(pages[1])
    assert token_free(pages[0]) == token_free(pages[1])
    # the form, the passkey form (shown with JavaScript) and htmx's X-CSRFToken header
    assert pages[0].count(helpers.csrf_token(pages[0])) == 3
    for browser, page in ((first, pages[0]), (second, pages[1])):
        response = browser.post("/sign-in", data={"user_id": "jdoe", "password": helpers.PASSWORD,
                                                  "csrf_token": helpers.csrf_token(page)})
        assert response.status_code == 303  # each token works for its own browser


def test_another_browsers_token_is_refused(app, user):
    first, second = app.test_client(), app.test_client()
    first.get("/sign-in")
    page = second.get("/sign-in").data.decode()
    response = first.post("/sign-in", data={"user_id": "jdoe", "password": helpers.PASSWORD,
                                            "csrf_token": helpers.csrf_token(page)})
    assert response.status_code == 400


def test_rendered_once_page_is_what_the_template_renders(app, client):
    served = client.get("/sign-in").data.decode()
    with app.test_request_context("/sign-in"):
        g.csrf_token = "TOKEN"
        fresh = render_template("auth/sign_in.html", form=SignInForm())
    assert token_free(served) == fresh


def test_flashed_message_and_next_are_not_served_from_the_rendered_page(client, user):
    client.get("/sign-in")
    helpers.enroll(client)
    helpers.post_form(client, "/sign-out", {}, token_from="/")
    assert "You have been signed out." in client.get("/sign-in").data.decode()
    assert "You have been signed out." not in client.get("/sign-in").data.decode()
    assert 'action="/sign-in?next=/profile"' in client.get("/sign-in?next=/profile").data.decode()


def test_fragment_and_page_are_rendered_apart(client):
    page = client.get("/sign-in").data.decode()
    fragment = client.get("/sign-in", headers={"HX-Request": "true"}).data.decode()
    assert "<html" in page and "<html" not in fragment and 'id="auth-step"' in fragment
    assert "<html" in client.get("/sign-in").data.decode()
