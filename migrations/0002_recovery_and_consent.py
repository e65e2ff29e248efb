"""Recovery and self-service: link tokens, consent records, terms/consent columns, re-authentication time."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("users", "terms_version", CharField(max_length=50, null=True)),
        migrator.add_column("users", "show_personal_data", BooleanField(null=True)),
        migrator.add_column("users", "personal_data_version", CharField(max_length=50, null=True)),
        migrator.add_column("login_sessions", "reauthenticated_at", DateTimeField(null=True)),
    )

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Token(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        purpose = CharField(max_length=30)
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        data = TextField(null=True)

        class Meta:
            database = db
            table_name = "tokens"
            indexes = ((("user", "purpose"), False),)

    class ConsentRecord(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        kind = CharField(max_length=20)
        version = CharField(max_length=50)
        given = BooleanField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "consent_records"

    db.create_tables([Token, ConsentRecord])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("consent_records"),
        migrator.drop_table("tokens"),
        migrator.drop_column("login_sessions", "reauthenticated_at"),
        migrator.drop_column("users", "personal_data_version"),
        migrator.drop_column("users", "show_personal_data"),
        migrator.drop_column("users", "terms_version"),
    )
