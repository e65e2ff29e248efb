"""Account protection: no mailbox alone replaces both factors, lockouts an attacker cannot impose, mail bodies
unreadable at rest.

- users.password_set_by_link_at / authenticator_recovered_by_link_at: when one factor was last recovered
  through a mailed link; the other one cannot be recovered by mail for a while after it.
- users.code_rests / code_step_closed_at: rests of the code step since the last correct code, and when the
  code step closed for good (until a backup code, a recovery or an administrator's Reset MFA).
- known_browsers: browsers that completed a sign-in of a user (a random cookie, stored hashed here). Their
  wrong passwords are counted apart, so failures from elsewhere never lock the owner out of them.
- login_sessions.failed_confirmations: wrong passwords or codes given by a signed-in session; too many end it.
- outbox_messages: bodies are encrypted with the encryption key and dropped once the mail is delivered.
"""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("users", "password_set_by_link_at", DateTimeField(null=True)),
        migrator.add_column("users", "authenticator_recovered_by_link_at", DateTimeField(null=True)),
        migrator.add_column("users", "code_rests", IntegerField(default=0)),
        migrator.add_column("users", "code_step_closed_at", DateTimeField(null=True)),
        migrator.add_column("login_sessions", "failed_confirmations", IntegerField(default=0)),
        migrator.drop_not_null("outbox_messages", "body_text"),
    )

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class KnownBrowser(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        browser_hash = CharField(max_length=64)
        created_at = DateTimeField()
        last_used_at = DateTimeField(index=True)
        failed_password_count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "known_browsers"
            indexes = ((("browser_hash", "user"), True),)

    db.create_tables([KnownBrowser])
    _encrypt_bodies(db)


def _encrypt_bodies(db):
    """Mail still to be sent is encrypted under the encryption key; delivered mail keeps no body."""
    db.execute_sql("UPDATE outbox_messages SET body_text = NULL, body_html = NULL WHERE status = 'sent'")
    rows = db.execute_sql("SELECT id, body_text, body_html FROM outbox_messages WHERE body_text IS NOT NULL")
    rows = rows.fetchall()
    if not rows:
        return
    from portal.security import crypto  # needs the app's key: `portal init-db` runs inside the app

    p = db.param
    for message_id, text, html in rows:
        db.execute_sql(f"UPDATE outbox_messages SET body_text = {p}, body_html = {p} WHERE id = {p}",
                       (crypto.encrypt(text), crypto.encrypt(html) if html else None, message_id))


def down(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS known_browsers")
    migrator.migrate(
        migrator.drop_column("login_sessions", "failed_confirmations"),
        migrator.drop_column("users", "code_step_closed_at"),
        migrator.drop_column("users", "code_rests"),
        migrator.drop_column("users", "authenticator_recovered_by_link_at"),
        migrator.drop_column("users", "password_set_by_link_at"),
    )
