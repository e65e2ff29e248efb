"""Views of the signed-in person."""
from flask import render_template
from flask_login import current_user, login_required

from portal.account import bp
from portal.auth import state
from portal.services import mfa


@bp.route("/")
@login_required
def home():
    codes_waiting = bool(mfa.backup_codes_to_show(state.active()))
    return render_template("account/home.html", user=current_user, company=current_user.company,
                           codes_waiting=codes_waiting)
