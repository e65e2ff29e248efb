"""The numbered migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from portal.db import db
from portal.models import ALL_MODELS
from portal.models_oidc import OIDC_MODELS


def test_migrated_tables_match_the_models(app):
    database = db.obj
    for model in ALL_MODELS + OIDC_MODELS:
        table = model._meta.table_name
        columns = {c.name for c in database.get_columns(table)}
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns == expected, table


def test_lookups_have_indexes(app):
    database = db.obj
    indexed = {(i.table, tuple(i.columns)) for m in ALL_MODELS + OIDC_MODELS
               for i in database.get_indexes(m._meta.table_name)}
    for needed in [("users", ("user_id_key",)), ("users", ("email_key",)), ("login_sessions", ("token_hash",)),
                   ("tokens", ("token_hash",)), ("backup_codes", ("user_id", "code_hash")),
                   ("backup_codes", ("user_id", "lookup")),
                   # every token and code lookup, and each cascade when a session ends
                   ("oidc_codes", ("code_hash",)), ("oidc_tokens", ("access_token_hash",)),
                   ("oidc_tokens", ("refresh_token_hash",)), ("oidc_tokens", ("login_session_id",)),
                   ("oidc_tokens", ("code_id",)), ("oidc_codes", ("login_session_id",)),
                   ("oidc_client_sessions", ("login_session_id", "client_id")), ("oidc_clients", ("client_id",)),
                   ("oidc_logouts", ("status", "next_attempt_at"))]:
        assert needed in indexed, needed


def test_search_and_lifecycle_have_the_indexes_the_benchmarks_measured(app):
    """bench/admin_search.py and bench/lifecycle.py showed these plans; a migration that loses one shows here."""
    indexes = {i.name: i for i in db.obj.get_indexes("users")}
    for name in ("users_company_user_id_key", "users_company_last_name_key", "users_company_email_key",
                 "users_last_name_key_search", "users_email_key_search", "users_company_admins", "users_blocked",
                 "users_company_blocked", "users_company_last_sign_in", "users_active_by_activity",
                 "users_unwarned_by_activity", "users_expiry_unrecorded"):
        assert name in indexes, name
    assert indexes["users_last_name_key_search"].columns[:2] == ["last_name_key", "user_id_key"]
    assert "user_company_id" not in indexes  # the company_id-led indexes serve its lookups
    assert "users_active_activity" not in indexes and "users_valid_until_expired" not in indexes


def test_numbers_may_have_gaps_and_a_lower_number_may_land_later(tmp_path, monkeypatch):
    """A number may be left for another change (0013 before 0012): the runner applies every script it has not
    recorded, in numeric order, to a new database and to one at 0011, and a lower number landing later too."""
    import shutil
    from pathlib import Path

    from portal import db as portal_db
    from portal.db import open_database

    scripts = sorted(Path(portal_db.MIGRATIONS_DIR).glob("[0-9]*.py"))
    folder = tmp_path / "migrations"
    folder.mkdir()
    for script in scripts:
        if script.name < "0012":
            shutil.copy(script, folder)
    monkeypatch.setattr(portal_db, "MIGRATIONS_DIR", str(folder))
    database = open_database(f"sqlite:///{tmp_path / 'portal.db'}")
    db.initialize(database)
    with database.connection_context():
        assert portal_db.migrate()[-1] == "0011_kept_actions"  # a database at 0011
        shutil.copy(next(s for s in scripts if s.name.startswith("0013")), folder)
        assert portal_db.migrate() == ["0013_passkeys"]
        (folder / "0012_later.py").write_text("from peewee import *\n\n\ndef up(migrator, db):\n"
                                              "    db.execute_sql('CREATE TABLE later (id INTEGER PRIMARY KEY)')\n")
        assert portal_db.migrate() == ["0012_later"]
        assert portal_db.migrate() == []
        assert database.table_exists("passkeys") and database.table_exists("later")
    fresh = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    db.initialize(fresh)
    with fresh.connection_context():
        applied = portal_db.migrate()
    assert applied == sorted(applied) and applied[-3:] == ["0011_kept_actions", "0012_later", "0013_passkeys"]
