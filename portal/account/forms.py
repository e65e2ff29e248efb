"""Forms of the signed-in person's pages: shape of input only."""
import functools
import itertools

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select, html_params

from portal import i18n
from portal.auth.forms import CodeForm, NewPasswordFields
from portal.services import accounts, passkeys
from portal.validation import Rule

_MAX_PASSWORD = 4096


def language_choices(empty=None) -> list[SelectChoice]:
    """Each language by its own name; first an empty choice when `empty` names what it means."""
    own = [SelectChoice(code, i18n.language_name(code)) for code in i18n.LANGUAGES]
    return ([SelectChoice("", empty)] if empty is not None else []) + own


@functools.cache
def _zones() -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(zone, zone) for zone in i18n.zone_choices())


def zone_choices() -> list[SelectChoice]:
    """IANA time zones by name (Europe/Berlin): the same in every language, and what people look for."""
    return list(_zones())


@functools.lru_cache(maxsize=1)
def _zone_options() -> str:
    return "".join(f'<option value="{escape(zone)}">{escape(zone)}</option>' for zone in i18n.zone_choices())


class ZoneSelect(Select):
    """A <select> of the ~440 time zones, as WTForms writes it, from options written once (writing them each time
    was three quarters of the Profile page); only the chosen one and the first, empty choice differ."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        chosen = field.data or ""
        first = list(itertools.takewhile(lambda c: c.value not in i18n.ZONE_SET, field.choices))  # before the zones
        head = "".join(f'<option {"selected " if c.value == chosen else ""}value="{escape(c.value)}">'
                       f"{escape(c.label)}</option>" for c in first)
        options = _zone_options()
        if chosen:
            options = options.replace(f'<option value="{escape(chosen)}">', f'<option selected value="{escape(chosen)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{head}{options}</select>")


class DetailsForm(FlaskForm):
    """Names, phone, and the language and time zone the person reads Portal in."""

    first_name = StringField(_l("First name"), validators=[DataRequired(_l("Enter your first name.")), Length(max=200),
                                                      Rule(accounts.clean_first_name)],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), validators=[DataRequired(_l("Enter your last name.")), Length(max=200),
                                                    Rule(accounts.clean_last_name)],
                            render_kw={"autocomplete": "family-name"})
    phone = StringField(_l("Phone"), validators=[Length(max=200), Rule(accounts.clean_phone)],
                        render_kw={"autocomplete": "tel", "type": "tel"})
    language = SelectField(i18n.LANGUAGE_LABEL, validators=[Rule(accounts.clean_language)], validate_choice=False)
    time_zone = SelectField(i18n.TIME_ZONE_LABEL, validators=[Rule(accounts.clean_time_zone)], validate_choice=False,
                            widget=ZoneSelect())

    def __init__(self, *args, company_zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices(i18n.BROWSER_LANGUAGE)
        self.time_zone.choices = [SelectChoice("", i18n.COMPANY_ZONE % {"zone": company_zone})] + zone_choices()


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


class PasskeyNameForm(FlaskForm):
    """A new passkey: its name, and the browser's answer once the device has made it (JSON)."""

    name = StringField(_l("Passkey name"), validators=[DataRequired(_l("Enter a name for the passkey.")), Length(max=200),
                                                   Rule(passkeys.clean_name)], render_kw={"autocomplete": "off"})
    credential = HiddenField(validators=[Length(max=64 * 1024)])
