"""Public blueprint: the page where a contact person activates or declines, signed in or not."""
from flask import Blueprint

bp = Blueprint("contacts", __name__)

from portal.contacts import views  # noqa: E402,F401
