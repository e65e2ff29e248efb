"""Service Center pages: search users of every company, help a last Company Administrator, companies, mail."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import htmx, pagination, user_actions, user_rows
from portal.admin.audit_views import render_log
from portal.admin.forms import SearchForm
from portal.guards import found_or_404, staff_form, staff_only
from portal.models import Company
from portal.service_center import bp
from portal.service_center.forms import CompanyForm, FirstAdminForm, TicketForm
from portal.services import (
    account_help,
    administrators,
    oidc_clients,
    service_center,
    user_search,
)
from portal.web import service_errors

ACTIONS = {"reset-mfa": (_l("Reset MFA"), service_center.reset_mfa),
           "send-password-reset": (_l("Send password reset"), service_center.send_password_reset)}
WHAT_IT_DOES = {"reset-mfa": _l("The authenticator, all backup codes and all passkeys and security keys of %(user)s "
                                "are removed and their sessions signed out; they register a new authenticator at "
                                "their next sign-in.")}


@bp.route("/users")
@staff_only
def users():
    form = SearchForm(request.args)
    result = user_search.search(None, form.q.data or "", form.status.data or "", form.sort.data or "user_id",
                                pagination.requested())
    return htmx.render("service_center/users.html", "admin/_user_results.html", form=form, result=result,
                       rows=user_rows.table_rows(result.rows, "service_center.user_details", selectable=False))


@bp.route("/users/<user_id>")
@staff_only
def user_details(user_id):
    target = found_or_404(service_center.user_by_id, user_id)
    return render_template("service_center/user.html", details=account_help.details(target),
                           administrators=list(administrators.active(target.company_id)),
                           refusal=service_center.refusal(target), form=TicketForm(formdata=None))


@bp.route("/users/<user_id>/<action>", methods=["POST"])
@staff_only
def user_action(user_id, action):
    if action not in ACTIONS:
        abort(404)
    target = found_or_404(service_center.user_by_id, user_id)
    title = str(ACTIONS[action][0])
    confirmed = request.form.get("confirmed") == "yes"
    form = TicketForm() if confirmed else TicketForm(formdata=None)  # no "required" message before an answer
    return user_actions.confirm_then_run(
        form, target, answered=confirmed, title=title, explanation=_explanation(action, title, target),
        danger=action == "reset-mfa", run=lambda: _run(action, title, target, form.ticket.data),
        back=url_for("service_center.user_details", user_id=target.user_id), ticket_required=True)


def _explanation(action: str, title: str, target) -> str:
    what = WHAT_IT_DOES[action] % {"user": target.user_id} if action in WHAT_IT_DOES else ""
    return " ".join(filter(None, [_("%(action)s for %(user_id)s of %(company)s.", action=title,
                                    user_id=target.user_id, company=target.company.name), what]))


def _run(action: str, title: str, target, ticket: str) -> str:
    _label, service = ACTIONS[action]
    service(current_user, target, ticket)
    return _("%(action)s done for %(user_id)s (ticket %(ticket)s).", action=title, user_id=target.user_id,
             ticket=ticket.strip())


@bp.route("/companies", methods=["GET", "POST"])
@staff_only
def companies():
    form = CompanyForm()
    if form.validate_on_submit():
        with service_errors(form):
            company = service_center.create_company(current_user, form.name.data, form.ticket.data,
                                                    form.time_zone.data)
            flash(_("Company %(company)s created. Now create its first Company Administrator.",
                    company=company.name), "info")
            return redirect(url_for("service_center.first_admin", company_id=company.id), 303)
    return render_template("service_center/companies.html", form=form,
                           companies=service_center.companies(request.args.get("q", "")))


@bp.route("/companies/<int:company_id>/first-admin", methods=["GET", "POST"])
@staff_form
def first_admin(company_id):
    company = Company.get_or_none(Company.id == company_id) or abort(404)
    form = FirstAdminForm()
    if form.validate_on_submit():
        values = {name: getattr(form, name).data
                  for name in ("user_id", "first_name", "last_name", "email", "phone", "language")}
        with service_errors(form):
            user = service_center.create_first_admin(current_user, company, values, form.ticket.data)
            flash(_("%(user_id)s is the Company Administrator of %(company)s and has been sent a link to choose a "
                    "password.", user_id=user.user_id, company=company.name), "info")
            return redirect(url_for("service_center.user_details", user_id=user.user_id), 303)
    return render_template("service_center/first_admin.html", form=form, company=company,
                           has_admin=administrators.who_can_help(company.id).exists())


@bp.route("/audit")
@staff_only
def audit():
    return render_log(None, "service_center/audit.html")


@bp.route("/mail")
@staff_only
def failed_mail():
    return render_template("service_center/mail.html", messages=service_center.failed_mail())


@bp.route("/applications")
@staff_only
def applications():
    """The applications registered to sign in with Portal (read only: they are managed with `portal client`)."""
    return render_template("service_center/applications.html", clients=oidc_clients.all_clients())
