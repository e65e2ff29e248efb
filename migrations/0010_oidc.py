"""Portal as OpenID Provider: applications, codes, tokens, consent, subjects and the back-channel logout queue;
login_sessions.amr records how each sign-in's second factor was met (for the ID token's amr).

Codes, tokens and client sessions reference their login session ON DELETE CASCADE: ending a Portal session
ends everything issued in it, whichever way it ends (one row or a set-based DELETE)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("login_sessions", "amr", CharField(max_length=50, default="pwd")))

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class LoginSession(Model):
        class Meta:
            database = db
            table_name = "login_sessions"

    class Client(Model):
        client_id = CharField(max_length=64, unique=True)
        name = CharField(max_length=100)
        secret_hash = CharField(max_length=64, null=True)
        first_party = BooleanField(default=False)
        redirect_uris = TextField()
        post_logout_redirect_uris = TextField(default="[]")
        backchannel_logout_uri = CharField(max_length=500, null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "oidc_clients"

    class Subject(Model):
        user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
        sub = CharField(max_length=64, unique=True)

        class Meta:
            database = db
            table_name = "oidc_subjects"

    class ClientSession(Model):
        login_session = ForeignKeyField(LoginSession, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        sid = CharField(max_length=64, unique=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "oidc_client_sessions"
            indexes = ((("login_session", "client"), True),)

    class AuthorizationCode(Model):
        code_hash = CharField(max_length=64, unique=True)
        client = ForeignKeyField(Client, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        login_session = ForeignKeyField(LoginSession, on_delete="CASCADE")
        client_session = ForeignKeyField(ClientSession, on_delete="CASCADE")
        redirect_uri = TextField()
        scope = TextField()
        nonce = CharField(max_length=255, null=True)
        code_challenge = CharField(max_length=128, null=True)
        code_challenge_method = CharField(max_length=10, null=True)
        auth_time = DateTimeField()
        amr = CharField(max_length=50)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "oidc_codes"
            indexes = ((("client", "nonce"), False),)

    class IssuedToken(Model):
        access_token_hash = CharField(max_length=64, unique=True)
        refresh_token_hash = CharField(max_length=64, unique=True, null=True)
        client = ForeignKeyField(Client, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        login_session = ForeignKeyField(LoginSession, on_delete="CASCADE")
        code = ForeignKeyField(AuthorizationCode, on_delete="CASCADE")
        scope = TextField()
        issued_at = DateTimeField()
        expires_at = DateTimeField()
        refresh_used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "oidc_tokens"

    class Consent(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        scope = TextField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "oidc_consents"
            indexes = ((("user", "client"), True),)

    class BackchannelLogout(Model):
        client = ForeignKeyField(Client, on_delete="CASCADE")
        sub = CharField(max_length=64)
        sid = CharField(max_length=64)
        created_at = DateTimeField()
        status = CharField(max_length=10, default="queued")
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        claimed_until = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)
        last_error = TextField(null=True)

        class Meta:
            database = db
            table_name = "oidc_logouts"
            indexes = ((("status", "next_attempt_at"), False),)

    db.create_tables([Client, Subject, ClientSession, AuthorizationCode, IssuedToken, Consent, BackchannelLogout])


def down(migrator, db):
    for table in ("oidc_logouts", "oidc_consents", "oidc_tokens", "oidc_codes", "oidc_client_sessions",
                  "oidc_subjects", "oidc_clients"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
    migrator.migrate(migrator.drop_column("login_sessions", "amr"))
