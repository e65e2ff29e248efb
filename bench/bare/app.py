"""The reference page of bench/pages.py: a bare Flask app, one Jinja template with a Flask-WTF form of two fields
and a CSRF token, nothing else (no database, no log line, no extra headers).

    gunicorn --chdir bench/bare app:app
"""
import os

from flask import Flask, redirect, render_template
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("BARE_SECRET_KEY", "bench-only-secret")


class SignInForm(FlaskForm):
    user_id = StringField("User ID", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@app.route("/", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        return redirect("/", 303)
    return render_template("form.html", form=form)


@app.route("/healthz")
def healthz():
    return {"status": "ok"}
