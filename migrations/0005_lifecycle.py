"""Account lifecycle: last activity (sign-in, or creation), what was announced, and a lock for the job.

activity_at is what the 11- and 12-month rules compare, with an index so the job reads only the users
it acts on; the *_for/_at columns record what was already sent, so a run never repeats another's work."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("users", "activity_at", DateTimeField(null=True)),
        migrator.add_column("users", "inactivity_warned_at", DateTimeField(null=True)),
        migrator.add_column("users", "expiry_notified_for", DateField(null=True)),
        migrator.add_column("users", "expired_recorded_for", DateField(null=True)),
        migrator.add_column("companies", "expiry_digest_on", DateField(null=True)),
    )
    db.execute_sql("UPDATE users SET activity_at = COALESCE(last_sign_in_at, created_at)")
    db.execute_sql("CREATE INDEX users_active_activity ON users (active, activity_at)")
    db.execute_sql("CREATE INDEX users_valid_until_expired ON users (valid_until, expired_recorded_for)")

    class JobLock(Model):
        name = CharField(max_length=50, primary_key=True)
        holder = CharField(max_length=64, null=True)
        locked_until = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "job_locks"

    db.create_tables([JobLock])


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS users_valid_until_expired")
    db.execute_sql("DROP INDEX IF EXISTS users_active_activity")
    migrator.migrate(
        migrator.drop_table("job_locks"),
        migrator.drop_column("companies", "expiry_digest_on"),
        migrator.drop_column("users", "expired_recorded_for"),
        migrator.drop_column("users", "expiry_notified_for"),
        migrator.drop_column("users", "inactivity_warned_at"),
        migrator.drop_column("users", "activity_at"),
    )
