"""Contact persons (not users) and the history of their activation by e-mail."""
from peewee import *


def up(migrator, db):
    class Company(Model):
        class Meta:
            database = db
            table_name = "companies"

    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class ContactPerson(Model):
        company = ForeignKeyField(Company, on_delete="RESTRICT")
        first_name = CharField(max_length=100)
        last_name = CharField(max_length=100)
        last_name_key = CharField(max_length=100)
        email = CharField(max_length=254)
        email_key = CharField(max_length=254)
        phone = CharField(max_length=50, default="")
        department = CharField(max_length=100, default="")
        status = CharField(max_length=10, default="pending")
        created_at = DateTimeField()
        activation_token_hash = CharField(max_length=64, null=True, unique=True)
        activation_expires_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "contact_persons"
            indexes = ((("company", "email_key"), False), (("company", "last_name_key"), False),
                       (("company", "status"), False))

    class ContactEvent(Model):
        contact = ForeignKeyField(ContactPerson, on_delete="CASCADE")
        event = CharField(max_length=30)
        created_at = DateTimeField()
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        detail = CharField(max_length=255, default="")

        class Meta:
            database = db
            table_name = "contact_events"

    db.create_tables([ContactPerson, ContactEvent])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("contact_events"), migrator.drop_table("contact_persons"))
