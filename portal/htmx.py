"""The only place that knows htmx's HX-* headers: full pages for browsers, fragments for htmx."""
from __future__ import annotations

from flask import make_response, render_template, request, session
from flask import redirect as plain_redirect
from flask_login import current_user

from portal import i18n, rendered

# A page differs by fragment or page, and by the language its cookie or Accept-Language asks for (portal.i18n).
VARY = ("HX-Request", "Accept-Language", "Cookie")


def is_fragment() -> bool:
    """True when htmx asks for a part of a page (boosted requests and history restores want whole pages)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page: str, fragment: str, status: int = 200, push_url: str | None = None, **context):
    """One view serves both: the fragment to htmx, the page (which includes it) otherwise."""
    fragment_wanted = is_fragment()
    response = varied(render_template(fragment if fragment_wanted else page, **context), status)
    if fragment_wanted and push_url:
        response.headers["HX-Push-Url"] = push_url
    return response


def render_once(page: str, fragment: str, context):
    """render() for a page that is the same for every visitor but its CSRF token: built once per worker (for
    the page and for the fragment), each response gets its own token. Only an anonymous GET without query string
    and without flashed messages qualifies; anything else is rendered as usual. context() gives the template's
    values (forms are made there, while the token stands in for the real one)."""
    if request.method != "GET" or request.args or "_flashes" in session or current_user.is_authenticated:
        return render(page, fragment, **context())
    template = fragment if is_fragment() else page
    key = (template, i18n.browser_language() or i18n.SOURCE)  # one page per language (nobody is signed in)
    return varied(rendered.once(key, lambda: render_template(template, **context()), {}))


def varied(body: str, status: int = 200):
    """The response of a page that differs by fragment or page, and by language."""
    response = make_response(body, status)
    response.vary.update(VARY)
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


def instead_of_target(response):
    """An error page answering htmx: htmx would swap it into the form's target; it replaces the main content."""
    if request.headers.get("HX-Request") == "true":
        response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "outerHTML", "HX-Reselect": "#main"})
    return response
