"""The sign-in's passkey steps: options for the browser (JSON, asked for by static/js/passkeys.js) and the
browser's answer, sent back as a plain form POST. Without JavaScript nobody sees them."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import htmx
from portal.auth import bp, state
from portal.auth.forms import CodeForm, PasskeyForm, SignInForm
from portal.auth.views import home_url, pending_required, verify_context
from portal.ratelimits import by_session, limited
from portal.services import (
    ServiceError,
    passkey_sign_in,
    passkeys,
    sessions,
)
from portal.web import client_ip, safe_next, service_errors, user_agent


@bp.record_once
def _template_globals(setup) -> None:
    setup.app.jinja_env.globals["passkeys_available"] = passkeys.available


def _options(make) -> Response:
    """JSON options for @simplewebauthn/browser, or {"error": ...} with a sentence for the page."""
    try:
        return Response(make(), mimetype="application/json")
    except ServiceError as error:
        return jsonify(error=error.message), 409


def _form_errors(form) -> list[str]:
    return [message for messages in form.errors.values() for message in messages]


@bp.route("/sign-in/passkey/options", methods=["POST"])
@limited("RATE_LIMIT_CODE", by_session)
@pending_required
def passkey_options(pending):
    return _options(lambda: passkey_sign_in.second_factor_options(pending))


@bp.route("/sign-in/passkey", methods=["POST"])
@limited("RATE_LIMIT_CODE", by_session)
@pending_required
def use_passkey(pending):
    """The second factor with a passkey: on success as after a code; otherwise the code step, saying why."""
    form, code_form = PasskeyForm(), CodeForm(formdata=None)
    if form.validate_on_submit():
        with service_errors(code_form):
            started = passkey_sign_in.verify_second_factor(pending, form.credential.data, client_ip())
            next_url = state.take_next()
            state.begin(started)
            return htmx.redirect(next_url or home_url())
    else:
        code_form.form_errors.extend(_form_errors(form))
    return htmx.render("auth/verify.html", "auth/_verify.html", form=code_form, **verify_context(pending))


@bp.route("/sign-in/passkey/start", methods=["POST"])
@limited("RATE_LIMIT_SIGN_IN", by_session)
def passkey_sign_in_options():
    if current_user.is_authenticated:
        return jsonify(error=_("You are already signed in."), reload=True), 409
    return _options(lambda: passkey_sign_in.sign_in_options(state.passkey_browser(new=True)))


@bp.route("/sign-in/with-passkey", methods=["POST"])
@limited("RATE_LIMIT_SIGN_IN", by_session)
def sign_in_with_passkey():
    """Sign in with a passkey alone (no User ID, no password); a refusal shows on the sign-in page."""
    if current_user.is_authenticated:
        return htmx.redirect(safe_next(request.args.get("next")) or home_url())
    form, sign_in_form = PasskeyForm(), SignInForm(formdata=None)
    if form.validate_on_submit():
        with service_errors(sign_in_form):
            started = passkey_sign_in.sign_in(state.passkey_browser(), form.credential.data, client_ip(),
                                              user_agent(), state.browser())
            sessions.end(state.pending())  # a password entered in this browser before has no use now
            state.begin(started)
            return htmx.redirect(safe_next(request.args.get("next")) or home_url())
    else:
        sign_in_form.form_errors.extend(_form_errors(form))
    return htmx.render("auth/sign_in.html", "auth/_sign_in.html", form=sign_in_form)
