"""Sign-in forms: they check the shape of input only."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.security import totp
from portal.services import ServiceError, accounts
from portal.services.mfa import clean_device_name
from portal.validation import Rule, password_policy

# Long enough for any password the policy allows; the limit only stops abuse.
_MAX_PASSWORD = 4096


class SignInForm(FlaskForm):
    user_id = StringField(_l("User ID"), validators=[DataRequired(_l("Enter your User ID.")), Length(max=200)],
                          render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none",
               "spellcheck": "false"}


def _six_digits(code: str) -> str:
    if not totp.looks_like_a_code(code):
        raise ServiceError(_("Enter the 6 digits your authenticator app shows, such as 123456."))
    return code


class CodeForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20),
                                                        Rule(_six_digits)], render_kw=_CODE_ATTRS)


class EnrollForm(CodeForm):
    device_name = StringField(_l("Device name"), validators=[DataRequired(_l("Enter a device name.")), Length(max=200),
                                                        Rule(clean_device_name)],
                              render_kw={"autocomplete": "off"})


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


class BackupCodeForm(FlaskForm):
    code = StringField(_l("Backup code"), validators=[DataRequired(_l("Enter one of your backup codes.")), Length(max=30)],
                       render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})


class RecoverForm(FlaskForm):
    """Following a recovery link; the password is asked only when this browser has no pending sign-in."""

    password = PasswordField(_l("Password"), validators=[Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


class ForgotIdForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254),
                                                      Rule(accounts.clean_email)],
                        render_kw={"autocomplete": "email", "type": "email"})


class NewPasswordRequestForm(FlaskForm):
    user_id = StringField(_l("User ID"), validators=[DataRequired(_l("Enter your User ID.")), Length(max=200)],
                          render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})


class NewPasswordFields:
    """A new password, typed twice (mixed into the forms that set one)."""

    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")),
                                                         Length(max=_MAX_PASSWORD), password_policy],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat new password"), validators=[DataRequired(_l("Repeat the new password.")),
                                                               EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class NewPasswordForm(NewPasswordFields, FlaskForm):
    """Setting a password through a mailed link (policy_user: the person the link is for)."""

    def __init__(self, *args, policy_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy_user = policy_user
