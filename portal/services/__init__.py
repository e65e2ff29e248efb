"""Business rules as plain functions. They take and return models and raise ServiceError."""


class ServiceError(Exception):
    """A rule was broken; the message is one sentence fit to show a person."""

    def __init__(self, message: str, field: str | None = None):
        message = str(message)  # a lazy string is translated now, in the language of the request (English in the CLI)
        super().__init__(message)
        self.message = message
        self.field = field


class SignInRestart(ServiceError):
    """The pending sign-in (or the session) is over; the person starts again with User ID and password."""


class LinkUnusable(ServiceError):
    """A mailed link that has expired, was used or was replaced: every page answers it alike (410, and why)."""


class NotFound(ServiceError):
    """No such record where the person may look (another company's records look the same: absent)."""

    def __init__(self, message: str | None = None):
        from flask_babel import gettext as _

        super().__init__(message or _("There is no such user in your company."))


class NeedsConfirmation(ServiceError):
    """The change is allowed but risky; the person must confirm it."""
