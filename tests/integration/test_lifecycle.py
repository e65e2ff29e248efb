"""The lifecycle job at its boundaries, with an injected clock: 11 and 12 months, Valid Until, idempotence,
overlap, dry run and the mail."""
import datetime as dt
import json
import logging

import pytest
from peewee import PostgresqlDatabase
from werkzeug.datastructures import MultiDict

from portal import clock as portal_clock
from portal.db import db
from portal.models import (
    AuditEvent,
    Company,
    JobLock,
    LoginSession,
    OutboxMessage,
    User,
)
from portal.services import lifecycle
from tests import helpers

DAY = dt.timedelta(days=1)


def run(app, dry_run=False):
    with app.app_context():
        return lifecycle.run(dry_run=dry_run)


def set_activity(user, when):
    User.update(activity_at=when, last_sign_in_at=when).where(User.id == user.id).execute()


def months_ago(clock, months, extra=dt.timedelta()):
    return portal_clock.months_before(clock.current, months) + extra


@pytest.fixture
def person(company):
    return helpers.make_user(company, "sleepy", valid_until=dt.date(2027, 12, 31))


@pytest.mark.parametrize("offset,warned", [(DAY, False), (dt.timedelta(), True), (-DAY, True)])
def test_warning_exactly_from_11_months(app, person, clock, offset, warned):
    set_activity(person, months_ago(clock, 11, offset))
    assert run(app).counts["warned"] == int(warned)
    mails = list(OutboxMessage.select())
    assert len(mails) == int(warned)
    if warned:
        assert mails[0].subject.startswith("Portal account notice: sign in before ")
        deadline = helpers.shown(portal_clock.months_before(months_ago(clock, 11, offset), -12).date())
        assert deadline in mails[0].subject and deadline in helpers.mail_text(mails[0])


@pytest.mark.parametrize("offset,deactivated", [(DAY, False), (dt.timedelta(), True), (-DAY, True)])
def test_deactivation_exactly_from_12_months(app, person, clock, offset, deactivated):
    set_activity(person, months_ago(clock, 12, offset))
    summary = run(app)
    assert summary.counts["deactivated"] == int(deactivated)
    assert User.get_by_id(person.id).active is (not deactivated)
    if deactivated:
        assert AuditEvent.select().where(AuditEvent.event == "lifecycle.deactivated_for_inactivity").count() == 1
        assert OutboxMessage.select().where(OutboxMessage.subject.contains("was deactivated")).count() == 1
    else:
        assert summary.counts["warned"] == 1


@pytest.mark.parametrize("last_seen,outcome", [
    ((2026, 1, 2), "nothing"), ((2026, 1, 1), "warned"), ((2025, 12, 2), "warned"), ((2025, 12, 1), "deactivated")])
def test_on_1_december_the_months_are_calendar_months(app, person, clock, last_seen, outcome):
    """Written out by hand, not with months_before: 11 months before 1 December 09:00 is 1 January 09:00."""
    clock.current = dt.datetime(2026, 12, 1, 9, 0)
    set_activity(person, dt.datetime(*last_seen, 9, 0))
    counts = run(app).counts
    assert (counts["warned"], counts["deactivated"]) == {"nothing": (0, 0), "warned": (1, 0),
                                                         "deactivated": (0, 1)}[outcome]
    if outcome == "warned":  # the deadline is 12 months after the last sign-in
        deadline = helpers.shown(dt.date(last_seen[0] + 1, last_seen[1], last_seen[2]))
        assert f"sign in before {deadline}" in OutboxMessage.get().subject


def test_never_signed_in_counts_from_creation(app, company, clock):
    user = helpers.make_user(company, "newbie", password=None)
    User.update(activity_at=months_ago(clock, 11, -DAY), created_at=months_ago(clock, 11, -DAY)).where(
        User.id == user.id).execute()
    assert run(app).counts["warned"] == 1


def test_deactivation_ends_sessions(app, person, clock):
    client = app.test_client()
    helpers.enroll(client, "sleepy")
    set_activity(person, months_ago(clock, 13))
    run(app)
    assert LoginSession.select().count() == 0 and client.get("/").status_code == 303


def test_a_second_run_does_nothing_new(app, person, company, clock):
    set_activity(person, months_ago(clock, 11, -DAY))
    helpers.make_user(company, "gone", valid_until=clock.current.date() - DAY)
    first = run(app)
    second = run(app)
    assert first.counts["warned"] == 1 and first.counts["expired"] == 1
    assert second.counts == dict.fromkeys(second.counts, 0)
    assert OutboxMessage.select().count() == 1


def test_signing_in_after_a_warning_starts_a_new_period(app, person, clock):
    set_activity(person, months_ago(clock, 11, -DAY))
    run(app)
    clock.advance(days=2)
    set_activity(person, clock.current)  # signs in after the warning
    clock.advance(days=340)
    assert run(app).counts["warned"] == 1  # warned again, for the new period
    assert OutboxMessage.select().count() == 2


