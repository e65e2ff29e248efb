"""Administration forms: shape of input only. Role choices never include the Service Center."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal import clock
from portal.models import CONTACT_STATUSES, ROLE_LABELS
from portal.services import accounts
from portal.services.admin import ADMIN_ROLES
from portal.services.user_search import SORTS, filter_labels
from portal.validation import Rule

EMAIL = [DataRequired("Enter the e-mail address."), Length(max=254), Rule(accounts.clean_email)]
FIRST_NAME = [DataRequired("Enter the first name."), Length(max=200), Rule(accounts.clean_first_name)]
LAST_NAME = [DataRequired("Enter the last name."), Length(max=200), Rule(accounts.clean_last_name)]
PHONE = [Length(max=200), Rule(accounts.clean_phone)]
USER_ID = [DataRequired("Enter a User ID."), Length(max=200), Rule(accounts.clean_user_id)]
DATE_HINT = "Enter a date as year-month-day, such as 2027-03-31."


def _valid_until(value):
    accounts.check_valid_until(value, clock.today())

ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ADMIN_ROLES]


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class SearchForm(FlaskForm):
    """A GET form: bookmarkable, and changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Length(max=100)],
                    render_kw={"autocomplete": "off", "spellcheck": "false", "type": "search"})
    status = SelectField("Show", default="")
    sort = SelectField("Sort by", choices=_choices(SORTS), default="user_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = _choices(filter_labels())  # "Expiring within N days" as configured


class UserDetailsForm(FlaskForm):
    email = StringField("E-mail address", validators=EMAIL, render_kw={"type": "email"})
    first_name = StringField("First name", validators=FIRST_NAME)
    last_name = StringField("Last name", validators=LAST_NAME)
    phone = StringField("Phone", validators=PHONE, render_kw={"type": "tel"})
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    valid_until = DateField("Valid Until", validators=[InputRequired(DATE_HINT), Rule(_valid_until)],
                            invalid_value_message=DATE_HINT, render_kw={"placeholder": "YYYY-MM-DD"})
    confirmed = HiddenField()


class NewUserForm(UserDetailsForm):
    active = None  # a new user is active; Active is changed on the user's page afterwards
    user_id = StringField("User ID", validators=USER_ID, render_kw={"autocapitalize": "none", "spellcheck": "false"})
    valid_until = DateField("Valid Until", validators=[Optional(), Rule(_valid_until)],
                            invalid_value_message=DATE_HINT, render_kw={"placeholder": "YYYY-MM-DD"})


class ActionForm(FlaskForm):
    confirmed = HiddenField()


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField("User ID", validators=[Length(max=64)])
    event = StringField("Event", validators=[Length(max=50)])
    since = DateField("From", validators=[Optional()], invalid_value_message=DATE_HINT,
                      render_kw={"placeholder": "YYYY-MM-DD"})
    until = DateField("To", validators=[Optional()], invalid_value_message=DATE_HINT,
                      render_kw={"placeholder": "YYYY-MM-DD"})


class ContactSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", validators=[Length(max=100)], render_kw={"type": "search", "autocomplete": "off"})
    status = SelectField("Status", choices=[SelectChoice("", "All")] + _choices(CONTACT_STATUSES), default="")


class ContactForm(FlaskForm):
    first_name = StringField("First name", validators=FIRST_NAME)
    last_name = StringField("Last name", validators=LAST_NAME)
    email = StringField("E-mail address", validators=EMAIL, render_kw={"type": "email"})
    phone = StringField("Phone", validators=PHONE, render_kw={"type": "tel"})
    department = StringField("Department", validators=[Length(max=100)])
