"""How many QR codes a user has been offered since the last completed enrollment: from the second one on,
the enrollment page says that the earlier one no longer works and its entry in the app must go."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("users", "enrollment_offers", IntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("users", "enrollment_offers"))
