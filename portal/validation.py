"""Form validators that ask the services' own checks, so that a form shows every problem at once (the GOV.UK
way) while each rule stays written once, in the service that enforces it."""
from __future__ import annotations

from wtforms.validators import StopValidation

from portal.services import ServiceError


class Rule:
    """Runs `check(value)` (a service's cleaner) on a field that has a value; its ServiceError becomes the field's
    error. Empty fields are left to DataRequired / Optional, which say what is missing."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        if field.data in (None, ""):
            return
        try:
            self.check(field.data)
        except ServiceError as error:
            raise StopValidation(error.message) from None


def password_policy(form, field):
    """The password policy for the person the form is for (`form.policy_user`: context words are theirs)."""
    from portal.services import accounts

    user = getattr(form, "policy_user", None)
    if user is not None and field.data:
        Rule(lambda value: accounts.check_password_policy(user, value))(form, field)
