"""Administration forms: shape of input only. Role choices never include the Service Center."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal import clock, i18n
from portal.models import CONTACT_STATUSES, ROLE_LABELS
from portal.services import accounts
from portal.services.admin import ADMIN_ROLES
from portal.services.user_search import SORTS, filter_labels
from portal.validation import Rule

EMAIL = [DataRequired(_l("Enter the e-mail address.")), Length(max=254), Rule(accounts.clean_email)]
FIRST_NAME = [DataRequired(_l("Enter the first name.")), Length(max=200), Rule(accounts.clean_first_name)]
LAST_NAME = [DataRequired(_l("Enter the last name.")), Length(max=200), Rule(accounts.clean_last_name)]
PHONE = [Length(max=200), Rule(accounts.clean_phone)]
USER_ID = [DataRequired(_l("Enter a User ID.")), Length(max=200), Rule(accounts.clean_user_id)]
# Dates are typed as ISO in every language (a date picker or a locale's own order would make 03/04 ambiguous).
DATE_HINT = _l("Enter the date as year-month-day, for example 2027-03-31.")


def _valid_until(value):
    accounts.check_valid_until(value, clock.today())

ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ADMIN_ROLES]


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class SearchForm(FlaskForm):
    """A GET form: bookmarkable, and changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100)],
                    render_kw={"autocomplete": "off", "spellcheck": "false", "type": "search"})
    status = SelectField(_l("Show"), default="")
    sort = SelectField(_l("Sort by"), choices=_choices(SORTS), default="user_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = _choices(filter_labels())  # "Expiring within N days" as configured


# Made before the fields below, so that forms list it first, as their pages show it.
USER_ID_FIELD = StringField(_l("User ID"), validators=USER_ID, render_kw={"autocapitalize": "none", "spellcheck": "false"})


class PersonFields:
    """A person's name, e-mail address and phone, as every form of a user asks for them (WTForms gathers the
    fields of mixins too)."""

    first_name = StringField(_l("First name"), validators=FIRST_NAME)
    last_name = StringField(_l("Last name"), validators=LAST_NAME)
    email = StringField(_l("E-mail address"), validators=EMAIL, render_kw={"type": "email"})
    phone = StringField(_l("Phone"), validators=PHONE, render_kw={"type": "tel"})


class UserDetailsForm(PersonFields, FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))
    valid_until = DateField(_l("Valid Until"), validators=[InputRequired(DATE_HINT), Rule(_valid_until)],
                            invalid_value_message=DATE_HINT, description=DATE_HINT,
                            render_kw={"placeholder": "YYYY-MM-DD"})
    confirmed = HiddenField()


class LanguageField(SelectField):
    """The language of a person's mails (a new user until they choose on Profile; a contact person), by its own
    name, the page's language first chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(i18n.LANGUAGE_LABEL, validators=[Rule(accounts.clean_language)], validate_choice=False,
                         default=i18n.current, **kwargs)


def _with_languages(form):
    from portal.account.forms import language_choices

    form.language.choices = language_choices()


class NewPersonFields(PersonFields):
    """A new user with a User ID and the language of their welcome mail: New user, and the Service Center's First
    Company Administrator."""

    user_id = USER_ID_FIELD
    language = LanguageField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_languages(self)


class NewUserForm(NewPersonFields, UserDetailsForm):
    active = None  # a new user is active; Active is changed on the user's page afterwards
    valid_until = DateField(_l("Valid Until"), validators=[Optional(), Rule(_valid_until)],
                            invalid_value_message=DATE_HINT, description=DATE_HINT,
                            render_kw={"placeholder": "YYYY-MM-DD"})


class ActionForm(FlaskForm):
    confirmed = HiddenField()


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField(_l("User ID"), validators=[Length(max=64)])
    event = StringField(_l("Event"), validators=[Length(max=50)])
    since = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_HINT,
                      render_kw={"placeholder": "YYYY-MM-DD"})
    until = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_HINT,
                      render_kw={"placeholder": "YYYY-MM-DD"})


class ContactSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Length(max=100)], render_kw={"type": "search", "autocomplete": "off"})
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("All"))] + _choices(CONTACT_STATUSES), default="")


class ContactForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=FIRST_NAME)
    last_name = StringField(_l("Last name"), validators=LAST_NAME)
    email = StringField(_l("E-mail address"), validators=EMAIL, render_kw={"type": "email"})
    phone = StringField(_l("Phone"), validators=PHONE, render_kw={"type": "tel"})
    department = StringField(_l("Department"), validators=[Length(max=100)])
    language = LanguageField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_languages(self)
