"""Business rules as plain functions. They take and return models and raise ServiceError."""


class ServiceError(Exception):
    """A rule was broken; the message is one sentence fit to show a person."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
