"""Parts of pages that are the same for many requests but for a few values (a CSRF token, a name): rendered once
per worker and key, with marks standing in for those values, which each request fills in.

A mark is random per process, so no input (a name, a translated word) can carry one."""
from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Mapping

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer
from markupsafe import Markup, escape

_PREFIX = "rendered-" + secrets.token_hex(16)
_MARK = re.compile(re.escape(_PREFIX) + r"-([A-Za-z0-9_]+)-")  # closed: a translation may write letters after it
CSRF = "csrf"  # the request's CSRF token: every csrf_token() of a part rendered once gives its mark


def mark(name: str) -> str:
    """What stands for the value `name` in a part rendered once."""
    return f"{_PREFIX}-{name}-"


def once(key: tuple, render: Callable[[], str], values: Mapping[str, str]) -> Markup:
    """The part kept under `key` (rendered by render() the first time), with each mark replaced by its value,
    escaped (the CSRF token needs none). The key must hold everything else the part depends on (template,
    language, roles); a mark without a value is an error, never a mark left on the page.

    A part rendered inside another one being rendered once (the menus of a page) keeps its marks: the outer
    part fills them, so its values include the inner part's."""
    kept = current_app.extensions.setdefault("portal_rendered_once", {})
    found = kept.get(key)
    if found is None:
        found = kept[key] = _render_marked(render)
    body, names = found
    if g.get("portal_rendering_once"):
        return Markup(body)
    for name in names:
        body = body.replace(mark(name), csrf_token() if name == CSRF else escape(values[name]))
    return Markup(body)


def _render_marked(render: Callable[[], str]) -> tuple[str, tuple[str, ...]]:
    """The body and the names of the marks in it; while it renders, Flask-WTF hands out the token's mark (it
    keeps a request's token in g.csrf_token)."""
    saved = {name: g.pop(name) for name in ("csrf_token", "portal_rendering_once") if name in g}
    g.csrf_token, g.portal_rendering_once = mark(CSRF), True
    try:
        body = str(render())
    finally:
        g.pop("csrf_token", None)
        g.pop("portal_rendering_once", None)
        for name, value in saved.items():
            setattr(g, name, value)
    return body, tuple(dict.fromkeys(_MARK.findall(body)))


def csrf_token() -> str:
    """This request's CSRF token, made as Flask-WTF's generate_csrf() makes it (the same signature of the
    session's token, kept where generate_csrf() looks first, so that every form of the request carries it and
    Flask-WTF's check accepts it) but without its zlib step."""
    raw = session.get("csrf_token")
    if "csrf_token" not in g and isinstance(raw, str):
        g.csrf_token = _signer(current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key).dumps(raw)
    return generate_csrf()  # makes the session's token when there is none yet


class _Uncompressed(URLSafeTimedSerializer):
    """A token of 40 hex digits is never shorter compressed, so itsdangerous's zlib.compress (more work than the
    signature, and a hand-over of the interpreter's lock to another thread) is left out; the payload is read
    the same way."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


@functools.lru_cache(maxsize=4)
def _signer(secret_key: str) -> URLSafeTimedSerializer:
    return _Uncompressed(secret_key, salt="wtf-csrf-token")  # Flask-WTF's salt
