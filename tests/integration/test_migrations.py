"""The numbered migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from portal.db import db
from portal.models import ALL_MODELS


def test_migrated_tables_match_the_models(app):
    database = db.obj
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = {c.name for c in database.get_columns(table)}
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns == expected, table


def test_lookups_have_indexes(app):
    database = db.obj
    indexed = {(i.table, tuple(i.columns)) for m in ALL_MODELS for i in database.get_indexes(m._meta.table_name)}
    for needed in [("users", ("user_id_key",)), ("users", ("email_key",)), ("login_sessions", ("token_hash",)),
                   ("tokens", ("token_hash",)), ("backup_codes", ("user_id", "code_hash"))]:
        assert needed in indexed, needed
