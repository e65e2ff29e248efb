"""Response headers, error pages and request helpers shared by every blueprint."""
from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import re
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from portal import fields, htmx, i18n, rendered
from portal.infrastructure import links
from portal.ratelimits import retry_after_seconds
from portal.services import LinkUnusable, NeedsConfirmation, ServiceError, SignInRestart

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

ERRORS = {
    400: (_l("The request could not be understood"), _l("Please go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"),
          _l("There is no page at this address. Check the address or start from the home page.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way. Start again from the home page.")),
    413: (_l("Too much data"), _l("What you sent is larger than this page accepts.")),
    429: (_l("Too many requests"), _l("Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again in a moment; "
                                         "nothing you saved before has been lost.")),
}
# werkzeug compares the description it was raised with: the English words are the mark, the page translates.
UNUSABLE_CHARACTER = ("What was sent holds a character that cannot be used here (such as a NUL character). "
                      "Please check what you entered and try again.")
UNUSABLE_CHARACTER_WORDS = _l("What was sent holds a character that cannot be used here (such as a NUL "
                              "character). Please check what you entered and try again.")
FORM_TOO_OLD = _l("This page was open for a long time, so for your safety it has been loaded again. "
                  "Please enter what you were entering once more.")
CSRF_MESSAGE = _l("This form has expired or was not sent from this site. "
                  "Please go back, reload the page and try again.")


def show_error(form, error, field: str | None = None) -> None:
    """Put a service's error message on the field it names, else on `field`, else above the form."""
    name = error.field or field
    target = getattr(form, name, None) if name else None
    (target.errors if target is not None else form.form_errors).append(error.message)


class Failure:
    error: ServiceError | None = None
    confirmation: str | None = None  # a NeedsConfirmation's question, for the view to ask


@contextlib.contextmanager
def service_errors(form=None, field: str | None = None):
    """The one shape of a view's call to a service. A ServiceError raised inside goes onto the form (see
    show_error) or, with no form, into a flashed message, and the view carries on after the block to show the
    page again; `as failure` keeps the error, and the question of a NeedsConfirmation, which is not shown as an
    error. SignInRestart passes (the auth blueprint answers it everywhere by ending the sign-in), and so does
    LinkUnusable (the page of an unusable link)."""
    failure = Failure()
    try:
        yield failure
    except (SignInRestart, LinkUnusable):
        raise
    except NeedsConfirmation as question:
        failure.error, failure.confirmation = question, question.message
    except ServiceError as error:
        failure.error = error
        if form is None:
            flash(error.message, "error")
        else:
            show_error(form, error, field)


def client_ip() -> str:
    return request.remote_addr or ""


def user_agent() -> str:
    return (request.user_agent.string or "")[:255]


