"""Languages and time zones: the language a user reads (chosen on Profile) and their time zone, the language a
contact person's mails are written in, and the company's time zone (its users' default)."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("users", "language", CharField(max_length=10, null=True)),  # None: the browser's
        migrator.add_column("users", "time_zone", CharField(max_length=64, null=True)),  # None: the company's
        migrator.add_column("contact_persons", "language", CharField(max_length=10, default="en")),
        migrator.add_column("companies", "time_zone", CharField(max_length=64, default="UTC")),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("users", "language"),
        migrator.drop_column("users", "time_zone"),
        migrator.drop_column("contact_persons", "language"),
        migrator.drop_column("companies", "time_zone"),
    )
