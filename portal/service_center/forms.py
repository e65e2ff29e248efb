"""Service Center forms: every action carries the ticket reference of the request."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from portal.admin.forms import EMAIL, FIRST_NAME, LAST_NAME, PHONE, USER_ID
from portal.services import accounts
from portal.services.service_center import clean_ticket
from portal.validation import Rule


class TicketForm(FlaskForm):
    ticket = StringField("Ticket reference", validators=[DataRequired("Enter the ticket reference."), Length(max=200),
                                                         Rule(clean_ticket)])
    confirmed = HiddenField()


class CompanyForm(TicketForm):
    name = StringField("Company name", validators=[DataRequired("Enter the company name."), Length(max=200),
                                                   Rule(lambda name: accounts.clean_name(name, "the company name",
                                                                                         "name"))])


class FirstAdminForm(TicketForm):
    """The same fields as a new user (portal.admin.forms), and the ticket."""

    user_id = StringField("User ID", validators=USER_ID, render_kw={"autocapitalize": "none", "spellcheck": "false"})
    first_name = StringField("First name", validators=FIRST_NAME)
    last_name = StringField("Last name", validators=LAST_NAME)
    email = StringField("E-mail address", validators=EMAIL, render_kw={"type": "email"})
    phone = StringField("Phone", validators=PHONE, render_kw={"type": "tel"})
