"""Security page: adding and removing passkeys and security keys, each after the fresh password-and-code
confirmation that changing one's second factor needs."""
from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.account import bp
from portal.account.forms import PasskeyNameForm, VersionForm
from portal.auth import state
from portal.guards import confirm_first
from portal.ratelimits import by_session, limited
from portal.services import NotFound, ServiceError, passkeys, reauth
from portal.web import client_ip, service_errors


def _security_page():
    return redirect(url_for("account.security"), 303)


@bp.route("/security/passkeys/new", methods=["GET", "POST"])
@login_required
@limited("RATE_LIMIT_REAUTH", by_session)
def add_passkey():
    """The page that names and makes a new passkey; its answer comes back here. A form without an answer (kept
    while the person confirmed it was them) shows the page again with the name filled in."""
    if not passkeys.available():
        flash(str(passkeys.UNAVAILABLE), "error")
        return _security_page()
    if not reauth.is_fresh(state.active()):
        return confirm_first(reauth.NEEDS_REAUTH)
    form = PasskeyNameForm()
    if form.is_submitted() and form.credential.data and form.validate():
        with service_errors(form):
            name = passkeys.add(state.active(), form.name.data, form.credential.data, client_ip()).name
            flash(_("Your passkey \u201c%(name)s\u201d was added. You can use it instead of a code when you sign in.",
                    name=name), "info")
            return _security_page()
    return render_template("account/add_passkey.html", form=form)


@bp.route("/security/passkeys/options", methods=["POST"])
@login_required
@limited("RATE_LIMIT_REAUTH", by_session)
def passkey_registration_options():
    """Options for navigator.credentials.create() (JSON); without a fresh confirmation the page is loaded again,
    which asks for it."""
    if not reauth.is_fresh(state.active()):
        return jsonify(error=str(reauth.NEEDS_REAUTH), reload=True), 403
    try:
        return Response(passkeys.registration_options(state.active(), request.form.get("name", "")),
                        mimetype="application/json")
    except ServiceError as error:
        return jsonify(error=error.message), 400


@bp.route("/security/passkeys/<int:passkey_id>/remove", methods=["GET", "POST"])
@login_required
def remove_passkey(passkey_id):
    try:
        passkey = passkeys.own(current_user, passkey_id)
    except NotFound:
        abort(404)
    if request.method == "POST" and not VersionForm().validate_on_submit():
        return _security_page()
    if not reauth.is_fresh(state.active()):
        return confirm_first(reauth.NEEDS_REAUTH)
    if request.method == "GET" or request.form.get("confirmed") != "yes":
        return render_template("confirm.html", form=VersionForm(), subject=f"\u201c{passkey.name}\u201d",
                               title=_("Remove passkey"), confirm_value="yes", danger=True,
                               explanation=_("This passkey or security key can no longer sign you in. Your "
                                             "authenticator app, your backup codes and your other passkeys stay."),
                               cancel_url=url_for("account.security"))
    try:
        name = passkeys.remove(state.active(), passkey.id, client_ip())
    except NotFound:  # removed in another tab meanwhile
        abort(404)
    flash(_("Your passkey \u201c%(name)s\u201d was removed.", name=name), "info")
    return _security_page()
