"""Connected applications: what the person allowed each application, and withdrawing it."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.account import bp
from portal.account.forms import VersionForm
from portal.services import oidc
from portal.web import client_ip


@bp.route("/applications")
@login_required
def connected_applications():
    consents = oidc.connected_applications(current_user)
    return render_template("account/applications.html", consents=consents, form=VersionForm(),
                           describe=oidc.describe_scope)


@bp.route("/applications/<client_id>/withdraw", methods=["POST"])
@login_required
def withdraw_consent(client_id):
    if VersionForm().validate_on_submit():
        client = oidc.withdraw_consent(current_user, client_id, client_ip())
        if client is not None:
            flash(_("%(name)s can no longer use your Portal sign-in. It asks you again next time.", name=client.name),
                  "info")
    return redirect(url_for("account.connected_applications"), 303)
