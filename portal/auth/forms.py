"""Sign-in forms: they check the shape of input only."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

# Long enough for any password the policy allows; the limit only stops abuse.
_MAX_PASSWORD = 4096


class SignInForm(FlaskForm):
    user_id = StringField("User ID", validators=[DataRequired("Enter your User ID."), Length(max=200)],
                          render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=_MAX_PASSWORD)],
                             render_kw={"autocomplete": "current-password"})


_CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none",
               "spellcheck": "false"}


class CodeForm(FlaskForm):
    code = StringField("Verification code", validators=[DataRequired("Enter the 6-digit code."), Length(max=20)],
                       render_kw=_CODE_ATTRS)


class EnrollForm(CodeForm):
    device_name = StringField("Device name", validators=[DataRequired("Enter a device name."), Length(max=200)],
                              render_kw={"autocomplete": "off"})


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""
