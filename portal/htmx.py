"""The only place that knows htmx's HX-* headers: full pages for browsers, fragments for htmx."""
from __future__ import annotations

from flask import make_response, redirect as plain_redirect, render_template, request


def is_fragment() -> bool:
    """True when htmx asks for a part of a page (boosted requests and history restores want whole pages)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page: str, fragment: str, status: int = 200, push_url: str | None = None, **context):
    """One view serves both: the fragment to htmx, the page (which includes it) otherwise."""
    fragment_wanted = is_fragment()
    response = make_response(render_template(fragment if fragment_wanted else page, **context), status)
    response.vary.add("HX-Request")
    if fragment_wanted and push_url:
        response.headers["HX-Push-Url"] = push_url
    return response


def redirect(location: str):
    """After a successful POST: 303 for a browser, HX-Redirect for htmx (which would otherwise swap the target)."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return plain_redirect(location, 303)


def init_app(app) -> None:
    """Templates ask is_fragment() too (a fragment carries its own <title> and announces errors)."""
    app.jinja_env.globals["is_fragment"] = is_fragment
