"""Service Center forms: every action carries the ticket reference of the request."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class TicketForm(FlaskForm):
    ticket = StringField("Ticket reference", validators=[DataRequired("Enter the ticket reference."), Length(max=50)])
    confirmed = HiddenField()


class CompanyForm(TicketForm):
    name = StringField("Company name", validators=[DataRequired("Enter the company name."), Length(max=200)])


class FirstAdminForm(TicketForm):
    user_id = StringField("User ID", validators=[DataRequired("Enter a User ID."), Length(max=64)],
                          render_kw={"autocapitalize": "none", "spellcheck": "false"})
    first_name = StringField("First name", validators=[DataRequired("Enter the first name."), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired("Enter the last name."), Length(max=100)])
    email = StringField("E-mail address", validators=[DataRequired("Enter the e-mail address."), Length(max=254)],
                        render_kw={"type": "email"})
    phone = StringField("Phone", validators=[Length(max=50)], render_kw={"type": "tel"})
