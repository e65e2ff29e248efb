"""Initial schema: companies, users, authenticators, backup codes, sessions, audit events, outbox.

A frozen copy of the models as they were; later changes go into new numbered files.
"""
from peewee import *


def up(migrator, db):
    class Company(Model):
        name = CharField(max_length=200)
        name_key = CharField(unique=True, max_length=200)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'companies'
    db.create_tables([Company])

    class User(Model):
        user_id = CharField(max_length=64)
        user_id_key = CharField(unique=True, max_length=64)
        company = ForeignKeyField(Company, on_delete='RESTRICT')
        email = CharField(max_length=254)
        email_key = CharField(index=True, max_length=254)
        first_name = CharField(max_length=100)
        last_name = CharField(max_length=100)
        phone = CharField(max_length=50, default='')
        role = CharField(max_length=20, default='user')
        active = BooleanField(default=True)
        valid_until = DateField(index=True)
        created_at = DateTimeField()
        last_sign_in_at = DateTimeField(index=True, null=True)
        password_hash = TextField(null=True)
        failed_password_count = IntegerField(default=0)
        password_blocked_at = DateTimeField(null=True)
        failed_code_count = IntegerField(default=0)
        code_blocked_until = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'users'
    db.create_tables([User])

    class AuditEvent(Model):
        created_at = DateTimeField(index=True)
        event = CharField(index=True, max_length=50)
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        subject = ForeignKeyField(User, null=True, on_delete='SET NULL')
        company = ForeignKeyField(Company, null=True, on_delete='SET NULL')
        ip = CharField(max_length=64, default='')
        details = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'audit_events'
    db.create_tables([AuditEvent])

    class Authenticator(Model):
        user = ForeignKeyField(User, unique=True, on_delete='CASCADE')
        device_name = CharField(max_length=100)
        secret_encrypted = TextField()
        confirmed_at = DateTimeField()
        last_used_step = BigIntegerField(null=True)
        last_used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'authenticators'
    db.create_tables([Authenticator])

    class BackupCode(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        code_hash = CharField(max_length=64)
        created_at = DateTimeField()
        used_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'backup_codes'
            indexes = ((('user', 'code_hash'), True),)
    db.create_tables([BackupCode])

    class LoginSession(Model):
        token_hash = CharField(unique=True, max_length=64)
        user = ForeignKeyField(User, on_delete='CASCADE')
        stage = CharField(max_length=10)
        created_at = DateTimeField()
        authenticated_at = DateTimeField(null=True)
        last_seen_at = DateTimeField()
        ip = CharField(max_length=64, default='')
        user_agent = CharField(default='')
        code_attempts = IntegerField(default=0)
        enrollment_secret = TextField(null=True)
        backup_codes_to_show = TextField(null=True)
        class Meta:
            database = db
            table_name = 'login_sessions'
    db.create_tables([LoginSession])

    class OutboxMessage(Model):
        created_at = DateTimeField()
        to_address = CharField(max_length=254)
        subject = CharField()
        body_text = TextField()
        body_html = TextField(null=True)
        status = CharField(index=True, max_length=10, default='queued')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(index=True)
        claimed_until = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)
        last_error = TextField(null=True)
        class Meta:
            database = db
            table_name = 'outbox_messages'
    db.create_tables([OutboxMessage])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('outbox_messages'))
    migrator.migrate(migrator.drop_table('login_sessions'))
    migrator.migrate(migrator.drop_table('backup_codes'))
    migrator.migrate(migrator.drop_table('authenticators'))
    migrator.migrate(migrator.drop_table('audit_events'))
    migrator.migrate(migrator.drop_table('users'))
    migrator.migrate(migrator.drop_table('companies'))
