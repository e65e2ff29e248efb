"""The activation page: opening the link changes nothing; Activate or Cancel (a POST) decides.

It never reads or changes anyone's sign-in: a signed-in person stays signed in, as they were."""
from flask import render_template, request

from portal.auth.forms import ConfirmForm
from portal.contacts import bp
from portal.ratelimits import by_link, limited
from portal.services import contacts
from portal.web import client_ip


@bp.route("/contact/activate/<token>", methods=["GET", "POST"])
@limited("RATE_LIMIT_LINK", by_link)
def activate(token):
    contact = contacts.by_link(token)
    form = ConfirmForm()
    if not (form.validate_on_submit() and request.form.get("answer") in ("activate", "decline")):
        return render_template("contacts/activate.html", contact=contact, form=form)
    activated = request.form["answer"] == "activate"
    contacts.answer(token, activate=activated, ip=client_ip())
    return render_template("contacts/answered.html", contact=contact, activated=activated)
