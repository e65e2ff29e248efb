"""Database connections kept between requests (SQLite, one per thread) and hot queries compiled once."""
import threading

import pytest
from peewee import SqliteDatabase

from portal.db import Prepared, db, open_database
from portal.models import Company, LoginSession, User
from portal.services import sessions
from tests import helpers
from tests.conftest import PG_URL


def other_thread(fn):
    """Run fn in a new thread (with its own app context and so its own connection); return what it returned."""
    result = {}

    def run():
        with helpers.APP.app_context():
            result["value"] = fn()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return result["value"]


def test_sqlite_keeps_a_connection_per_thread_and_postgresql_hands_it_back(app, client, user):
    helpers.enroll(client)
    client.get("/")
    if isinstance(db.obj, SqliteDatabase):
        first = db.connection()
        client.get("/profile")
        assert db.connection() is first  # kept for the next request of this thread
        assert other_thread(lambda: id(db.connection())) != id(first)  # never shared with another thread
    else:
        assert db.is_closed()  # back to the server (or to the pool with postgresql+pool://)


def test_kept_connection_sees_what_other_connections_commit(app, client, user):
    helpers.enroll(client)
    assert "Jane" in client.get("/profile").data.decode()
    other_thread(lambda: User.update(first_name="Janet").where(User.id == user.id).execute())
    assert 'value="Janet"' in client.get("/profile").data.decode()


def test_failed_request_leaves_no_transaction_open_on_the_kept_connection(app, client, user):
    @app.route("/_half_done")
    def half_done():
        db.execute_sql("BEGIN")
        User.update(first_name="Half").where(User.id == user.id).execute()
        raise RuntimeError("fails before COMMIT")

    assert client.get("/_half_done").status_code == 500
    assert User.get_by_id(user.id).first_name == "Jane"  # this thread's connection: rolled back
    assert other_thread(lambda: User.get_by_id(user.id).first_name) == "Jane"


def test_cli_and_lifecycle_job_work_beside_kept_connections(app, client, user, runner):
    helpers.enroll(client)
    client.get("/")
    assert runner.invoke(args=["lifecycle", "run"]).exit_code == 0
    assert runner.invoke(args=["create-company", "Second Company"]).exit_code == 0
    assert client.get("/sign-in").status_code in (200, 303)  # `lifecycle run` leaves the clock at system time
    with helpers.context():
        assert Company.select().count() == 2


def test_prepared_query_gives_what_peewee_gives(app, user):
    with helpers.context():
        by_key = Prepared(lambda key: User.select(User, Company).join(Company).where(User.user_id_key == key), str)
        found = by_key.first("jdoe")
        assert found.id == user.id and found.company.name == "ACME Components"
        assert found.valid_until == User.get_by_id(user.id).valid_until  # converted as peewee converts
        assert by_key.first("nobody") is None
        by_id = Prepared(lambda row_id: User.select().where((User.id == row_id) & User.active), int)
        assert [u.user_id for u in by_id.rows(user.id)] == ["jdoe"]


def test_prepared_dates_read_from_text_are_those_peewee_reads():
    from peewee import DateField, DateTimeField

    from portal.db import _fast

    texts = ["2026-12-01 10:11:12.123456", "2026-12-01 10:11:12", "2026-12-01", "2026-12-01 10:11:12+02:00",
             "not a date", "2026-13-01"]
    for field in (DateTimeField(), DateField()):
        convert = _fast(field)
        assert [convert(text) for text in texts] == [field.python_value(text) for text in texts]
    assert _fast(User.user_id) is None


def test_prepared_query_refuses_a_value_it_cannot_find():
    with pytest.raises(ValueError):
        Prepared(lambda key: User.select().where(User.user_id_key == key.upper()), str)._compile(
            SqliteDatabase(":memory:"))


def test_session_lookup_builds_its_sql_once(app, client, user, monkeypatch):
    helpers.enroll(client)
    compiled = []
    original = Prepared._compile
    monkeypatch.setattr(Prepared, "_compile", lambda self, database: compiled.append(1) or original(self, database))
    sessions._BY_TOKEN._compiled.clear()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert len(compiled) == 1
    assert LoginSession.select().count() == 1