def safe_next(value: str | None) -> str | None:
    """A local path to go to after sign-in, or None; refuses anything that could leave the site."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # same-origin: Portal's own pages send a Referer to Portal (Flask-WTF's HTTPS check of CSRF needs it), and
    # no other site ever gets one, so a link token in an address cannot leak to another site.
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_SECURITY_HEADER_NAMES = tuple(name.lower() for name, _value in SECURITY_HEADERS)


def _security_headers(response):
    headers = response.headers
    # Each unless the view set its own; one pass over the headers rather than one per name.
    present = set(headers.keys(lower=True))
    headers.extend([pair for pair, name in zip(SECURITY_HEADERS, _SECURITY_HEADER_NAMES) if name not in present])
    if current_app.config["HSTS"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # Pages may show personal data, codes or QR codes: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
    return response


def error_page(status: int, message: str | None = None):
    title, default = (str(words) for words in ERRORS.get(status, ERRORS[500]))
    message = str(message) if message else None
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message or default)
    except Exception:  # the page itself needs the database (who is signed in); say it plainly without
        current_app.logger.exception("error page could not be rendered")
        body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message or default}</p>"
    return htmx.instead_of_target(make_response(body, status))


def _form_shown_again():
    """A form left open past its token's time (a sign-in tab left over lunch): the page again, with a word, and
    never what was typed (passwords and codes are not kept)."""
    flash(str(FORM_TOO_OLD), "error")
    again = request.full_path.rstrip("?") if "GET" in request.url_rule.methods else url_for("account.home")
    return htmx.redirect(again)


def _link_unusable(error: LinkUnusable):
    return render_template("auth/link_unusable.html", message=error.message), 410


def _handle_http(error: HTTPException):
    if isinstance(error, CSRFError):
        stale = error.description in ("The CSRF token has expired.", "The CSRF session token is missing.")
        return _form_shown_again() if stale and request.url_rule is not None else error_page(400, CSRF_MESSAGE)
    if error.code == 400 and error.description == UNUSABLE_CHARACTER:
        return error_page(400, UNUSABLE_CHARACTER_WORDS)
    if error.code == 429:
        return _too_many_requests()
    if error.code is None or error.code < 400:
        return error
    return error_page(error.code)


def _too_many_requests():
    seconds = retry_after_seconds()
    if seconds < 120:
        message = ngettext("Too many attempts in a short time. For your safety, please wait %(num)s second and "
                           "try again.", "Too many attempts in a short time. For your safety, please wait %(num)s "
                           "seconds and try again.", seconds)
    else:
        message = ngettext("Too many attempts in a short time. For your safety, please wait %(num)s minute and "
                           "try again.", "Too many attempts in a short time. For your safety, please wait %(num)s "
                           "minutes and try again.", (seconds + 59) // 60)
    response = error_page(429, message)
    response.headers["Retry-After"] = str(seconds)
    return response


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http(error)
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return error_page(500)


class RedactLinkTokens(logging.Filter):
    """Access logs must not keep the secret part of mailed links, nor tokens an application put in a query
    (an ID token given as id_token_hint holds personal data)."""

    pattern = re.compile(r"(/(?:recover|new-password|profile/email|contact/activate)/)[A-Za-z0-9_-]{16,}")
    query_pattern = re.compile(r"([?&](?:id_token_hint|code|access_token|refresh_token|logout_token|client_secret)=)"
                               r"[^&\s\"]+")

    def redact(self, value):
        if not isinstance(value, str):
            return value
        return self.query_pattern.sub(r"\1[redacted]", self.pattern.sub(r"\1[redacted]", value))

    def filter(self, record: logging.LogRecord) -> bool:
        # gunicorn's access log passes one dict of atoms (path, Referer, ...), a subclass that answers "-" for
        # missing atoms: changed in place, so it stays one; other loggers pass a tuple.
        if isinstance(record.args, dict):
            for key, value in list(record.args.items()):
                record.args[key] = self.redact(value)
        elif record.args:
            record.args = tuple(self.redact(value) for value in record.args)
        record.msg = self.redact(str(record.msg))
        return True


def template_url_for(app):
    """url_for for templates, remembering what it built: a URL is the same for the same endpoint, values and
    application root, and building one cost 3 µs (a page lists up to 60 links). Calls with _external, _scheme,
    _anchor or _method, or values that cannot be a key, are built each time."""
    @functools.lru_cache(maxsize=4096)
    def build(endpoint, script_root, blueprint, values):
        return app.url_for(endpoint, **dict(values))

    def url_for(endpoint, **values):
        if not has_request_context() or any(key.startswith("_") for key in values):
            return app.url_for(endpoint, **values)
        try:
            key = tuple(values.items())  # in order: the query string keeps it
            hash(key)
        except TypeError:
            return app.url_for(endpoint, **values)
        # A relative endpoint (".name") depends on the blueprint of the request.
        return build(endpoint, request.script_root, request.blueprint if endpoint.startswith(".") else None, key)

    return url_for


def signed_in_header():
    """The signed-in person's menus: the same for everyone of a language and role but for their name and the
    CSRF token of Sign out, so rendered once per worker for each (they were a third of a signed-in page's cost)."""
    user = current_user._get_current_object()  # each read through Flask-Login's proxy looks the user up again
    key = ("_signed_in_header.html", *_kind(user))
    return rendered.once(key, lambda: render_template(
        "_signed_in_header.html", who=rendered.mark("who"), company_admin=user.is_company_admin,
        service_center=user.is_service_center), _header_values(user))


def _kind(user) -> tuple:
    """What a part rendered once for a signed-in person depends on besides its own facts: language, role, root."""
    return i18n.current(), user.role, request.script_root


def _header_values(user) -> dict:
    return {"who": f"{user.full_name} ({user.user_id})"}


def signed_in_page(template: str, values: dict, more=dict, **facts):
    """A signed-in person's whole page, the same for everyone of a language and role but for `values` (their
    name, their company: shown escaped unless Markup, such as rows written for them) and the CSRF token:
    rendered once per worker for each set of `facts` (plain values: the key), menus included. more() gives the
    rest of the template's values, made only when it renders (forms made there get the token's mark); they must
    follow from the facts. With flashed messages to show it is rendered as usual."""
    if "_flashes" in session:
        return render_template(template, **more(), **facts, **values)
    if not all(isinstance(fact, (bool, int, str, type(None))) for fact in facts.values()):
        raise TypeError("the facts of a page rendered once are its key: plain values only")
    user = current_user._get_current_object()
    key = (template, *_kind(user), tuple(sorted(facts.items())))
    marks = {name: rendered.mark(name) for name in values}
    return rendered.once(key, lambda: render_template(template, **more(), **facts, **marks),
                         {**_header_values(user), **values})


class OneLinePerRequest(logging.Filter):
    """The development server logs each request too; Portal's own JSON line (portal.observability) is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        return '] "%s" %s %s' not in str(record.msg)


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: a positive number a database column can hold; a larger one is no page (404)
    rather than an overflow deep in the database driver."""

    def __init__(self, map, fixed_digits=0, min=1, max=2**63 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _note_client_ip():
    """The audit log records the address of the request that caused each event (services take no request)."""
    g.client_ip = client_ip()


def _refuse_unusable_characters():
    """A NUL character in any value sent: no database stores it (PostgreSQL refuses it outright), and no
    person types it. The request is refused before anything reads it."""
    values = [*(request.view_args or {}).values(), *itertools.chain(*request.args.listvalues())]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += itertools.chain(*request.form.listvalues())
    if any("\x00" in value for value in values if isinstance(value, str)):
        raise BadRequest(UNUSABLE_CHARACTER)


def init_app(app) -> None:
    app.url_map.converters["int"] = DatabaseId  # before the blueprints add their routes
    app.jinja_env.globals["link_lifetime"] = links.lifetime_words  # pages say what the settings say
    app.before_request(_note_client_ip)
    app.before_request(_refuse_unusable_characters)
    fields.init_app(app)
    app.jinja_env.globals["url_for"] = template_url_for(app)
    app.jinja_env.globals["signed_in_header"] = signed_in_header
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, OneLinePerRequest) for f in werkzeug.filters):
        werkzeug.addFilter(OneLinePerRequest())
    app.after_request(_security_headers)
    app.register_error_handler(LinkUnusable, _link_unusable)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)


def unauthorized():
    """Not signed in: go to the sign-in page, saying why when a session has just ended, and come back here
    afterwards (for a form that was sent, to the page it is on: what was typed is not kept)."""
    from portal.auth import state  # the auth blueprint builds on this module

    message = state.ended_message()
    if message:
        flash(str(message), "error")
    if request.method == "GET":
        target = request.full_path.rstrip("?")
    else:
        target = request.path if request.url_rule is not None and "GET" in request.url_rule.methods else None
    return htmx.redirect(url_for("auth.sign_in", next=safe_next(target)))
