"""Every way a Portal session ends queues a back-channel logout for each application it signed in to: one row
per (session, application) with a logout URI, written by the transaction that ends the session; the
session's codes and tokens go with it. The paths are called as the pages, the CLI and the job call them."""
import datetime as dt
import secrets

import pytest

from portal import clock as portal_clock
from portal.models import LoginSession, User
from portal.models_oidc import (
    AuthorizationCode,
    BackchannelLogout,
    ClientSession,
    IssuedToken,
)
from portal.services import (
    ServiceError,
    SignInRestart,
    account_help,
    accounts,
    admin,
    lifecycle,
    mfa,
    mfa_settings,
    oidc,
    oidc_clients,
    reauth,
    sessions,
)
from tests import helpers

RECEIVER = "http://127.0.0.1:9/backchannel-logout"


@pytest.fixture
def world(app, company, user, clock):
    """The user signed in twice (two browsers), each session used for two applications with a logout URI and
    one without; a Company Administrator to act."""
    with helpers.context():
        boss = helpers.make_user(company, "boss", role="company-admin")
        apps = [oidc_clients.create_client(name, ["https://app.example/cb"], backchannel_logout_uri=uri).client
                for name, uri in (("Sheets", RECEIVER), ("Reports", RECEIVER), ("Quiet", None))]
        records = []
        for _ in range(2):
            started = sessions.promote(sessions.start_pending(user, "127.0.0.1", "test").login_session)
            records.append(started.login_session)
            for client in apps:
                code = oidc.issue_code(started.login_session, client, secrets.token_urlsafe(32),
                                       "https://app.example/cb", "openid", None, None, None)
                oidc.save_tokens({"access_token": f"a{code.id}", "refresh_token": f"r{code.id}", "expires_in": 600,
                                  "scope": "openid"}, client, user, code)
    links = [(link.login_session_id, link.client_id, link.sid) for link in ClientSession.select()]
    return {"user": User.get_by_id(user.id), "boss": boss, "sessions": records, "clock": clock, "links": links,
            "quiet": apps[2].id}


def queued() -> set[tuple[int, str]]:
    return {(row.client_id, row.sid) for row in BackchannelLogout.select()}


def expected_for(world, records) -> set[tuple[int, str]]:
    """One logout per application with a logout URI, per session that ended."""
    ended = {r.id for r in records}
    return {(client, sid) for session, client, sid in world["links"] if session in ended and client != world["quiet"]}


def _sign_out(w):
    sessions.end(w["sessions"][0])
    return w["sessions"][:1]


def _others(w):
    mfa_settings.end_other_sessions(LoginSession.get_by_id(w["sessions"][0].id))
    return w["sessions"][1:]


def _one_from_sessions_page(w):
    mfa_settings.end_own_session(w["user"], w["sessions"][1].id)
    return w["sessions"][1:]


def _password_change(w):
    """What Profile > Change password and New Password do once the password (and code) are right."""
    accounts.store_password(w["user"], "Another-Quiet-River-71", keep=LoginSession.get_by_id(w["sessions"][0].id))
    return w["sessions"][1:]


def _reset_mfa(w):
    account_help.reset_mfa(w["boss"], w["user"])
    return w["sessions"]


def _deactivation_by_administrator(w):
    admin.set_active(w["boss"], w["user"], False)
    return w["sessions"]


def _end_all_by_administrator(w):
    account_help.end_sessions(w["boss"], w["user"])
    return w["sessions"]


def _wrong_confirmations_while_signed_in(w):
    record = LoginSession.select(LoginSession, User).join(User).where(LoginSession.id == w["sessions"][1].id).get()
    for _ in range(5):
        try:
            reauth.confirm_identity(record, "wrong password", "000000")
        except SignInRestart:
            return w["sessions"][1:]
        except ServiceError:
            continue
    pytest.fail("five wrong confirmations did not end the session")


def _recovery_link(w):
    mfa.forget_authenticator(w["user"])
    return w["sessions"]


def _timed_out_at_next_request(w):
    w["clock"].advance(minutes=31)
    token = "unused"
    record = LoginSession.select(LoginSession, User).join(User).where(LoginSession.id == w["sessions"][0].id).first()
    assert sessions.keep_alive(record) is None and sessions.resolve(token)[0] is None
    return w["sessions"][:1]


def _inactive_at_next_request(w):
    User.update(active=False).where(User.id == w["user"].id).execute()
    assert oidc.live_session(w["sessions"][1].id) is None
    return w["sessions"][1:]


def _lifecycle_deactivation(w):
    User.update(activity_at=portal_clock.months_before(w["clock"].current, 13)).where(User.id == w["user"].id).execute()
    assert lifecycle.run().counts["deactivated"] == 1
    return w["sessions"]


def _lifecycle_clean_up_of_timed_out_sessions(w):
    w["clock"].advance(hours=13)
    lifecycle.purge_stale(portal_clock.now())
    return w["sessions"]


def _valid_until_passing(w):
    User.update(valid_until=w["clock"].current.date() - dt.timedelta(days=1)).where(User.id == w["user"].id).execute()
    assert lifecycle.run().counts["expired"] == 1
    return w["sessions"]


PATHS = [_sign_out, _others, _one_from_sessions_page, _password_change, _reset_mfa, _deactivation_by_administrator,
         _end_all_by_administrator, _wrong_confirmations_while_signed_in, _recovery_link, _timed_out_at_next_request,
         _inactive_at_next_request, _lifecycle_deactivation, _lifecycle_clean_up_of_timed_out_sessions,
         _valid_until_passing]


@pytest.mark.parametrize("path", PATHS, ids=[p.__name__.strip("_") for p in PATHS])
def test_every_way_a_session_ends_tells_the_applications(world, path):
    with helpers.context():
        world["ended"] = path(world)
        expected = expected_for(world, world["ended"])
        ended = {r.id for r in world["sessions"]} - {r.id for r in LoginSession.select()}
    assert expected and queued() == expected
    assert ended == {r.id for r in world["ended"]}
    assert not AuthorizationCode.select().where(AuthorizationCode.login_session.in_(list(ended))).exists()
    assert not IssuedToken.select().where(IssuedToken.login_session.in_(list(ended))).exists()
    assert all(row.status == "queued" and row.attempts == 0 for row in BackchannelLogout.select())


def test_a_session_that_goes_on_queues_nothing(world):
    with helpers.context():
        assert oidc.live_session(world["sessions"][0].id) is not None
    assert not queued()
