"""Indexes for a million users, measured with bench/admin_search.py and bench/lifecycle.py.

- Each search key's range index also holds user_id_key, active and valid_until, so the first 50 matches of a
  prefix in User ID order (and under the Active/Inactive/Expired/Expiring filters) come from the index alone:
  "tan" matches 25,000 users across companies, and fetching each row to sort them took 80 ms.
- Active administrators of a company come from a partial index of administrators, not from walking the
  company's Valid Until index (30 ms in a company of 14,000 users, on every Administration > User page).
- The plain company_id index goes: each of the company indexes above serves its lookups, and on PostgreSQL
  every index is written again whenever a user's row is.
- Blocked passwords are rare: partial indexes hold only those users.
- "Last sign-in" sorts newest first with never-signed-in users last; PostgreSQL needs that order in the index.
- The lifecycle job finds what is due through partial indexes that hold only the users it could act on, in
  the order it walks them, so an hourly run with nothing to do reads nothing (the indexes of 0005 led with
  a bare boolean that SQLite cannot search by, and each run walked the whole table three times).
"""
from peewee import *

# The WHERE of each is the condition portal.services.lifecycle writes, word for word, so planners match them.
UNWARNED = "inactivity_warned_at IS NULL OR inactivity_warned_at < activity_at"
UNRECORDED = "expired_recorded_for IS NULL OR expired_recorded_for < valid_until"
LIFECYCLE = (
    "CREATE INDEX users_active_by_activity ON users (activity_at) WHERE active",
    f"CREATE INDEX users_unwarned_by_activity ON users (activity_at) WHERE active AND ({UNWARNED})",
    f"CREATE INDEX users_expiry_unrecorded ON users (valid_until) WHERE {UNRECORDED}",
)


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    c = ' COLLATE "C"' if postgres else ""
    for key in ("last_name_key", "email_key"):
        db.execute_sql(f"DROP INDEX IF EXISTS users_{key}_search")
        db.execute_sql(f"CREATE INDEX users_{key}_search ON users ({key}{c}, user_id_key{c}, active, valid_until)")
    db.execute_sql("CREATE INDEX users_company_admins ON users (company_id, valid_until) WHERE role = 'company-admin'")
    db.execute_sql("DROP INDEX IF EXISTS user_company_id")  # every users_company_* index leads with company_id
    blocked = "WHERE password_blocked_at IS NOT NULL"
    db.execute_sql(f"CREATE INDEX users_company_blocked ON users (company_id, user_id_key{c}) {blocked}")
    db.execute_sql(f"CREATE INDEX users_blocked ON users (user_id_key{c}) {blocked}")
    newest_first = "last_sign_in_at DESC" + (" NULLS LAST" if postgres else "")  # SQLite's DESC puts NULL last
    db.execute_sql(f"CREATE INDEX users_company_last_sign_in ON users (company_id, {newest_first})")
    if postgres:  # SQLite reads the plain last_sign_in_at index backwards for this order
        db.execute_sql(f"CREATE INDEX users_last_sign_in_newest ON users ({newest_first})")
    for statement in LIFECYCLE:
        db.execute_sql(statement)
    db.execute_sql("DROP INDEX IF EXISTS users_active_activity")
    db.execute_sql("DROP INDEX IF EXISTS users_valid_until_expired")


def down(migrator, db):
    db.execute_sql("CREATE INDEX user_company_id ON users (company_id)")
    db.execute_sql("CREATE INDEX users_active_activity ON users (active, activity_at)")
    db.execute_sql("CREATE INDEX users_valid_until_expired ON users (valid_until, expired_recorded_for)")
    for name in ("users_expiry_unrecorded", "users_unwarned_by_activity", "users_active_by_activity",
                 "users_last_sign_in_newest", "users_company_last_sign_in", "users_blocked", "users_company_blocked",
                 "users_company_admins", "users_last_name_key_search", "users_email_key_search"):
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
    postgres = isinstance(db, PostgresqlDatabase)
    c = ' COLLATE "C"' if postgres else ""
    db.execute_sql(f"CREATE INDEX users_last_name_key_search ON users (last_name_key{c})")
    if postgres:
        db.execute_sql(f"CREATE INDEX users_email_key_search ON users (email_key{c})")
