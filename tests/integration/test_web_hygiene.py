"""Headers, CSRF and error pages on every page."""
import pytest

from tests import helpers

PAGES = ["/sign-in", "/", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_page(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert headers["Referrer-Policy"] == "same-origin"  # a Referer to Portal only (CSRF over HTTPS needs it)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # http base URL in tests


def test_static_files_may_be_cached(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"


def test_pages_have_no_inline_script(client):
    html = client.get("/sign-in").data.decode()
    assert "<script>" not in html and "onclick" not in html and "style=" not in html


def test_session_cookie_is_httponly_and_samesite_lax(client, user):
    response = helpers.enter_password(client)
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def test_login_without_csrf_token_is_refused_with_a_friendly_page(client, user):
    response = client.post("/sign-in", data={"user_id": "jdoe", "password": helpers.PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.data.decode()
    assert "Traceback" not in response.data.decode()


def test_csrf_token_from_another_session_is_refused(app, user):
    attacker, victim = app.test_client(), app.test_client()
    token = helpers.csrf_token(attacker.get("/sign-in").data)
    victim.get("/sign-in")
    response = victim.post("/sign-in", data={"csrf_token": token, "user_id": "jdoe", "password": helpers.PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize("referer, status", [(None, 400), ("https://evil.example/sign-in", 400),
                                             ("https://portal.example.test/sign-in", 303)])
def test_over_https_a_post_must_come_from_a_page_of_this_site(app, user, referer, status):
    """Flask-WTF's strict check: a valid token is not enough over HTTPS without a Referer from this site."""
    app.config["BASE_URL"] = "https://portal.example.test"
    client = app.test_client()
    https = {"base_url": "https://portal.example.test"}
    token = helpers.csrf_token(client.get("/sign-in", **https).data)
    headers = {"Referer": referer} if referer else {}
    response = client.post("/sign-in", data={"csrf_token": token, "user_id": "jdoe", "password": helpers.PASSWORD},
                           headers=headers, **https)
    assert response.status_code == status


def test_htmx_csrf_failure_replaces_the_main_content(client):
    response = client.post("/sign-in", headers={"HX-Request": "true"}, data={"user_id": "x", "password": "y"})
    assert response.status_code == 400 and response.headers["HX-Retarget"] == "#main"


def test_not_found_page_is_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in response.data.decode()


def test_unexpected_error_gives_a_500_page_without_details(app, client, monkeypatch):
    from portal.services import signin

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(signin, "start", explode)
    response = helpers.post_form(client, "/sign-in", {"user_id": "a", "password": "b"})
    assert response.status_code == 500
    html = response.data.decode()
    assert "Something went wrong" in html and "secret internals" not in html and "Traceback" not in html


def test_oversized_request_is_refused(client):
    response = client.post("/sign-in", data={"user_id": "x" * 300_000})
    assert response.status_code == 413


def test_database_down_gives_an_error_page_not_a_trace(tmp_path, clock):
    from portal import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path, f"sqlite:///{tmp_path}/missing-dir/portal.db"))
    client = app.test_client()
    assert client.get("/sign-in").status_code == 200  # a page that needs no database still works
    response = helpers.post_form(client, "/sign-in", {"user_id": "jdoe", "password": "x"})
    assert response.status_code == 500
    assert "Something went wrong" in response.data.decode() and "Traceback" not in response.data.decode()


def test_a_form_left_open_past_its_time_is_shown_again_with_a_word(app, user, monkeypatch):
    """Flask-WTF dates its tokens by the real clock: the page is fetched two hours ago, the token lives one."""
    import time

    from portal.web import FORM_TOO_OLD

    client = app.test_client()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 2 * 3600)
    token = helpers.csrf_token(client.get("/sign-in").data)
    monkeypatch.setattr(time, "time", lambda: now)
    response = client.post("/sign-in", data={"csrf_token": token, "user_id": "jdoe", "password": helpers.PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").data.decode()
    assert str(FORM_TOO_OLD) in page and "could not be understood" not in page
    htmx = client.post("/sign-in", headers={"HX-Request": "true"}, data={"csrf_token": token, "user_id": "jdoe",
                                                                        "password": helpers.PASSWORD})
    assert htmx.headers["HX-Redirect"] == "/sign-in"
