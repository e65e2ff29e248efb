"""Administration > User: search, details, actions and new users of the administrator's own company."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from portal import form_pages, htmx, i18n, pagination, user_actions, user_rows
from portal.admin import bp
from portal.admin.forms import ActionForm, NewUserForm, SearchForm, UserDetailsForm
from portal.guards import company_admin, company_admin_form, in_own_company
from portal.infrastructure import links
from portal.services import (
    account_help,
    admin,
    administrators,
    user_search,
)
from portal.web import service_errors, signed_in_page


@bp.route("/users")
@company_admin
def users():
    company_id = current_user.company_id
    single_admin = administrators.count(company_id) < 2
    if not request.args and not htmx.is_fragment():  # the first page, as the menu opens it: rendered once
        result = user_search.search(company_id)

        def forms():  # made only when the page renders
            return {"form": SearchForm(formdata=None), "result": result, "action_form": ActionForm()}
        return htmx.varied(signed_in_page("admin/users.html", {"rows": _rows(result)}, forms, single_admin=single_admin,
                                          bulk=True, listed=bool(result.rows), more_pages=result.has_next))
    form = SearchForm(request.args)
    result = user_search.search(company_id, form.q.data or "", form.status.data or "", form.sort.data or "user_id",
                                pagination.requested())
    return htmx.render("admin/users.html", "admin/_user_results.html", form=form, result=result, rows=_rows(result),
                       single_admin=single_admin, bulk=True, action_form=ActionForm())


def _rows(result):
    return user_rows.table_rows(result.rows, "admin.user_details", selectable=True)



@bp.route("/users/<user_id>", methods=["GET", "POST"])
@company_admin
def user_details(user_id):
    target = in_own_company(admin.user_of_company, user_id)
    form = UserDetailsForm(obj=target)
    sent = form_pages.submit(form, lambda: _save_details(form, target))
    if sent.saved:
        return redirect(url_for("admin.user_details", user_id=target.user_id), 303)
    return render_template("admin/user.html", form=form, details=account_help.details(target), action_form=ActionForm(),
                           needs_confirmation=sent.confirmation, own_record=target.id == current_user.id,
                           actions=_actions(target))


def _save_details(form, target) -> str:
    values = {name: getattr(form, name).data for name in admin.EDITABLE}
    return _saved_message(admin.update_user(current_user, target, values, confirmed=form.confirmed.data == "yes"))


def _saved_message(changed: dict) -> str:
    if "email_pending" in changed and len(changed) > 1:
        return _("Saved. A confirmation link was sent to %(address)s: the address changes when its owner opens it.",
                 address=changed["email_pending"])
    if "email_pending" in changed:
        return _("A confirmation link was sent to %(address)s: the address changes when its owner opens it.",
                 address=changed["email_pending"])
    return form_pages.saved_words(changed)


DANGEROUS = ("reset-mfa", "deactivate")  # shown and confirmed as what cannot simply be undone
ACTIONS = {
    "reset-mfa": (_l("Reset MFA"), _l("This deletes the authenticator, all backup codes and all passkeys and security "
                                      "keys of %(user)s and signs out their sessions. They register a new authenticator at their next sign-in.")),
    "send-password-reset": (_l("Send password reset"), _l("%(user)s gets an e-mail with a link to set a new password "
                                                          "(valid %(lifetime)s). Using it also lifts a password "
                                                          "block.")),
    "extend": (_l("Extend Valid Until by one year"), _l("Valid Until of %(user)s moves one year ahead.")),
    "deactivate": (_l("Deactivate"), _l("%(user)s can no longer sign in, and their sessions end. Their history "
                                        "stays.")),
    "activate": (_l("Activate"), _l("%(user)s can sign in again (until Valid Until).")),
    "end-sessions": (_l("End all sessions"), _l("Every signed-in session of %(user)s ends at once.")),
}


def _actions(target) -> list[tuple[str, str, bool]]:
    """The actions offered on a user's page: (action, label, dangerous); never Deactivate on one's own record."""
    shown = ["reset-mfa", "send-password-reset", "extend", "deactivate" if target.active else "activate",
             "end-sessions"]
    if target.id == current_user.id:
        shown.remove("deactivate")
    return [(action, ACTIONS[action][0], action in DANGEROUS) for action in shown if action in ACTIONS]


def _run(action: str, target, confirmed: bool) -> str:
    if action == "reset-mfa":
        account_help.reset_mfa(current_user, target)
        return _("MFA has been reset. The user registers a new authenticator at the next sign-in.")
    if action == "send-password-reset":
        account_help.send_password_reset(current_user, target)
        return _("A link to set a new password was sent to %(address)s.", address=target.email)
    if action == "extend":
        return _("Valid Until is now %(date)s.", date=i18n.day(admin.extend_valid_until(current_user, target,
                                                                                         confirmed)))
    if action in ("deactivate", "activate"):
        admin.set_active(current_user, target, action == "activate")
        return (_("%(user_id)s is now active.", user_id=target.user_id) if action == "activate"
                else _("%(user_id)s is now inactive.", user_id=target.user_id))
    count = account_help.end_sessions(current_user, target)
    return ngettext("%(num)s session ended.", "%(num)s sessions ended.", count)


@bp.route("/users/<user_id>/<action>", methods=["POST"])
@company_admin
def user_action(user_id, action):
    if action not in ACTIONS:
        abort(404)
    target = in_own_company(admin.user_of_company, user_id)
    form = ActionForm()
    label, explanation = ACTIONS[action]
    return user_actions.confirm_then_run(
        form, target, answered=form.confirmed.data in ("yes", "far-future"), title=str(label),
        explanation=explanation % {"user": target.user_id, "lifetime": links.lifetime_words(links.ADMIN_RESET)},
        danger=action in DANGEROUS, run=lambda: _run(action, target, form.confirmed.data == "far-future"),
        back=url_for("admin.user_details", user_id=target.user_id))


@bp.route("/users/extend", methods=["POST"])
@company_admin
def extend_selected():
    """Bulk "Extend Valid Until by one year" for the users ticked in the results."""
    user_ids = request.form.getlist("user_id")
    form = ActionForm()
    if not user_ids:
        flash(_("Tick the users to extend first."), "error")
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
    yield ngettext("Valid Until extended by one year for %(num)s user.",
                   "Valid Until extended by one year for %(num)s users.", count), "info"
    if result.at_limit:
        yield _("Not extended, already as far ahead as allowed: %(user_ids)s.",
                user_ids=", ".join(u.user_id for u in result.at_limit)), "error"
    if result.not_found:
        yield _("Not extended, no such user in your company: %(user_ids)s.",
                user_ids=", ".join(result.not_found)), "error"
    if result.left_over:
        yield ngettext("%(num)s more ticked user was not extended: at most %(limit)s at a time. Tick them again.",
                       "%(num)s more ticked users were not extended: at most %(limit)s at a time. Tick them again.",
                       result.left_over, limit=admin.BULK_LIMIT), "error"


@bp.route("/new-user", methods=["GET", "POST"])
@company_admin_form
def new_user():
    form = NewUserForm()
    needs_confirmation = None
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in ("user_id", "language", *admin.EDITABLE) if name in form}
        with service_errors(form) as failure:
            created = admin.create_user(current_user, values, confirmed=form.confirmed.data == "yes")
            flash(_("%(user_id)s was created and has been sent a link to choose a password.", user_id=created.user_id),
                  "info")
            return redirect(url_for("admin.user_details", user_id=created.user_id), 303)
        needs_confirmation = failure.confirmation
    return render_template("admin/new_user.html", form=form, needs_confirmation=needs_confirmation)
