"""The provider's endpoints. The authorization endpoint hands a person who is not signed in to Portal's own
sign-in (with a safe `next`) and resumes afterwards; it never repeats a sign-in step itself.

After a form POST (sign-in, consent, logout confirmation) the way to the application goes through a page of
ours that moves on by itself (<meta http-equiv="refresh">, with a link): browsers apply the page's CSP
form-action 'self' to every redirect that follows a form, so a 302 to the application would be blocked."""
from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.auth import state
from portal.extensions import csrf
from portal.oidc import bp, discovery, server
from portal.ratelimits import by_client, limited, retry_after_seconds
from portal.services import oidc
from portal.web import client_ip, error_page


def _server():
    return current_app.extensions["portal_oidc_server"]


PAGES = ("oidc.authorize", "oidc.resume", "oidc.sign_in_again", "oidc.end_session")
FREE_TEXT = ("login_hint", "ui_locales", "csrf_token", "decision", "confirm")


@bp.before_request
def _ascii_parameters_only():
    """OAuth's parameters are printable ASCII (RFC 6749, appendix A); anything else is refused before Authlib,
    which would put it into an error description, sees it."""
    values = [v for k, v in request.values.items(multi=True) if k not in FREE_TEXT]
    if all(v.isascii() and v.isprintable() for v in values):
        return None
    if request.endpoint in PAGES:
        return error_page(400, _("The application's request holds characters that no request to Portal may hold. "
                                 "Go back to the application and try again, or tell its operator."))
    return jsonify(error="invalid_request", error_description="Parameters must be printable ASCII."), 400


@bp.route("/.well-known/openid-configuration")
def configuration():
    return _public_json(discovery.metadata())


@bp.route("/oidc/jwks")
def jwks():
    return _public_json(discovery.jwks())


def _public_json(document: dict):
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents; browser-based applications read them
    return response


@bp.route("/oidc/authorize", methods=["GET", "POST"])
def authorize():
    signed_in = state.active()
    try:
        grant = _server().get_consent_grant(end_user=signed_in.user if signed_in else None)
        _refuse_request_objects(grant)
        return _decide(grant, signed_in)
    except OAuth2Error as error:
        return _error(error)


def _refuse_request_objects(grant) -> None:
    """Request objects (JAR) are not supported: said to the application, as OpenID Connect asks."""
    if "request" in request.args:
        raise RequestNotSupportedError(redirect_uri=grant.redirect_uri)
    if "request_uri" in request.args:
        raise RequestURINotSupportedError(redirect_uri=grant.redirect_uri)


def _decide(grant, signed_in):
    """Sign in, ask for consent or answer: what the request (prompt, max_age) and the person's state call for."""
    args = request.args
    prompts = set((args.get("prompt") or "").split())
    none = "none" in prompts
    if signed_in is None or "login" in prompts or _too_old(signed_in, args.get("max_age")):
        if none:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        return _sign_in_first(grant, signed_in)
    client, scope = grant.client, grant.request.scope
    if request.method == "POST":
        return _answer_consent(grant, signed_in)
    if oidc.needs_consent(signed_in.user, client, scope, asked="consent" in prompts):
        if none:
            raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
        return render_template("oidc/consent.html", client=client, scope=oidc.describe_scope(scope),
                               action=request.full_path)
    return _server().create_authorization_response(grant=grant, grant_user=signed_in.user)


def _too_old(signed_in, max_age: str | None) -> bool:
    if max_age is None:
        return False
    if not max_age.isdigit():
        raise InvalidRequestError("max_age must be a number of seconds.")
    return oidc.seconds_since_sign_in(signed_in) > int(max_age)


def _sign_in_first(grant, signed_in):
    """A new sign-in through Portal's own pages, then back here. Someone signed in (prompt=login, max_age) is
    asked first: Portal's sign-in starts from nothing, so the session ends, and a link alone must not end it."""
    query = urlencode(_without_forced(request.args))
    if signed_in is not None:
        return render_template("oidc/sign_in_again.html", client=grant.client,
                               action=url_for("oidc.sign_in_again") + "?" + query)
    return _to_sign_in(query)