def test_prepared_models_are_those_peewee_makes(app, client, user):
    """The session lookup's reader: the same fields, the user and company attached, nothing marked dirty."""
    helpers.enroll(client)
    with helpers.context():
        record = LoginSession.get()
        mine = sessions._BY_TOKEN.first(record.token_hash)
        peewees = (LoginSession.select(LoginSession, User, Company).join(User).join(Company)
                   .where(LoginSession.token_hash == record.token_hash).get())
        assert mine.__data__ == peewees.__data__ and not mine._dirty
        assert mine.user.__data__ == peewees.user.__data__ and mine.user.company.__data__ == peewees.user.company.__data__
        assert mine.user_id == user.id and mine.user.company_id == user.company_id
        mine.user.first_name = "Janet"
        assert mine.user._dirty == {"first_name"}  # a model like any other: saving writes what changed
        assert mine.user.save() == 1 and User.get_by_id(user.id).first_name == "Janet"


def test_prepared_tuples_take_a_value_twice_and_convert_as_peewee(app, user):
    with helpers.context():
        same = Prepared(lambda key: User.select(User.user_id, User.valid_until, User.active)
                        .where((User.user_id_key == key) | (User.email_key == key)), str, tuples=True)
        assert same.rows("jdoe") == list(User.select(User.user_id, User.valid_until, User.active)
                                          .where(User.user_id_key == "jdoe").tuples())
        assert isinstance(same.rows("jdoe")[0][2], bool)


def test_prepared_models_join_along_foreign_keys_only():
    with pytest.raises(ValueError):
        Prepared(lambda key: User.select(User, Company).join(Company, on=(Company.name == User.last_name))
                 .where(User.user_id_key == key), str)._compile(SqliteDatabase(":memory:"))


@pytest.fixture
def pool(request):
    """A postgresql+pool:// database on the test server (these tests run on PostgreSQL only, not twice)."""
    if not PG_URL:  # without PostgreSQL configured (CI always configures it)
        pytest.skip("PORTAL_TEST_DATABASE_URL is not set: the pool is PostgreSQL's")
    database_url = request.getfixturevalue("postgres_ready")
    database = open_database("postgresql+pool" + database_url[len("postgresql"):] + "?max_connections=4")
    database.plain_url = database_url
    yield database
    database.close_all()


def checks_of(pool, monkeypatch) -> list:
    asked = []
    original = pool._adapter.is_connection_closed
    monkeypatch.setattr(pool._adapter, "is_connection_closed", lambda conn: asked.append(1) or original(conn))
    return asked


def test_pool_hands_back_a_connection_just_returned_without_asking_the_server(pool, monkeypatch):
    asked = checks_of(pool, monkeypatch)
    pool.connect()
    first = pool.connection()
    pool.close()
    pool.connect()
    assert pool.connection() is first and asked == []  # no SELECT 1 for a connection handed back just now
    pool.close()
    monkeypatch.setattr(pool, "CHECK_AFTER", 0.0)
    pool.connect()
    assert pool.connection() is first and asked == [1]  # idle longer: asked, as peewee asks
    pool.close()


def test_pool_never_hands_out_a_connection_that_broke(pool, monkeypatch):
    pool.connect()
    first = pool.connection()
    pool.close()
    first.close()  # as when the driver noticed the server had gone
    pool.connect()
    assert pool.connection() is not first and pool.execute_sql("SELECT 1").fetchone() == (1,)
    pool.close()


def test_pool_asks_about_a_connection_the_server_dropped_while_it_was_idle(pool, monkeypatch):
    pool.connect()
    first = pool.connection()
    backend = pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    pool.close()
    killer = open_database(pool.plain_url)
    with killer.connection_context():
        killer.execute_sql("SELECT pg_terminate_backend(%s)", (backend,))
    monkeypatch.setattr(pool, "CHECK_AFTER", 0.0)
    pool.connect()
    assert pool.connection() is not first and pool.execute_sql("SELECT 1").fetchone() == (1,)
    pool.close()
