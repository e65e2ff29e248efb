"""Sign-in views: thin, one service call each; htmx gets fragments, browsers get pages."""
from __future__ import annotations

import functools

import qrcode
import qrcode.image.svg
from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from portal import htmx, i18n
from portal.auth import bp, state
from portal.auth.forms import CodeForm, ConfirmForm, EnrollForm, SignInForm
from portal.ratelimits import by_session, by_user_id, limited
from portal.security import totp
from portal.services import SignInRestart, mfa, passkeys, signin
from portal.web import client_ip, safe_next, service_errors, user_agent


def home_url() -> str:
    return url_for("account.home")


def _step_url(login_session) -> str:
    """Where a pending sign-in continues: enrollment when there is no authenticator yet."""
    return url_for("auth.verify_code" if mfa.has_authenticator(login_session.user) else "auth.enroll_authenticator")


def verify_context(pending) -> dict:
    """What the code step shows besides the code: the passkey button (seen only with JavaScript) for a person
    who has a passkey."""
    return {"passkey": passkeys.available() and passkeys.has_passkeys(pending.user_id)}


def restart(message: str):
    state.end()
    flash(str(message), "error")
    return htmx.redirect(url_for("auth.sign_in"))


@bp.app_errorhandler(SignInRestart)
def restart_sign_in(error: SignInRestart):
    """Wherever a service finds the sign-in (or the session) over: end it and start again at the sign-in page."""
    return restart(error.message)


def no_pending():
    message = state.ended_message()
    if message:
        flash(message, "error")
    return htmx.redirect(url_for("auth.sign_in"))


def pending_required(view):
    """A sign-in step: only with this browser's pending sign-in (password accepted, second factor not yet),
    which the view receives as its first argument."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        pending = state.pending()
        return no_pending() if pending is None else view(pending, *args, **kwargs)
    return wrapper


@bp.route("/sign-in", methods=["GET", "POST"])
@limited("RATE_LIMIT_SIGN_IN", by_user_id)
def sign_in():
    if current_user.is_authenticated:
        return htmx.redirect(safe_next(request.args.get("next")) or home_url())
    if request.method == "GET" and state.pending():
        return redirect(_step_url(state.pending()), 303)
    if request.method == "GET":  # the first page of every sign-in: the same for everybody but its CSRF token
        return htmx.render_once("auth/sign_in.html", "auth/_sign_in.html", lambda: {"form": _hinted_form()})
    form = SignInForm()
    if form.validate_on_submit():
        with service_errors(form):
            started = signin.start(form.user_id.data, form.password.data, client_ip(), user_agent(), state.browser())
            state.begin(started, safe_next(request.args.get("next")))
            return _second_step(started.login_session)
    return htmx.render("auth/sign_in.html", "auth/_sign_in.html", form=form)


def _hinted_form() -> SignInForm:
    """The sign-in form, with the User ID an application suggested (its login_hint) filled in."""
    form = SignInForm()
    if request.args.get("user_id"):
        form.user_id.data = request.args["user_id"][:200]
    return form


def _second_step(pending):
    """htmx swaps the code step in place of the password step; a browser is sent to its page."""
    url = _step_url(pending)
    if not htmx.is_fragment():
        return redirect(url, 303)
    if url == url_for("auth.enroll_authenticator"):
        return _enroll_page(pending, EnrollForm(formdata=None), push_url=url)
    return htmx.render("auth/verify.html", "auth/_verify.html", form=CodeForm(formdata=None), push_url=url,
                       **verify_context(pending))


@bp.route("/sign-in/verify", methods=["GET", "POST"])
@limited("RATE_LIMIT_CODE", by_session)
@pending_required
def verify_code(pending):
    if not mfa.has_authenticator(pending.user):
        return htmx.redirect(url_for("auth.enroll_authenticator"))
    return second_factor(pending, CodeForm(), mfa.verify, "auth/verify.html", "auth/_verify.html",
                         lambda: {"closed_notice": mfa.CODE_STEP_CLOSED if mfa.code_step_closed(pending.user_id)
                                  else None, **verify_context(pending)})


def second_factor(pending, form, check, page: str, fragment: str, context=dict):
    """A code step (authenticator code or backup code): check(pending, code, ip) completes the sign-in. context()
    gives what the page shows beside the form, read only when the page is shown (not for a code accepted)."""
    if form.validate_on_submit():
        with service_errors(form, "code"):
            started = check(pending, form.code.data, client_ip())
            next_url = state.take_next()
            state.begin(started)
            return htmx.redirect(next_url or home_url())
    return htmx.render(page, fragment, form=form, **context())


def _qr_svg(uri: str) -> Markup:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=4)
    svg = image.to_string(encoding="unicode")
    label = escape(_("QR code to scan with your authenticator app"))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="qr" ', 1))


def _enroll_page(pending, form, push_url=None):
    enrollment = mfa.enrollment_for(pending)
    return htmx.render("auth/enroll.html", "auth/_enroll.html", form=form, push_url=push_url,
                       qr_svg=_qr_svg(enrollment.uri), key_text=totp.grouped(enrollment.secret),
                       user_id=pending.user.user_id, renewed=enrollment.renewed, otpauth_uri=enrollment.uri)


@bp.route("/sign-in/enroll", methods=["GET", "POST"])
@limited("RATE_LIMIT_CODE", by_session)
@pending_required
def enroll_authenticator(pending):
    if mfa.has_authenticator(pending.user):
        return htmx.redirect(url_for("auth.verify_code"))
    form = EnrollForm()
    if form.validate_on_submit():
        with service_errors(form):
            started = mfa.confirm_enrollment(pending, form.device_name.data, form.code.data, client_ip())
            next_url = state.take_next()
            state.begin(started, next_url)
            return htmx.redirect(url_for("auth.backup_codes"))
    return _enroll_page(pending, form)


@bp.route("/sign-in/backup-codes", methods=["GET", "POST"])
def backup_codes():
    signed_in = state.active()
    if signed_in is None:
        return no_pending()
    form = ConfirmForm()
    if form.validate_on_submit():
        mfa.backup_codes_saved(signed_in)
        return htmx.redirect(state.take_next() or home_url())
    codes = mfa.backup_codes_to_show(signed_in)
    if not codes:
        return redirect(home_url(), 303)
    return htmx.render("auth/backup_codes.html", "auth/backup_codes.html", form=form, codes=codes,
                       first_codes=mfa.first_backup_codes(signed_in.user))


@bp.route("/sign-in/backup-codes.txt")
def download_backup_codes():
    signed_in = state.active()
    codes = mfa.backup_codes_to_show(signed_in) if signed_in else []
    if not codes:
        return redirect(url_for("auth.backup_codes"), 303)
    user = signed_in.user
    text = "\n".join([_("Backup codes for User ID %(user_id)s", user_id=user.user_id),
                      _("Each code can be used once, instead of a code from your authenticator app."), "",
                      *codes, ""])
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": 'attachment; filename="backup-codes.txt"'})


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    was_signed_in = current_user.is_authenticated
    language = i18n.current()  # the sign-in page after it stays in the language the person reads
    state.end()
    flash(_("You have been signed out.") if was_signed_in else _("Sign-in cancelled."), "info")
    response = htmx.redirect(url_for("auth.sign_in"))
    if was_signed_in and current_user.language:
        i18n.remember(response, language)
    return response
