"""Forms of the signed-in person's pages: shape of input only."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.forms import CodeForm, NewPasswordFields

_MAX_PASSWORD = 4096


class DetailsForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter your first name."), Length(max=100)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", validators=[DataRequired("Enter your last name."), Length(max=100)],
                            render_kw={"autocomplete": "family-name"})
    phone = StringField("Phone", validators=[Length(max=50)], render_kw={"autocomplete": "tel", "type": "tel"})


class CurrentPasswordMixin:
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                      Length(max=_MAX_PASSWORD)],
                                      render_kw={"autocomplete": "current-password"})


class EmailForm(CurrentPasswordMixin, CodeForm):
    """A new address: the current password and a code first (a stolen session must not redirect the mail)."""

    email = StringField("New e-mail address", validators=[DataRequired("Enter the new address."), Length(max=254)],
                        render_kw={"autocomplete": "email", "type": "email"})


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordFields, CodeForm):
    """The current password and a code, then the new password twice."""


class ReauthForm(CodeForm):
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


class VersionForm(FlaskForm):
    """Accepting or choosing about a text: the version read is sent back, so a newer text asks again."""

    version = HiddenField()


class ConfirmEmailForm(FlaskForm):
    """Confirming a new address from its mailbox; the password only when an administrator started the change."""

    password = PasswordField("Password", validators=[Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})