def test_sign_in_updates_activity(app, person, clock):
    client = app.test_client()
    helpers.enroll(client, "sleepy")
    assert User.get_by_id(person.id).activity_at == clock.current


def test_expired_user_gets_one_audit_event(app, company, clock):
    helpers.make_user(company, "today", valid_until=clock.current.date())
    helpers.make_user(company, "yesterday", valid_until=clock.current.date() - DAY)
    assert run(app).counts["expired"] == 1
    event = AuditEvent.get(AuditEvent.event == "lifecycle.expired")
    assert event.subject.user_id == "yesterday" and event.company_id == company.id
    assert json.loads(event.details) == {"valid_until": str(clock.current.date() - DAY)}
    assert event.created_at == clock.current and event.ip == ""
    assert run(app).counts["expired"] == 0


def test_administrators_get_one_digest_a_day_for_users_coming_within_30_days(app, company, clock):
    today = clock.current.date()
    helpers.make_user(company, "boss", role="company-admin", valid_until=today + dt.timedelta(days=200))
    helpers.make_user(company, "in30", valid_until=today + dt.timedelta(days=30))
    helpers.make_user(company, "in31", valid_until=today + dt.timedelta(days=31))
    summary = run(app)
    assert (summary.counts["digest_mails"], summary.counts["digest_users"]) == (1, 1)
    mail = OutboxMessage.get(OutboxMessage.to_address == "boss@acme.example")
    assert mail.subject == ("Portal account notice: 1 User ID of ACME Components expires on "
                            f"{helpers.shown(today + dt.timedelta(days=30))}")
    assert "in30" in helpers.mail_text(mail) and "in31" not in helpers.mail_text(mail)
    assert "/admin/users?status=expiring" in helpers.mail_text(mail)
    assert run(app).counts["digest_mails"] == 0  # the same day: nothing new
    clock.advance(days=1)
    assert run(app).counts["digest_mails"] == 1  # in31 comes within 30 days the next day
    assert Company.get().expiry_digest_on == clock.current.date()


def test_dry_run_changes_nothing(app, person, company, clock):
    set_activity(person, months_ago(clock, 13))
    summary = run(app, dry_run=True)
    assert summary.dry_run and summary.counts["deactivated"] == 1
    assert User.get_by_id(person.id).active and OutboxMessage.select().count() == 0


def test_overlapping_run_skips(app, person, clock):
    set_activity(person, months_ago(clock, 13))
    JobLock.create(name="lifecycle", holder="other", locked_until=portal_clock.system_now() + dt.timedelta(minutes=5))
    assert run(app).skipped and User.get_by_id(person.id).active
    JobLock.update(locked_until=portal_clock.system_now() - dt.timedelta(seconds=1)).execute()  # lease ran out
    assert run(app).counts["deactivated"] == 1


