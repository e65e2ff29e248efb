"""Sessions: server-side records, a new token at each step, sign-out for real, timeouts on the server."""
import threading

from portal.models import LoginSession, User
from tests import helpers


def cookie(client, app):
    return helpers.session_cookie(client, app)


def test_session_token_changes_at_password_and_at_code(app, client, user, clock):
    client.get("/sign-in")
    before = cookie(client, app)
    helpers.enter_password(client)
    pending_cookie = cookie(client, app)
    pending_hash = LoginSession.get().token_hash
    page = client.get("/sign-in/enroll").data.decode()
    secret = helpers.KEY.search(page).group(1).replace(" ", "")
    client.post("/sign-in/enroll", data={"csrf_token": helpers.csrf_token(page), "device_name": "P",
                                         "code": helpers.code_now(secret)})
    assert len({before, pending_cookie, cookie(client, app)}) == 3
    active = LoginSession.get()
    assert active.stage == "active" and active.token_hash != pending_hash


def test_copied_cookie_is_useless_after_sign_out(app, user, clock):
    browser = app.test_client()
    helpers.enroll(browser)
    stolen = cookie(browser, app)
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert thief.get("/").status_code == 200
    helpers.post_form(browser, "/sign-out", {}, token_from="/")
    assert thief.get("/").status_code == 303
    assert LoginSession.select().count() == 0


def test_sign_out_is_post_only(client, user):
    helpers.enroll(client)
    assert client.get("/sign-out").status_code == 405
    assert client.get("/").status_code == 200


def test_sign_out_without_csrf_token_is_refused(client, user):
    helpers.enroll(client)
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200


def test_idle_timeout_after_30_minutes(client, user, clock):
    helpers.enroll(client)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200  # activity keeps it alive
    clock.advance(minutes=30, seconds=1)
    assert client.get("/").status_code == 303
    assert LoginSession.select().count() == 0


def test_absolute_timeout_after_12_hours_despite_activity(client, user, clock):
    helpers.enroll(client)
    for _ in range(24):
        clock.advance(minutes=29)
        client.get("/")
    clock.advance(minutes=29)
    assert client.get("/").status_code == 303


def test_deactivated_user_loses_the_session_at_once(client, user):
    helpers.enroll(client)
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get("/").status_code == 303
    assert LoginSession.select().count() == 0


def test_session_records_ip_and_browser(client, user):
    helpers.enroll(client)
    record = LoginSession.get()
    assert record.ip == "127.0.0.1" and record.authenticated_at is not None


def test_new_password_ends_all_sessions(app, client, user):
    helpers.enroll(client)
    with helpers.context():
        from portal.services import accounts
        accounts.set_password(User.get_by_id(user.id), "Another-Lantern-Harbor-94")
    assert client.get("/").status_code == 303


def test_home_shows_who_you_are(client, user):
    helpers.enroll(client)
    html = client.get("/").data.decode()
    for text in ("jdoe", "Jane Doe", "ACME Components", "User", "Sign out"):
        assert text in html


def last_seen():
    return LoginSession.get().last_seen_at


def test_last_seen_is_written_at_most_once_a_minute(client, user, clock):
    helpers.enroll(client)
    signed_in = last_seen()
    for _ in range(3):
        clock.advance(seconds=19)
        assert client.get("/").status_code == 200
    assert last_seen() == signed_in  # 57 s of requests: no write
    clock.advance(seconds=3)
    assert client.get("/").status_code == 200
    assert last_seen() == clock.current


def test_idle_timeout_is_exact_to_the_minute(client, user, clock):
    """The idle time counts from the last written last_seen, which is at most a minute older than the last
    request: a session ends 29 to 30 minutes after its last request."""
    helpers.enroll(client)
    clock.advance(seconds=59)
    assert client.get("/").status_code == 200  # not written: last_seen stays at the sign-in
    clock.advance(minutes=29, seconds=2)
    assert client.get("/").status_code == 303  # 29 min 2 s after the last request, 30 min 1 s after last_seen


def test_idle_timeout_counts_from_the_last_written_minute(client, user, clock):
    helpers.enroll(client)
    clock.advance(minutes=1)
    assert client.get("/").status_code == 200  # written
    clock.advance(minutes=30)
    assert client.get("/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert client.get("/").status_code == 303


def test_session_ended_by_another_connection_is_refused_at_the_next_request(app, client, user):
    """Each request reads its session from the database, even with connections kept between requests."""
    helpers.enroll(client)
    assert client.get("/").status_code == 200

    def end_elsewhere():  # another thread: a connection of its own, as another worker's
        with app.app_context():
            from portal.services import sessions
            sessions.end_all(User.get_by_id(user.id))

    worker = threading.Thread(target=end_elsewhere)
    worker.start()
    worker.join()
    assert client.get("/").status_code == 303
    assert client.get("/profile").status_code == 303


def test_user_deactivated_by_another_connection_loses_the_session_at_the_next_request(app, client, user):
    helpers.enroll(client)
    assert client.get("/").status_code == 200

    def deactivate_elsewhere():
        with app.app_context():
            User.update(active=False).where(User.id == user.id).execute()

    worker = threading.Thread(target=deactivate_elsewhere)
    worker.start()
    worker.join()
    assert client.get("/").status_code == 303


def test_after_the_idle_timeout_a_save_says_why_and_sign_in_returns_to_the_page(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    token = helpers.csrf_token(client.get("/profile").data)
    clock.advance(minutes=31)
    response = client.post("/profile", data={"csrf_token": token, "first_name": "J", "last_name": "D", "phone": ""})
    assert response.headers["Location"] == "/sign-in?next=/profile"  # the page the form is on
    page = client.get(response.headers["Location"]).data.decode()
    assert "You were signed out after 30 minutes without activity" in page
    helpers.post_form(client, "/sign-in?next=/profile", {"user_id": "jdoe", "password": helpers.PASSWORD})
    done = helpers.post_form(client, "/sign-in/verify", {"code": helpers.code_now(secret)})
    assert done.headers["Location"] == "/profile"


def test_a_session_ended_from_another_browser_says_so(app, user, clock):
    client = app.test_client()
    secret = helpers.enroll(client)
    other = app.test_client()
    helpers.sign_in(other, secret, clock_=clock)
    helpers.post_form(other, "/sessions/end-others", {}, token_from="/sessions")
    response = client.get("/security")
    assert response.headers["Location"] == "/sign-in?next=/security"
    assert "ended from another browser" in client.get(response.headers["Location"]).data.decode()
