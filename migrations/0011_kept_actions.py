"""A change a person sent while their confirmation was too old: kept (encrypted, without passwords or codes) on
their session while they confirm it is them, then sent again, so that nothing they typed or clicked is lost."""
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("login_sessions", "kept_action", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("login_sessions", "kept_action"))
