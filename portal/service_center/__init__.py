"""Blueprint for Service Center staff (the operator): users of all companies, help for a company's last Company Administrator."""
from flask import Blueprint

bp = Blueprint("service_center", __name__, url_prefix="/service-center")

from portal.service_center import views  # noqa: E402,F401
