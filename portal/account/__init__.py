"""Blueprint for the signed-in person: home, profile, Terms of Use, personal settings, security, sessions."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import application_views, passkey_views, security_views, views  # noqa: E402,F401
