"""Ways back in: backup code, lost device, Forgot ID, New Password. Links change nothing until a POST."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.auth import bp, state
from portal.auth.forms import (
    BackupCodeForm,
    ConfirmForm,
    ForgotIdForm,
    NewPasswordForm,
    NewPasswordRequestForm,
    RecoverForm,
)
from portal.auth.views import pending_required, second_factor
from portal.infrastructure import links
from portal.ratelimits import by_email, by_link, by_session, by_user_id, limited
from portal.services import recovery
from portal.web import client_ip, service_errors, user_agent

FORGOT_ID_SENT = _l("If the address is registered, the User ID has been e-mailed to it. "
                    "If no e-mail arrives, the address is not registered, or your mail system blocks our mail.")
NEW_PASSWORD_SENT = _l("If that User ID exists, we have sent an e-mail to the address registered for it, "
                       "with a link to set a new password or the reason why there is none.")


@bp.route("/sign-in/backup-code", methods=["GET", "POST"])
@limited("RATE_LIMIT_CODE", by_session)
@pending_required
def use_backup_code(pending):
    return second_factor(pending, BackupCodeForm(), recovery.use_backup_code, "auth/backup_code.html",
                         "auth/_backup_code.html")


@bp.route("/sign-in/lost-device", methods=["GET", "POST"])
@limited("RATE_LIMIT_RECOVERY_MAIL", by_session)
@pending_required
def send_recovery_link(pending):
    """POST mails the link, then redirects (a reload must not send another link and void the first)."""
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        with service_errors():
            recovery.send_recovery_link(pending, client_ip())
            session[state.RECOVERY_LINK_SENT_KEY] = True
            return redirect(url_for("auth.send_recovery_link"), 303)
        return redirect(url_for("auth.verify_code"), 303)
    if not session.get(state.RECOVERY_LINK_SENT_KEY):
        return redirect(url_for("auth.verify_code"), 303)
    return render_template("auth/recovery_sent.html", lifetime=links.lifetime_words(links.RECOVERY))


@bp.route("/recover/<token>", methods=["GET", "POST"])
@limited("RATE_LIMIT_LINK", by_link)
def recover(token):
    user = recovery.recovery_user(token)
    pending = state.pending()
    ask_password = pending is None or pending.user_id != user.id
    form = RecoverForm()
    if form.validate_on_submit():
        with service_errors(form, "password"):
            started = recovery.recover(token, pending, form.password.data, client_ip(), user_agent(),
                                       state.browser())
            state.begin(started)
            flash(_("Your old authenticator has been removed. Register your new one now."), "info")
            return redirect(url_for("auth.enroll_authenticator"), 303)
    return render_template("auth/recover.html", form=form, user=user, ask_password=ask_password)


@bp.route("/forgot-id", methods=["GET", "POST"])
@limited("RATE_LIMIT_FORGOT_ID", by_email)
def forgot_id():
    form = ForgotIdForm()
    if form.validate_on_submit():
        with service_errors(form, "email"):
            recovery.forgot_id(form.email.data)
            return render_template("auth/request_sent.html", title=_("Forgot ID"), message=FORGOT_ID_SENT)
    return render_template("auth/forgot_id.html", form=form)


@bp.route("/new-password", methods=["GET", "POST"])
@limited("RATE_LIMIT_NEW_PASSWORD", by_user_id)
def request_new_password():
    form = NewPasswordRequestForm()
    if form.validate_on_submit():
        recovery.request_new_password(form.user_id.data, client_ip())
        return render_template("auth/request_sent.html", title=_("New Password"), message=NEW_PASSWORD_SENT)
    return render_template("auth/new_password.html", form=form)


@bp.route("/new-password/<token>", methods=["GET", "POST"])
@limited("RATE_LIMIT_LINK", by_link)
def set_new_password(token):
    link = recovery.reset_link(token)
    form = NewPasswordForm(policy_user=link.user)
    welcome = link.purpose == links.WELCOME
    if form.validate_on_submit():
        with service_errors(form, "password"):
            recovery.set_new_password(token, form.password.data, client_ip())
            state.end()
            flash(_("Your password is saved. Sign in now: first you register your authenticator app.") if welcome else
                  _("Your password has been changed. Sign in with it and a code from your authenticator app."), "info")
            return redirect(url_for("auth.sign_in"), 303)
    return render_template("auth/set_new_password.html", form=form, user=link.user, welcome=welcome)
