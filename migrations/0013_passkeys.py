"""Passkeys and security keys (WebAuthn) as an additional second factor: the credentials of each user (public
keys only), and the single-use challenges of registrations and sign-ins, bound to a login session (and gone
with it, ON DELETE CASCADE) or, for a sign-in with a passkey alone, to a token in the browser's cookie.

Numbered 0013 with 0012 left for another change: the runner applies every script it has not recorded, in
numeric order, so a gap (or a lower number landing later) is applied like any other."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class LoginSession(Model):
        class Meta:
            database = db
            table_name = "login_sessions"

    class Passkey(Model):
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        name = CharField(max_length=100)
        credential_id = CharField(max_length=1400, unique=True)
        public_key = TextField()
        sign_count = BigIntegerField(default=0)
        user_handle = CharField(max_length=100)
        synced = BooleanField(default=False)
        transports = CharField(max_length=200, default="")
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "passkeys"

    class PasskeyChallenge(Model):
        purpose = CharField(max_length=20)
        login_session = ForeignKeyField(LoginSession, null=True, backref="+", on_delete="CASCADE")
        browser_hash = CharField(max_length=64, null=True)
        challenge = CharField(max_length=200)
        expires_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "passkey_challenges"
            indexes = ((("login_session", "purpose"), False), (("browser_hash", "purpose"), False))

    db.create_tables([Passkey, PasskeyChallenge])


def down(migrator, db):
    db.execute_sql("DROP TABLE passkey_challenges")
    db.execute_sql("DROP TABLE passkeys")
