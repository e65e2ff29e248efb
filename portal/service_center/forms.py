"""Service Center forms: every action carries the ticket reference of the request."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal import i18n
from portal.account.forms import ZoneSelect, zone_choices
from portal.admin.forms import NewPersonFields
from portal.services import accounts
from portal.services.service_center import clean_ticket
from portal.validation import Rule


class TicketForm(FlaskForm):
    ticket = StringField(_l("Ticket reference"), validators=[DataRequired(_l("Enter the ticket reference.")), Length(max=200),
                                                         Rule(clean_ticket)])
    confirmed = HiddenField()


class CompanyForm(TicketForm):
    name = StringField(_l("Company name"), validators=[DataRequired(_l("Enter the company name.")), Length(max=200),
                                                   Rule(accounts.clean_name)])
    time_zone = SelectField(i18n.TIME_ZONE_LABEL, validators=[Rule(accounts.clean_time_zone)], validate_choice=False,
                            default="UTC", widget=ZoneSelect())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = zone_choices()


class FirstAdminForm(NewPersonFields, TicketForm):
    """The fields of a new user (portal.admin.forms), and the ticket."""
