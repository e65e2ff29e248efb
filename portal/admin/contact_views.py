"""Administration > Contact Person: the company's contact persons and their activation e-mails."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import form_pages, htmx, pagination
from portal.admin import bp
from portal.admin.forms import ActionForm, ContactForm, ContactSearchForm
from portal.guards import company_admin, company_admin_form, in_own_company
from portal.services import contacts
from portal.web import service_errors

ACTIONS = {
    "send": (_l("Send activation e-mail"), contacts.send_activation, _l("A new activation e-mail was sent.")),
    "deactivate": (_l("Deactivate"), contacts.deactivate, _l("The contact person is now inactive.")),
    "reactivate": (_l("Re-activate"), contacts.reactivate,
                   _l("The contact person is Pending; an activation e-mail was sent.")),
}


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
            flash(_("%(name)s was added and has been sent an activation e-mail.", name=contact.full_name), "info")
            return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
        existing = getattr(failure.error, "contact", None)  # an ExistingContact names the one to open instead
    return render_template("admin/new_contact.html", form=form, existing=existing)


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
@company_admin
def contact_details(contact_id):
    contact = in_own_company(contacts.of_company, contact_id)
    form = ContactForm(obj=contact)
    sent = form_pages.submit(form, lambda: _saved_message(contacts.update(current_user, contact, form.data)))
    if sent.saved:
        return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
    return render_template("admin/contact.html", form=form, contact=contact, history=contacts.history(contact),
                           action_form=ActionForm(), existing=getattr(sent.error, "contact", None))


def _saved_message(changed) -> str:
    if "email" in changed:
        return _("Saved. The new address must confirm by the activation e-mail.")
    return form_pages.saved_words(changed)


@bp.route("/contacts/<int:contact_id>/<action>", methods=["POST"])
@company_admin
def contact_action(contact_id, action):
    if action not in ACTIONS:
        abort(404)
    contact = in_own_company(contacts.of_company, contact_id)
    form = ActionForm()
    if action == "deactivate" and form.confirmed.data != "yes":
        return render_template("confirm.html", form=form, subject=contact.full_name, title=_("Deactivate"),
                               explanation=_("%(name)s is no longer shown as a contact person of your company. "
                                             "Their history stays, and you can re-activate them later.",
                                             name=contact.full_name),
                               confirm_value="yes", danger=True,
                               cancel_url=url_for("admin.contact_details", contact_id=contact.id))
    if form.validate_on_submit():
        _label, run, done = ACTIONS[action]
        with service_errors():
            run(current_user, contact)
            flash(str(done), "info")
    return redirect(url_for("admin.contact_details", contact_id=contact.id), 303)
