"""Blueprint for signing in and out: password, authenticator enrollment, code step."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import passkey_views, recovery_views, views  # noqa: E402,F401  (registers the routes)
