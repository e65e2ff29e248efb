"""Administration > User: search, details, actions and new users of the administrator's own company."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import htmx, pagination
from portal.admin import bp
from portal.admin.forms import ActionForm, NewUserForm, SearchForm, UserDetailsForm
from portal.guards import company_admin, company_admin_form, in_own_company
from portal.infrastructure import links
from portal.services import (
    account_help,
    admin,
    user_search,
)
from portal.web import service_errors


def _target(user_id: str):
    """The user of the administrator's company; any other is a 404, whatever the URL says."""
    return in_own_company(admin.user_of_company, user_id)


@bp.route("/users")
@company_admin
def users():
    form = SearchForm(request.args)
    result = user_search.search(current_user.company_id, form.q.data or "", form.status.data or "",
                                form.sort.data or "user_id", pagination.requested())
    return htmx.render("admin/users.html", "admin/_user_results.html", form=form, result=result,
                       single_admin=admin.admin_count(current_user.company_id) < 2, bulk=True,
                       action_form=ActionForm())



@bp.route("/users/<user_id>", methods=["GET", "POST"])
@company_admin
def user_details(user_id):
    target = _target(user_id)
    form = UserDetailsForm(obj=target)
    needs_confirmation = None
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in admin.EDITABLE}
        with service_errors(form) as failure:
            changed = admin.update_user(current_user, target, values, confirmed=form.confirmed.data == "yes")
            flash(_saved_message(changed), "info")
            return redirect(url_for("admin.user_details", user_id=target.user_id), 303)
        needs_confirmation = failure.confirmation
    return render_template("admin/user.html", form=form, details=account_help.details(target), action_form=ActionForm(),
                           needs_confirmation=needs_confirmation, own_record=target.id == current_user.id,
                           actions=_actions(target))


def _saved_message(changed: dict) -> str:
    if "email_pending" in changed:
        return (f"{'Saved. ' if len(changed) > 1 else ''}A confirmation link was sent to "
                f"{changed['email_pending']}: the address changes when its owner opens it.")
    return "Saved." if changed else "Nothing changed."


DANGEROUS = ("reset-mfa", "deactivate")  # shown and confirmed as what cannot simply be undone
ACTIONS = {
    "reset-mfa": ("Reset MFA", "This deletes the authenticator, all backup codes and all passkeys and security keys "
                               "of {user} and signs out their sessions. They register a new authenticator at their "
                               "next sign-in."),
    "send-password-reset": ("Send password reset", "{user} gets an e-mail with a link to set a new password "
                                                   "(valid {lifetime}). Using it also lifts a password block."),
    "extend": ("Extend Valid Until by one year", "Valid Until of {user} moves one year ahead."),
    "deactivate": ("Deactivate", "{user} can no longer sign in, and their sessions end. Their history stays."),
    "activate": ("Activate", "{user} can sign in again (until Valid Until)."),
    "end-sessions": ("End all sessions", "Every signed-in session of {user} ends at once."),
}


def _actions(target) -> list[tuple[str, str, bool]]:
    """The actions offered on a user's page: (action, label, dangerous); never Deactivate on one's own record."""
    shown = ["reset-mfa", "send-password-reset", "extend", "deactivate" if target.active else "activate",
             "end-sessions"]
    if target.id == current_user.id:
        shown.remove("deactivate")
    return [(action, ACTIONS[action][0], action in DANGEROUS) for action in shown if action in ACTIONS]


def _confirm_page(form, target, action, explanation, confirm_value):
    return render_template("confirm.html", form=form, subject=target.user_id, title=ACTIONS[action][0],
                           explanation=explanation, confirm_value=confirm_value, danger=action in DANGEROUS,
                           cancel_url=url_for("admin.user_details", user_id=target.user_id))


def _run(action: str, target, confirmed: bool) -> str:
    if action == "reset-mfa":
        account_help.reset_mfa(current_user, target)
        return "MFA has been reset. The user registers a new authenticator at the next sign-in."
    if action == "send-password-reset":
        account_help.send_password_reset(current_user, target)
        return f"A link to set a new password was sent to {target.email}."
    if action == "extend":
        return f"Valid Until is now {admin.extend_valid_until(current_user, target, confirmed).isoformat()}."
    if action in ("deactivate", "activate"):
        admin.set_active(current_user, target, action == "activate")
        return f"{target.user_id} is now {'active' if action == 'activate' else 'inactive'}."
    count = account_help.end_sessions(current_user, target)
    return f"{count} session{'s' if count != 1 else ''} ended."


@bp.route("/users/<user_id>/<action>", methods=["POST"])
@company_admin
def user_action(user_id, action):
    """Every action asks for confirmation first (a second POST), so it works without JavaScript."""
    if action not in ACTIONS:
        abort(404)
    target = _target(user_id)
    form = ActionForm()
    if form.validate_on_submit() and form.confirmed.data in ("yes", "far-future"):
        with service_errors() as failure:
            flash(_run(action, target, form.confirmed.data == "far-future"), "info")
        if failure.confirmation:
            return _confirm_page(form, target, action, failure.confirmation, "far-future")
        return redirect(url_for("admin.user_details", user_id=target.user_id), 303)
    explanation = ACTIONS[action][1].format(user=target.user_id, lifetime=links.lifetime_words(links.ADMIN_RESET))
    return _confirm_page(form, target, action, explanation, "yes")


@bp.route("/users/extend", methods=["POST"])
@company_admin
def extend_selected():
    """Bulk "Extend Valid Until by one year" for the users ticked in the results."""
    user_ids = request.form.getlist("user_id")
    form = ActionForm()
    if not user_ids:
        flash("Tick the users to extend first.", "error")
        return redirect(url_for("admin.users", status="expiring"), 303)
    if form.validate_on_submit():
        with service_errors() as failure:
            result = admin.extend_many(current_user, user_ids, confirmed=form.confirmed.data == "yes")
            for message, category in _extension_messages(result):
                flash(message, category)
        if failure.confirmation:
            return render_template("admin/confirm_extend.html", form=form, user_ids=user_ids,
                                   message=failure.confirmation)
    return redirect(url_for("admin.users", status="expiring"), 303)


def _extension_messages(result: admin.Extension):
    count = len(result.extended)
    yield f"Valid Until extended by one year for {count} user{'s' if count != 1 else ''}.", "info"
    if result.at_limit:
        yield ("Not extended, already as far ahead as allowed: " + ", ".join(u.user_id for u in result.at_limit)
               + "."), "error"
    if result.not_found:
        yield "Not extended, no such user in your company: " + ", ".join(result.not_found) + ".", "error"
    if result.left_over:
        yield (f"{result.left_over} more ticked users were not extended: at most {admin.BULK_LIMIT} at a time. "
               "Tick them again."), "error"


@bp.route("/new-user", methods=["GET", "POST"])
@company_admin_form
def new_user():
    form = NewUserForm()
    needs_confirmation = None
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in ("user_id", *admin.EDITABLE) if name in form}
        with service_errors(form) as failure:
            created = admin.create_user(current_user, values, confirmed=form.confirmed.data == "yes")
            flash(f"{created.user_id} was created and has been sent a link to choose a password.", "info")
            return redirect(url_for("admin.user_details", user_id=created.user_id), 303)
        needs_confirmation = failure.confirmation
    return render_template("admin/new_user.html", form=form, needs_confirmation=needs_confirmation)
