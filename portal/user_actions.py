"""An action on a user's page (Reset MFA, Send password reset, ...), shared by Administration and the Service
Center: the first POST says what it does and asks to confirm, the second runs it, so it works without JavaScript.
Each blueprint keeps its own actions and rules; this is only their shape."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template

from portal.web import service_errors


def confirm_then_run(form, target, *, answered: bool, title: str, explanation: str, danger: bool,
                     run: Callable[[], str], back: str, **page):
    """`run()` once the person has answered the confirmation (and the form is valid); it calls the service and
    returns the message to flash before going `back` to the user's page. A service's second question (a
    NeedsConfirmation) is asked on the same page, answered "far-future". `page` goes to confirm.html."""
    def ask(question: str, answer: str):
        return render_template("confirm.html", form=form, subject=target.user_id, title=title, explanation=question,
                               confirm_value=answer, danger=danger, cancel_url=back, **page)

    if answered and form.validate_on_submit():
        with service_errors() as failure:
            flash(run(), "info")
        if failure.confirmation:
            return ask(failure.confirmation, "far-future")
        return redirect(back, 303)
    return ask(explanation, "yes")