def test_killed_run_resumes_without_repeating(app, company, clock, monkeypatch):
    for n in range(5):
        set_activity(helpers.make_user(company, f"old{n}", password=None), months_ago(clock, 13))
    monkeypatch.setattr(lifecycle, "BATCH", 2)
    calls = {"n": 0}
    original = lifecycle.outbox.queue_many

    def dies_on_second_batch(rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return original(rows)

    monkeypatch.setattr(lifecycle.outbox, "queue_many", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(app)
    assert User.select().where(~User.active).count() == 2  # the first batch, whole; the second rolled back
    JobLock.update(locked_until=None).execute()
    monkeypatch.setattr(lifecycle.outbox, "queue_many", original)
    assert run(app).counts["deactivated"] == 3
    assert OutboxMessage.select().count() == 5
    assert AuditEvent.select().where(AuditEvent.event == "lifecycle.deactivated_for_inactivity").count() == 5


def test_batches_walk_each_step_once_in_key_order(app, company, clock, monkeypatch):
    """Batches of 2 over users with distinct and tied keys: every due user handled exactly once."""
    monkeypatch.setattr(lifecycle, "BATCH", 2)
    today = clock.current.date()
    for n in range(7):
        set_activity(helpers.make_user(company, f"quiet{n}", password=None), months_ago(clock, 11, -DAY * (n // 2)))
    for n in range(5):
        helpers.make_user(company, f"gone{n}", password=None, valid_until=today - DAY * (1 + n // 2))
    counts = run(app).counts
    assert (counts["warned"], counts["expired"]) == (7, 5)
    for event, prefix in (("lifecycle.inactivity_warning", "quiet"), ("lifecycle.expired", "gone")):
        subjects = [e.subject.user_id for e in AuditEvent.select().where(AuditEvent.event == event)]
        assert sorted(subjects) == sorted(u.user_id for u in User.select() if u.user_id.startswith(prefix))
    assert OutboxMessage.select().count() == 7
    assert run(app).counts["warned"] == run(app).counts["expired"] == 0


def test_each_step_finds_its_users_through_its_partial_index(app, person, clock, caplog):
    """The WHERE of migration 0006's partial indexes must stay what lifecycle writes, or planners stop using
    them and every hourly run walks the whole table again (as bench/lifecycle.py measured)."""
    set_activity(person, months_ago(clock, 13))
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        run(app)
    batches = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and r.msg[0].startswith('SELECT "t1"."id"')
               and 'FROM "users"' in r.msg[0] and "LIMIT" in r.msg[0] and "ORDER BY" in r.msg[0]]
    postgres = isinstance(db.obj, PostgresqlDatabase)
    plans = []
    with app.app_context(), db.connection_context():
        if postgres:  # a handful of rows: without this PostgreSQL rightly prefers reading the table
            db.execute_sql("SET enable_seqscan = off")
        for sql, params in batches:
            rows = db.execute_sql(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params).fetchall()
            plans.append(" ".join(str(row[0 if postgres else 3]) for row in rows))
    for index in ("users_unwarned_by_activity", "users_active_by_activity", "users_expiry_unrecorded"):
        assert any(index in plan for plan in plans), (index, plans)


def test_cli_prints_a_summary_and_accepts_today(runner, person, clock):
    set_activity(person, dt.datetime(2026, 1, 1))
    result = runner.invoke(args=["lifecycle", "run", "--today", "2027-01-05", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Lifecycle dry run for 2027-01-05" in result.output and "1 users would be deactivated" in result.output
    assert "time taken" in result.output


def test_a_company_whose_users_changed_meanwhile_gets_no_digest_and_stops_nothing(app, company, clock,
                                                                                   monkeypatch):
    """Between picking the companies and reading their users, an administrator may have extended them all."""
    from portal.services import lifecycle

    helpers.make_user(company, "boss", role="company-admin", valid_until=clock.current.date() + dt.timedelta(days=200))
    monkeypatch.setattr(lifecycle, "_companies_to_tell", lambda today: iter([company]))
    summary = run(app)
    assert summary.counts["digest_mails"] == 0 and not OutboxMessage.select().exists()


def test_mail_of_a_run_for_another_day_is_due_now_and_called_queued(app, runner, person, clock):
    """--today decides what is due for the lifecycle; the mail it queues leaves with the next `mail send`."""
    set_activity(person, dt.datetime(2026, 1, 1))
    result = runner.invoke(args=["lifecycle", "run", "--today", "2027-01-05"])
    assert result.exit_code == 0 and "1 users were deactivated" in result.output
    assert "0 mails were queued" in result.output and "were sent" not in result.output
    message = OutboxMessage.get()
    assert message.next_attempt_at <= clock.current and "Jan 5, 2027" in message.subject
    assert "Sent 1, not sent 0." in runner.invoke(args=["mail", "send"]).output


def test_cli_rejects_a_bad_date(runner):
    result = runner.invoke(args=["lifecycle", "run", "--today", "05.01.2027"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


@pytest.fixture
def admin_client(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", valid_until=dt.date(2027, 12, 31))
    client = app.test_client()
    helpers.enroll(client, "boss")
    return client


def test_administrator_home_shows_counts_with_links(admin_client, company, clock):
    helpers.make_user(company, "soon", valid_until=clock.current.date() + dt.timedelta(days=5))
    quiet = helpers.make_user(company, "quiet")
    set_activity(quiet, months_ago(clock, 11, -DAY))
    html = admin_client.get("/").data.decode()
    assert '<span class="count">1</span> Expiring within 30 days' in html
    assert 'href="/admin/users?status=expiring"' in html
    assert '<span class="count">1</span> No sign-in for 11+ months' in html
    assert ">quiet</a>" in admin_client.get("/admin/users?status=inactive-11-months").data.decode()


def test_user_sees_when_their_valid_until_is_near_and_who_can_extend_it(app, company, clock):
    helpers.make_user(company, "boss", role="company-admin", first_name="Bea", last_name="Boss")
    helpers.make_user(company, "soon", valid_until=clock.current.date() + dt.timedelta(days=20))
    client = app.test_client()
    helpers.enroll(client, "soon")
    html = client.get("/").data.decode()
    assert "Your User ID is valid until Apr 5, 2026" in html and "Bea Boss (boss@acme.example)" in html


def test_bulk_extend_selected_users(admin_client, company, clock):
    today = clock.current.date()
    helpers.make_user(company, "aa1", valid_until=today + dt.timedelta(days=5))
    helpers.make_user(company, "aa2", valid_until=today + dt.timedelta(days=9))
    page = admin_client.get("/admin/users?status=expiring").data.decode()
    assert 'name="user_id" value="aa1"' in page
    response = admin_client.post("/admin/users/extend", data=MultiDict(
        [("csrf_token", helpers.csrf_token(page)), ("user_id", "aa1"), ("user_id", "aa2")]))
    assert response.status_code == 303
    assert str(User.get(User.user_id == "aa1").valid_until) == "2027-03-21"
    assert str(User.get(User.user_id == "aa2").valid_until) == "2027-03-25"
    assert AuditEvent.select().where(AuditEvent.event == "admin.user_updated").count() == 2


def test_bulk_extend_asks_before_going_past_two_years(admin_client, company, clock):
    helpers.make_user(company, "far", valid_until=dt.date(2027, 12, 1))
    page = admin_client.get("/admin/users").data.decode()
    token = helpers.csrf_token(page)
    first = admin_client.post("/admin/users/extend", data={"csrf_token": token, "user_id": "far"})
    assert first.status_code == 200 and "more than two years ahead" in first.data.decode()
    assert str(User.get(User.user_id == "far").valid_until) == "2027-12-01"
    admin_client.post("/admin/users/extend", data={"csrf_token": token, "user_id": "far", "confirmed": "yes"})
    assert str(User.get(User.user_id == "far").valid_until) == "2028-12-01"


def test_bulk_extend_cannot_reach_another_company_and_reports_what_it_left(admin_client, company, clock):
    """Another company's User ID is no user of this company: it is named as not found, and the rest of the
    batch is extended (one unknown User ID once turned the whole batch into a 404)."""
    soon = clock.current.date() + dt.timedelta(days=5)
    helpers.make_user(helpers.make_company("Other Corp"), "stranger", valid_until=soon)
    helpers.make_user(company, "mine", valid_until=soon)
    page = admin_client.get("/admin/users").data.decode()
    ticked = ["stranger", "mine", "ghost"] + [f"extra{n}" for n in range(250)]
    response = admin_client.post("/admin/users/extend", data=MultiDict(
        [("csrf_token", helpers.csrf_token(page))] + [("user_id", u) for u in ticked]))
    assert response.status_code == 303
    assert User.get(User.user_id == "stranger").valid_until == soon
    assert User.get(User.user_id == "mine").valid_until == dt.date(2027, 3, 21)
    shown = admin_client.get(response.headers["Location"]).data.decode()
    assert "extended by one year for 1 user." in shown
    assert "no such user in your company: extra0" in shown and "ghost, stranger" in shown
    assert "53 more ticked users were not extended: at most 200 at a time" in shown


def test_stale_sessions_links_and_old_mail_are_deleted(app, client, person, clock):
    helpers.enroll(client, "sleepy")
    helpers.post_form(client, "/new-password", {"user_id": "sleepy"})
    clock.advance(days=31)
    OutboxMessage.update(status="sent", sent_at=clock.current - dt.timedelta(days=31)).execute()
    summary = run(app)
    assert summary.counts["purged"] >= 3
    assert LoginSession.select().count() == 0 and OutboxMessage.select().count() == 0
    from portal.models import Token
    assert Token.select().count() == 0


def test_the_administrators_overview_counts_and_charts_valid_until_by_month(admin_client, company, clock):
    today = clock.current.date()  # 2026-03-16
    helpers.make_user(company, "in20", valid_until=today + dt.timedelta(days=20))  # April
    helpers.make_user(company, "in50", valid_until=today + dt.timedelta(days=50))  # May
    helpers.make_user(company, "in80", valid_until=today + dt.timedelta(days=80))  # June
    blocked = helpers.make_user(company, "blocked")
    User.update(password_blocked_at=clock.current).where(User.id == blocked.id).execute()
    html = admin_client.get("/").data.decode()
    for count, label, status in (("1", "Expiring within 30 days", "expiring"), ("2", "Expiring within 60 days",
                                 "expiring-60"), ("3", "Expiring within 90 days", "expiring-90"),
                                 ("1", "Password blocked", "blocked"), ("4", "No authenticator", "no-authenticator")):
        assert f'href="/admin/users?status={status}"><span class="count">{count}</span> {label}' in html, label
    chart = html[html.index("<svg class=\"chart\""):html.index("</svg>", html.index("<svg class=\"chart\""))]
    assert "March 2026: 0; April 2026: 1; May 2026: 1; June 2026: 1" in chart
    assert "February 2027: 0" in chart and "March 2027" not in chart  # twelve months: March to February
    assert chart.count("<rect") == 12 and "<script" not in chart  # drawn on the server, no script
    listed = admin_client.get("/admin/users?status=expiring-60").data.decode()
    assert ">in20<" in listed and ">in50<" in listed and ">in80<" not in listed
