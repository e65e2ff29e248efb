"""Who may open a page, shared by the blueprints: roles checked on every request from the database (never
from a form), and a fresh confirmation before changes that matter."""
from __future__ import annotations

import functools

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth import state
from portal.extensions import login_manager
from portal.infrastructure import audit
from portal.models import ROLE_COMPANY_ADMIN, ROLE_SERVICE_CENTER
from portal.services import NotFound, reauth
from portal.web import client_ip

ADMIN_REAUTH = _l("For your safety, enter your password and a code again before administrative changes.")


def _page_to_return_to() -> str:
    """This URL if it can be opened with GET, else the page of the user it acts on (no Referer is sent)."""
    if "GET" in request.url_rule.methods:
        return request.path
    return request.path.rsplit("/", 1)[0]


def confirm_first(message: str):
    """Send the person to enter their password and a code again. A form they sent is kept (never its
    passwords or codes) and sent again once they have, so nothing typed or clicked is lost."""
    page = _page_to_return_to()
    if request.method == "POST":
        fields = [(name, value) for name, values in request.form.lists() for value in values]
        reauth.keep_action(state.active(), request.path, page, fields)
    flash(str(message), "info")
    return redirect(url_for("account.reauthenticate", next=page), 303)


def _audited_404(**why):
    """A 404 that leaves a trace in the audit log: the person sees nothing to see here, the log sees them try."""
    audit.record("authorization.denied", actor=current_user, subject=current_user, ip=client_ip(),
                 path=request.path, **why)
    abort(404)


def found_or_404(lookup, *args, denied: str | None = None):
    """What `lookup(*args)` finds, or the 404 page when it raises NotFound; with `denied`, the 404 is audited
    with that reason."""
    try:
        return lookup(*args)
    except NotFound:
        if denied:
            _audited_404(reason=denied)
        abort(404)


def in_own_company(lookup, key):
    """What `lookup(company_id, key)` finds in the administrator's own company, or a 404 that is audited:
    another company's User IDs and numbers look absent, and trying them leaves a trace."""
    return found_or_404(lookup, current_user.company_id, key, denied="not in the company")


def role_required(*roles: str, ask_first: bool = False):
    """Only signed-in users with one of these roles; others get 404 (nothing to see here) and an audit entry.
    Changes (POST) need a sign-in or confirmation of the last 30 minutes; `ask_first` asks for it when the page
    of a form opens, before anything is typed into it."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                _audited_404()
            changing = request.method == "POST" or ask_first
            if changing and not reauth.recently_authenticated(state.active()):
                return confirm_first(ADMIN_REAUTH)
            return view(*args, **kwargs)
        return wrapper
    return decorator


company_admin = role_required(ROLE_COMPANY_ADMIN)
company_admin_form = role_required(ROLE_COMPANY_ADMIN, ask_first=True)
staff_only = role_required(ROLE_SERVICE_CENTER)
staff_form = role_required(ROLE_SERVICE_CENTER, ask_first=True)