def _without_forced(args) -> list[tuple[str, str]]:
    """The request to resume after the sign-in that prompt=login or max_age forced: they are satisfied by it
    (the ID token's auth_time says when it was), and asking again would send the person round in a loop."""
    kept = []
    for key, value in args.items(multi=True):
        if key == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
        if key != "max_age" and value:
            kept.append((key, value))
    return kept


def _to_sign_in(query: str):
    hint = request.args.get("login_hint")
    return redirect(url_for("auth.sign_in", next=url_for("oidc.resume") + "?" + query,
                            **({"user_id": hint[:200]} if hint else {})), 303)


@bp.route("/oidc/authorize/sign-in-again", methods=["POST"])
def sign_in_again():
    """The person agreed to sign in again for the application (the form's CSRF token was checked)."""
    state.end()
    return _to_sign_in(request.query_string.decode("ascii", "replace"))


@bp.route("/oidc/authorize/continue")
def resume():
    """Back from the sign-in: on to the authorization endpoint, without a redirect that follows a form."""
    return _onward(url_for("oidc.authorize") + "?" + request.query_string.decode("ascii", "replace"))


def _onward(location: str, status: int = 200):
    return render_template("oidc/onward.html", location=location), status


def _answer_consent(grant, signed_in):
    """The consent form's answer (its CSRF token was checked by CSRFProtect, as on every form)."""
    if request.form.get("decision") == "allow":
        oidc.give_consent(signed_in.user, grant.client, grant.request.scope, client_ip())
        response = _server().create_authorization_response(grant=grant, grant_user=signed_in.user)
    else:
        response = _server().create_authorization_response(grant=grant, grant_user=None)  # access_denied
    return _onward(response.location)


def _error(error: OAuth2Error):
    """To the application when its redirect_uri was checked; otherwise a page of ours, never a redirect."""
    if error.redirect_uri:
        response = server.with_issuer(_server().handle_error_response(None, error))
        return response if request.method == "GET" else _onward(response.location)
    message = error.description or _("The application sent a request Portal cannot accept.")
    return error_page(400, _("The application's sign-in request cannot be used: %(reason)s Go back to the "
                             "application and try again, or tell its operator.", reason=message))


@bp.errorhandler(429)
def _too_many_requests(_error):
    """Applications get JSON, with Retry-After, from the endpoints they call."""
    seconds = retry_after_seconds()
    response = jsonify(error="temporarily_unavailable", error_description=f"Too many requests; retry in {seconds} s.")
    response.status_code, response.headers["Retry-After"] = 429, str(seconds)
    return response


@bp.route("/oidc/token", methods=["POST"])
@csrf.exempt
@limited("RATE_LIMIT_TOKEN", by_client)
def token():
    return _server().create_token_response()


@bp.route("/oidc/revoke", methods=["POST"])
@csrf.exempt
@limited("RATE_LIMIT_TOKEN", by_client)
def revoke():
    return _server().create_endpoint_response("revocation")


@bp.route("/oidc/introspect", methods=["POST"])
@csrf.exempt
@limited("RATE_LIMIT_TOKEN", by_client)
def introspect():
    return _server().create_endpoint_response("introspection")


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    return _server().create_endpoint_response("userinfo")


@bp.route("/oidc/logout", methods=["GET", "POST"])
@csrf.exempt  # applications may POST here; our own confirmation form is checked below
def end_session():
    try:
        logout = _server().validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return error_page(400, _("The sign-out request cannot be used: %(reason)s.",
                                 reason=error.description or error.error))
    signed_in = state.active()
    confirmed = request.method == "POST" and "confirm" in request.form
    if confirmed:
        csrf.protect()  # our confirmation form: a CSRF error page without its token
    elif signed_in is not None and not oidc.issued_in((logout.id_token_claims or {}).get("sid"), signed_in):
        return render_template("oidc/logout.html", client=logout.client, action=request.full_path)
    response = _server().create_endpoint_response("end_session", logout)
    if response is not None:
        return _onward(response.location) if confirmed else response
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.sign_in"), 303)

