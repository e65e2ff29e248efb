"""Blueprint for the signed-in person: home page (profile and settings come with later issues)."""
from flask import Blueprint

bp = Blueprint("account", __name__)

from portal.account import views  # noqa: E402,F401
