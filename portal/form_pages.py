"""The shape of a page whose form saves through a service: validate, call the service, say what happened."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash
from flask_babel import gettext as _

from portal.services import ServiceError
from portal.web import service_errors


@dataclass
class Sent:
    """What became of the form: saved, or the page is shown again (with the service's error or question)."""
    saved: bool = False
    error: ServiceError | None = None
    confirmation: str | None = None


def submit(form, save: Callable[[], str]) -> Sent:
    """When the form was sent and is valid, `save()` calls the service and returns the message to flash; a
    ServiceError goes onto the form (portal.web.service_errors) and the view shows the page again."""
    if not form.validate_on_submit():
        return Sent()
    with service_errors(form) as failure:
        flash(save(), "info")
        return Sent(saved=True)
    return Sent(error=failure.error, confirmation=failure.confirmation)


def saved_words(changed) -> str:
    """"Saved." or "Nothing changed.", after an edit that returns what it changed."""
    return _("Saved.") if changed else _("Nothing changed.")
