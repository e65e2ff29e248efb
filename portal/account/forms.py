"""Forms of the signed-in person's pages: shape of input only."""
from flask_wtf import FlaskForm
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.forms import CodeForm, NewPasswordFields
from portal.services import accounts
from portal.validation import Rule

_MAX_PASSWORD = 4096


class DetailsForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(_l("Enter your first name.")), Length(max=200),
                                                      Rule(accounts.clean_first_name)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), validators=[DataRequired(_l("Enter your last name.")), Length(max=200),
                                                    Rule(accounts.clean_last_name)],
                            render_kw={"autocomplete": "family-name"})
    phone = StringField(_l("Phone"), validators=[Length(max=200), Rule(accounts.clean_phone)],
                        render_kw={"autocomplete": "tel", "type": "tel"})


class CurrentPasswordMixin:
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                                      Length(max=_MAX_PASSWORD)],
                                      render_kw={"autocomplete": "current-password"})


class EmailForm(CurrentPasswordMixin, CodeForm):
    """A new address: the current password and a code first (a stolen session must not redirect the mail)."""

    email = StringField(_l("New e-mail address"), validators=[DataRequired(_l("Enter the new address.")), Length(max=254),
                                                          Rule(accounts.clean_email)],
                        render_kw={"autocomplete": "email", "type": "email"})


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordFields, CodeForm):
    """The current password and a code, then the new password twice (policy_user: the person changing it)."""

    def __init__(self, *args, policy_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_user = policy_user


class ReauthForm(CodeForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


class VersionForm(FlaskForm):
    """Accepting or choosing about a text: the version read is sent back, so a newer text asks again."""

    version = HiddenField()


class ConfirmEmailForm(FlaskForm):
    """Confirming a new address from its mailbox; the password only when an administrator started the change."""

    password = PasswordField(_l("Password"), validators=[Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})
