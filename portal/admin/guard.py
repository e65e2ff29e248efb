"""Access to administration: the role is checked on every request, from the database, never from a form."""
from __future__ import annotations

import functools

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth import state
from portal.extensions import login_manager
from portal.services import NotFound, audit, reauth
from portal.web import client_ip


def _page_to_return_to() -> str:
    """This URL if it can be opened with GET, else the page of the user it acts on (no Referer is sent)."""
    if "GET" in request.url_rule.methods:
        return request.path
    return request.path.rsplit("/", 1)[0]


def in_own_company(lookup, key):
    """What `lookup(company_id, key)` finds in the administrator's own company, or a 404 that is audited:
    another company's User IDs and numbers look absent, and trying them leaves a trace."""
    try:
        return lookup(current_user.company_id, key)
    except NotFound:
        audit.record("authorization.denied", actor=current_user, subject=current_user, ip=client_ip(),
                     path=request.path, reason="not in the company")
        abort(404)


def role_required(*roles: str):
    """Only signed-in users with one of these roles; others get 404 (nothing to see here) and an audit entry."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                audit.record("authorization.denied", actor=current_user, subject=current_user, ip=client_ip(),
                             path=request.path)
                abort(404)
            if request.method == "POST" and not reauth.recently_authenticated(state.active()):
                flash("For your safety, enter your password and a code again before administrative changes.",
                      "info")
                return redirect(url_for("account.reauthenticate", next=_page_to_return_to()), 303)
            return view(*args, **kwargs)
        return wrapper
    return decorator
