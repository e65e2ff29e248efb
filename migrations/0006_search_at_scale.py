"""Search at a million users: indexes measured with bench/admin_search.py.

- Each search key's range index also holds user_id_key, active and valid_until, so the first 50 matches of a
  prefix in User ID order (and under the Active/Inactive/Expired/Expiring filters) come from the index alone:
  "tan" matches 25,000 users across companies, and fetching each row to sort them took 80 ms.
- Active administrators of a company are found by role, not by walking the company's Valid Until index
  (30 ms in a company of 14,000 users, on every Administration > User page).
- Blocked passwords are rare: partial indexes hold only those users.
- "Last sign-in" sorts newest first with never-signed-in users last; PostgreSQL needs that order in the index.
"""
from peewee import *


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    c = ' COLLATE "C"' if postgres else ""
    for key in ("last_name_key", "email_key"):
        db.execute_sql(f"DROP INDEX IF EXISTS users_{key}_search")
        db.execute_sql(f"CREATE INDEX users_{key}_search ON users ({key}{c}, user_id_key{c}, active, valid_until)")
    db.execute_sql("CREATE INDEX users_company_role ON users (company_id, role, valid_until)")
    blocked = "WHERE password_blocked_at IS NOT NULL"
    db.execute_sql(f"CREATE INDEX users_company_blocked ON users (company_id, user_id_key{c}) {blocked}")
    db.execute_sql(f"CREATE INDEX users_blocked ON users (user_id_key{c}) {blocked}")
    newest_first = "last_sign_in_at DESC" + (" NULLS LAST" if postgres else "")  # SQLite's DESC puts NULL last
    db.execute_sql(f"CREATE INDEX users_company_last_sign_in ON users (company_id, {newest_first})")
    if postgres:  # SQLite reads the plain last_sign_in_at index backwards for this order
        db.execute_sql(f"CREATE INDEX users_last_sign_in_newest ON users ({newest_first})")


def down(migrator, db):
    for name in ("users_last_sign_in_newest", "users_company_last_sign_in", "users_blocked", "users_company_blocked",
                 "users_company_role", "users_last_name_key_search", "users_email_key_search"):
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
    postgres = isinstance(db, PostgresqlDatabase)
    c = ' COLLATE "C"' if postgres else ""
    db.execute_sql(f"CREATE INDEX users_last_name_key_search ON users (last_name_key{c})")
    if postgres:
        db.execute_sql(f"CREATE INDEX users_email_key_search ON users (email_key{c})")
