"""Administration > Contact Person: the company's contact persons and their activation e-mails."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import htmx, pagination
from portal.admin import bp
from portal.admin.forms import ActionForm, ContactForm, ContactSearchForm
from portal.guards import company_admin, company_admin_form, in_own_company
from portal.services import contacts
from portal.web import service_errors

ACTIONS = {
    "send": ("Send activation e-mail", contacts.send_activation, "A new activation e-mail was sent."),
    "deactivate": ("Deactivate", contacts.deactivate, "The contact person is now inactive."),
    "reactivate": ("Re-activate", contacts.reactivate, "The contact person is Pending; an activation e-mail was sent."),
}


def _contact(contact_id: int):
    return in_own_company(contacts.of_company, contact_id)



@bp.route("/contacts")
@company_admin
def contact_list():
    form = ContactSearchForm(request.args)
    result = contacts.search(current_user.company_id, form.q.data or "", form.status.data or "",
                             pagination.requested())
    return htmx.render("admin/contacts.html", "admin/_contact_results.html", form=form, result=result)


@bp.route("/new-contact", methods=["GET", "POST"])
@company_admin_form
def new_contact():
    form = ContactForm()
    existing = None
    if form.validate_on_submit():
        with service_errors(form) as failure:
            contact = contacts.create(current_user, form.data)
            flash(f"{contact.full_name} was added and has been sent an activation e-mail.", "info")
            return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
        existing = getattr(failure.error, "contact", None)  # an ExistingContact names the one to open instead
    return render_template("admin/new_contact.html", form=form, existing=existing)


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
@company_admin
def contact_details(contact_id):
    contact = _contact(contact_id)
    form = ContactForm(obj=contact)
    existing = None
    if form.validate_on_submit():
        with service_errors(form) as failure:
            changed = contacts.update(current_user, contact, form.data)
            flash("Saved. The new address must confirm by the activation e-mail." if "email" in changed
                  else ("Saved." if changed else "Nothing changed."), "info")
            return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
        existing = getattr(failure.error, "contact", None)
    return render_template("admin/contact.html", form=form, contact=contact, history=contacts.history(contact),
                           action_form=ActionForm(), existing=existing)


@bp.route("/contacts/<int:contact_id>/<action>", methods=["POST"])
@company_admin
def contact_action(contact_id, action):
    if action not in ACTIONS:
        abort(404)
    contact = _contact(contact_id)
    form = ActionForm()
    if action == "deactivate" and form.confirmed.data != "yes":
        return render_template("confirm.html", form=form, subject=contact.full_name, title="Deactivate",
                               explanation=f"{contact.full_name} is no longer shown as a contact person of your "
                                           "company. Their history stays, and you can re-activate them later.",
                               confirm_value="yes", danger=True,
                               cancel_url=url_for("admin.contact_details", contact_id=contact.id))
    if form.validate_on_submit():
        _, run, done = ACTIONS[action]
        with service_errors():
            run(current_user, contact)
            flash(done, "info")
    return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
