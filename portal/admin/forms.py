"""Administration forms: shape of input only. Role choices never include the Service Center."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.models import CONTACT_STATUSES, ROLE_LABELS
from portal.services.admin import ADMIN_ROLES
from portal.services.user_search import SORTS, filter_labels

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
    email = StringField("E-mail address", validators=[DataRequired("Enter the e-mail address."), Length(max=254)],
                        render_kw={"type": "email"})
    first_name = StringField("First name", validators=[DataRequired("Enter the first name."), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired("Enter the last name."), Length(max=100)])
    phone = StringField("Phone", validators=[Length(max=50)], render_kw={"type": "tel"})
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    valid_until = DateField("Valid Until", validators=[DataRequired("Enter a date, such as 2027-03-31.")],
                            render_kw={"placeholder": "YYYY-MM-DD"})
    confirmed = HiddenField()


class NewUserForm(UserDetailsForm):
    user_id = StringField("User ID", validators=[DataRequired("Enter a User ID."), Length(max=64)],
                          render_kw={"autocapitalize": "none", "spellcheck": "false"})
    valid_until = DateField("Valid Until", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})


class ActionForm(FlaskForm):
    confirmed = HiddenField()


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    user = StringField("User ID", validators=[Length(max=64)])
    event = StringField("Event", validators=[Length(max=50)])
    since = DateField("From", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})
    until = DateField("To", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"})


class ContactSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", validators=[Length(max=100)], render_kw={"type": "search", "autocomplete": "off"})
    status = SelectField("Status", choices=[SelectChoice("", "All")] + _choices(CONTACT_STATUSES), default="")


class ContactForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter the first name."), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired("Enter the last name."), Length(max=100)])
    email = StringField("E-mail address", validators=[DataRequired("Enter the e-mail address."), Length(max=254)],
                        render_kw={"type": "email"})
    phone = StringField("Phone", validators=[Length(max=50)], render_kw={"type": "tel"})
    department = StringField("Department", validators=[Length(max=100)])
