"""Security page: the authenticator, backup codes and sessions of the signed-in person."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal import htmx
from portal.account import bp
from portal.account.forms import ReauthForm, VersionForm
from portal.auth import state
from portal.guards import confirm_first
from portal.ratelimits import by_session, limited
from portal.services import (
    mfa,
    mfa_settings,
    passkeys,
    reauth,
)
from portal.web import client_ip, safe_next, service_errors


@bp.route("/security")
@login_required
def security():
    return render_template("account/security.html", authenticator=mfa.authenticator_of(current_user),
                           codes_left=mfa.backup_codes_left(current_user), form=VersionForm(),
                           fresh=reauth.is_fresh(state.active()), passkeys=passkeys.of_user(current_user),
                           passkeys_work=passkeys.available())


@bp.route("/security/confirm", methods=["GET", "POST"])
@login_required
@limited("RATE_LIMIT_REAUTH", by_session)
def reauthenticate():
    """Enter password and code again before a sensitive change."""
    form = ReauthForm()
    next_url = safe_next(request.args.get("next")) or url_for("account.security")
    if form.validate_on_submit():
        with service_errors(form, "code"):
            reauth.reauthenticate(state.active(), form.password.data, form.code.data, client_ip(), state.browser())
            kept = reauth.take_action(state.active(), next_url)
            if kept:  # what the person sent before they were asked: sent again now, as it was
                return render_template("account/continue.html", kept=kept, form=VersionForm())
            return htmx.redirect(next_url)
    return render_template("account/reauthenticate.html", form=form, next_url=next_url)


def _needs_reauth():
    return confirm_first(reauth.NEEDS_REAUTH)


@bp.route("/security/replace-authenticator", methods=["POST"])
@login_required
def replace_authenticator():
    if not VersionForm().validate_on_submit():
        return redirect(url_for("account.security"), 303)
    if not reauth.is_fresh(state.active()):
        return _needs_reauth()
    if request.form.get("confirmed") != "yes":
        return render_template("confirm.html", form=VersionForm(), subject=_("your authenticator"),
                               title=_("Delete OTP and register a new one"), confirm_value="yes", danger=True,
                               explanation=_("Your authenticator app and all your backup codes stop working at once, "
                                             "your other sessions end, and you register a new app right away. Your "
                                             "passkeys and security keys stay."),
                               cancel_url=url_for("account.security"))
    started = mfa_settings.replace_authenticator(state.active(), client_ip())
    state.begin(started)
    flash(_("Your authenticator and backup codes were deleted. Register your new authenticator now."), "info")
    return redirect(url_for("auth.enroll_authenticator"), 303)


@bp.route("/security/new-backup-codes", methods=["POST"])
@login_required
def new_backup_codes():
    if not VersionForm().validate_on_submit():
        return redirect(url_for("account.security"), 303)
    if not reauth.is_fresh(state.active()):
        return _needs_reauth()
    mfa_settings.new_backup_codes(state.active(), client_ip())
    return redirect(url_for("auth.backup_codes"), 303)


@bp.route("/sessions")
@login_required
def sessions_page():
    return render_template("account/sessions.html", sessions=mfa_settings.own_sessions(current_user, state.active()),
                           current_id=state.active().id, form=VersionForm(), in_words=mfa_settings.browser_in_words)


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id):
    if VersionForm().validate_on_submit():
        mfa_settings.end_own_session(current_user, session_id)
        flash(_("That session has been signed out."), "info")
    return htmx.redirect(url_for("account.sessions_page"))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    if VersionForm().validate_on_submit():
        count = mfa_settings.end_other_sessions(state.active())
        flash(ngettext("%(num)s other session signed out.", "%(num)s other sessions signed out.", count), "info")
    return htmx.redirect(url_for("account.sessions_page"))
