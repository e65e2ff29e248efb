"""Backup codes under a slow salted hash (argon2id with cheap parameters) instead of an unsalted HMAC.

A code has about 49 bits, too few to leave to a fast hash if the database and the secret key leak together.
`lookup` is a short keyed fingerprint (no part of the code) that picks the one stored code to verify, so a
sign-in with a backup code still costs one argon2id verification. Codes made before keep their HMAC (lookup
NULL) and work until used or replaced."""
from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.alter_column_type("backup_codes", "code_hash", CharField(max_length=200)),
        migrator.add_column("backup_codes", "lookup", CharField(max_length=8, null=True)),
    )
    db.execute_sql("CREATE INDEX backup_codes_user_lookup ON backup_codes (user_id, lookup)")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS backup_codes_user_lookup")
    migrator.migrate(migrator.drop_column("backup_codes", "lookup"))
