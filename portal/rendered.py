"""Parts of pages that are the same for many requests but for a few values (a CSRF token, a name): rendered once
per worker and key, with marks standing in for those values, which each request fills in.

A mark is random per process, so no input (a name, a translated word) can carry one."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from flask import current_app
from markupsafe import Markup, escape

_PREFIX = "rendered-" + secrets.token_hex(16)


def mark(name: str) -> str:
    """What stands for the value `name` in a part rendered once."""
    return f"{_PREFIX}-{name}"


def once(key: tuple, render: Callable[[], str], values: Mapping[str, str]) -> Markup:
    """The part kept under `key` (rendered by render() the first time), with each mark replaced by its value,
    escaped. The key must hold everything else the part depends on (template, language, roles)."""
    kept = current_app.extensions.setdefault("portal_rendered_once", {})
    body = kept.get(key)
    if body is None:
        body = kept[key] = str(render())
    for name, value in values.items():
        body = body.replace(mark(name), escape(value))
    return Markup(body)
