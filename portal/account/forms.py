"""Forms of the signed-in person's pages: shape of input only."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.forms import CodeForm, NewPasswordFields
from portal.services import accounts, passkeys
from portal.validation import Rule

_MAX_PASSWORD = 4096


class DetailsForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter your first name."), Length(max=200),
                                                      Rule(accounts.clean_first_name)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", validators=[DataRequired("Enter your last name."), Length(max=200),
                                                    Rule(accounts.clean_last_name)],
                            render_kw={"autocomplete": "family-name"})
    phone = StringField("Phone", validators=[Length(max=200), Rule(accounts.clean_phone)],
                        render_kw={"autocomplete": "tel", "type": "tel"})


class CurrentPasswordMixin:
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                      Length(max=_MAX_PASSWORD)],
                                      render_kw={"autocomplete": "current-password"})


class EmailForm(CurrentPasswordMixin, CodeForm):
    """A new address: the current password and a code first (a stolen session must not redirect the mail)."""

    email = StringField("New e-mail address", validators=[DataRequired("Enter the new address."), Length(max=254),
                                                          Rule(accounts.clean_email)],
                        render_kw={"autocomplete": "email", "type": "email"})


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordFields, CodeForm):
    """The current password and a code, then the new password twice (policy_user: the person changing it)."""

    def __init__(self, *args, policy_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_user = policy_user


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


class PasskeyNameForm(FlaskForm):
    """A new passkey: its name, and the browser's answer once the device has made it (JSON)."""

    name = StringField("Passkey name", validators=[DataRequired("Enter a name for the passkey."), Length(max=200),
                                                   Rule(passkeys.clean_name)], render_kw={"autocomplete": "off"})
    credential = HiddenField(validators=[Length(max=64 * 1024)])
