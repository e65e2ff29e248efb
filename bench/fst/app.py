"""The reference of bench/signin.py: Flask-Security-Too with a TOTP authenticator required at every sign-in and
the argon2id parameters Portal uses (argon2-cffi defaults: t=3, m=64 MiB, p=4), on SQLite through
Flask-SQLAlchemy. It runs in a virtualenv of its own (bench/fst/requirements.txt), never in Portal's.

    FST_DATABASE=/tmp/x/fst.db FST_SECRET_KEY=... FST_TOTP_KEY=... gunicorn --chdir bench/fst app:app
    flask --app app seed COUNT OUTFILE     # users with one password and a TOTP secret each: "email base32" lines

Sign-in: GET /login, POST /login (email, password), GET /tf-validate, POST /tf-validate (code), GET /.
"""
import os
import sys

import click
from flask import Flask, render_template_string
from flask_security import Security, SQLAlchemyUserDatastore, auth_required, current_user, hash_password
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy

PASSWORD = "Quiet-Lantern-Harbor-93"  # the same as Portal's benchmark users

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["FST_SECRET_KEY"],
    SECURITY_PASSWORD_SALT=os.environ["FST_SECRET_KEY"][:22],
    SQLALCHEMY_DATABASE_URI="sqlite:///" + os.environ["FST_DATABASE"],
    SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 10}},
    SECURITY_PASSWORD_HASH="argon2",
    SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={"argon2__rounds": 3, "argon2__memory_cost": 65536,
                                            "argon2__parallelism": 4},
    SECURITY_TWO_FACTOR=True,
    SECURITY_TWO_FACTOR_REQUIRED=True,
    SECURITY_TWO_FACTOR_ENABLED_METHODS=["authenticator"],
    SECURITY_TWO_FACTOR_ALWAYS_VALIDATE=True,
    SECURITY_TOTP_SECRETS={"1": os.environ["FST_TOTP_KEY"]},
    SECURITY_TOTP_ISSUER="Bench",
)
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


datastore = SQLAlchemyUserDatastore(db, User, Role)
security = Security(app, datastore)

HOME = "<!doctype html><title>Home</title><main><h1>Signed in</h1><p>{{ current_user.email }}</p></main>"


@app.route("/")
@auth_required("session")
def home():
    return render_template_string(HOME, current_user=current_user)


@app.route("/healthz")
def healthz():
    return {"status": "ok"}


@app.cli.command("seed")
@click.argument("count", type=int)
@click.argument("outfile", type=click.File("w"))
def seed(count, outfile):
    """Create the tables and COUNT users with one password hash and an authenticator each."""
    with app.app_context():
        db.create_all()
        password_hash = hash_password(PASSWORD)  # once, at the production parameters
        factory = security._totp_factory
        for n in range(count):
            secret = factory.generate_totp_secret()
            email = f"fst-{n:05d}@bench.example"
            datastore.create_user(email=email, password=password_hash, tf_primary_method="authenticator",
                                  tf_totp_secret=secret, confirmed_at=None)
            outfile.write(f"{email} {factory.get_totp_b32_key(secret)}\n")
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
    print(f"{count} users", file=sys.stderr)
