"""Administration: a lowercased last name for search, and indexes for searching users per company and
across companies, and for the audit log. On PostgreSQL the search keys are indexed in the "C" collation,
so prefix ranges (key >= 'abc' AND key < 'abd') use the index whatever the database's own collation."""
from peewee import *

SEARCH_KEYS = ("user_id_key", "last_name_key", "email_key")


def up(migrator, db):
    migrator.migrate(migrator.add_column("users", "last_name_key", CharField(max_length=100, default="")))
    db.execute_sql("UPDATE users SET last_name_key = LOWER(last_name)")
    postgres = isinstance(db, PostgresqlDatabase)
    collate = ' COLLATE "C"' if postgres else ""
    for key in SEARCH_KEYS:
        db.execute_sql(f"CREATE INDEX users_company_{key} ON users (company_id, {key}{collate})")
        if key != "email_key" or postgres:  # email_key already has a plain index from 0001
            db.execute_sql(f"CREATE INDEX users_{key}_search ON users ({key}{collate})")
    db.execute_sql("CREATE INDEX users_company_valid_until ON users (company_id, valid_until)")
    db.execute_sql("CREATE INDEX audit_events_company_created ON audit_events (company_id, created_at)")
    db.execute_sql("CREATE INDEX audit_events_subject_created ON audit_events (subject_id, created_at)")


def down(migrator, db):
    for name in ("audit_events_subject_created", "audit_events_company_created", "users_company_valid_until",
                 *(f"users_company_{k}" for k in SEARCH_KEYS), *(f"users_{k}_search" for k in SEARCH_KEYS)):
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
    migrator.migrate(migrator.drop_column("users", "last_name_key"))
