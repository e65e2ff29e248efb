"""Languages: which one a person reads (Flask-Babel's selector), and dates and times in their language and zone.

English is the source; the catalogs in translations/ hold the others. The choice, first that applies: the
signed-in person's Profile choice, the switcher's cookie (pages before sign-in), the browser's Accept-Language
(werkzeug's negotiation), English.
"""
from __future__ import annotations

import datetime as dt
import functools
from contextlib import contextmanager

import flask
import pytz
from babel import Locale, dates
from babel.support import Translations
from flask import g, has_app_context, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_timezone, get_translations
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from werkzeug.utils import cached_property
from wtforms.i18n import messages_path as wtforms_messages

from portal import ROOT

SOURCE = "en"
# Babel identifiers of the catalogs; zh_Hans is Babel's Simplified Chinese (written zh-Hans in <html lang>).
LANGUAGES = ("en", "de", "fr", "es", "ja", "zh_Hans")
COOKIE = "portal_lang"

# The words of the language and time-zone fields (Profile, the contact-person, new-user and company forms).
LANGUAGE_LABEL = _l("Language")
TIME_ZONE_LABEL = _l("Time zone")
BROWSER_LANGUAGE = _l("As my browser asks")
COMPANY_ZONE = _l("As my company (%(zone)s)")
CHOOSE_LANGUAGE = _l("Choose a language from the list.")
CHOOSE_TIME_ZONE = _l("Choose a time zone from the list, such as Europe/Berlin.")


def tag(identifier: str) -> str:
    """The BCP 47 tag of a Babel identifier (zh_Hans -> zh-Hans), for <html lang> and Accept-Language."""
    return identifier.replace("_", "-")


def _signed_in_user():
    record = _state().active()
    return record.user if record is not None else None


def _person():
    """Whoever the request is for: the signed-in user, or the one in the middle of signing in."""
    record = _state().current()
    return record.user if record is not None else None


@functools.cache
def _state():
    from portal.auth import state  # the auth blueprint builds on this module

    return state


_TAGS = [tag(code) for code in LANGUAGES]
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}  # parsed once: Flask-Babel takes a Locale as it is


@functools.lru_cache(maxsize=1024)
def _negotiate(header: str) -> str | None:
    """werkzeug's negotiation of an Accept-Language header; browsers send few different ones, so each is
    parsed once (the sign-in page is served from memory, and parsing cost more than the rest of it)."""
    match = parse_accept_header(header, LanguageAccept).best_match(_TAGS)
    return match.replace("-", "_") if match else None


def browser_language() -> str | None:
    """The switcher's cookie, else the browser's Accept-Language (werkzeug's negotiation), else None."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    header = request.headers.get("Accept-Language")
    return _negotiate(header[:500]) if header else None


def select_locale() -> Locale | None:
    """Flask-Babel's locale selector: the signed-in person's Profile choice, else the browser's. None (English)
    outside a request: the CLI and the logs stay English."""
    if not has_request_context():
        return None
    user = _signed_in_user()
    if user is not None and user.language in LANGUAGES:
        return _LOCALES[user.language]
    return _LOCALES[browser_language() or SOURCE]


def select_timezone() -> str | None:
    """The person's time zone (Profile), else their company's; UTC before anyone is known."""
    if not has_request_context():
        return None
    user = _person()
    return zone_of(user) if user is not None else None


def zone_of(person) -> str:
    """A user's time zone: their own, else their company's (looked up once per request or job)."""
    if getattr(person, "time_zone", None):
        return person.time_zone
    company = getattr(person, "__rel__", {}).get("company")  # read with the session row: no query
    if company is not None:
        return company.time_zone or "UTC"
    company_id = getattr(person, "company_id", None)
    return _company_zone(company_id) if company_id else "UTC"


def _company_zone(company_id: int) -> str:
    from portal.models import Company

    zones = g.setdefault("portal_company_zones", {}) if has_app_context() else {}
    if company_id not in zones:
        zones[company_id] = Company.select(Company.time_zone).where(Company.id == company_id).scalar() or "UTC"
    return zones[company_id]


def language_of(reader) -> str:
    """The language mail to this person is written in: their own choice (a user's Profile, a contact person's
    as their Company Administrator set it), else the language of the request that causes the mail, else English."""
    chosen = getattr(reader, "language", None)
    if chosen in LANGUAGES:
        return chosen
    return current() if has_request_context() else SOURCE


@contextmanager
def speaking_to(reader):
    """Render inside this: gettext, dates and times are the reader's (a mail), whatever the request's are."""
    zone = zone_of(reader) if reader is not None and hasattr(reader, "company_id") else None
    before = g.get("portal_zone")
    g.portal_zone = zone or (before if reader is None else "UTC")
    try:
        with force_locale(language_of(reader)):
            yield
    finally:
        g.portal_zone = before


@functools.lru_cache(maxsize=64)
def _zone(name: str):
    return pytz.timezone(name)


def reader_zone():
    """The zone moments are shown in: the one a page or mail was told to use, else the reader's."""
    forced = g.get("portal_zone") if has_app_context() else None
    return _zone(forced) if forced else get_timezone()


def is_zone(name: str) -> bool:
    return name in pytz.all_timezones_set


def zone_choices() -> list[str]:
    return sorted(pytz.common_timezones)


ZONE_SET = frozenset(pytz.common_timezones)


def current() -> str:
    """The identifier of the language being rendered (one of LANGUAGES)."""
    locale = get_locale()
    return str(locale) if locale is not None else SOURCE


def _locale() -> Locale:
    """The language being rendered: Flask-Babel's, read where it keeps it once chosen (a page of 50 rows asks
    hundreds of times; Flask-Babel's own lookup went through five context proxies each time)."""
    state = g.get("_flask_babel") if has_app_context() else None
    locale = getattr(state, "babel_locale", None)
    return locale or get_locale() or _LOCALES[SOURCE]


def translations():
    """Flask-Babel's catalog for the language being rendered, kept beside that language until it changes
    (force_locale, refresh): what gettext in templates and in portal.i18n.gettext reads."""
    state = g.get("_flask_babel") if has_app_context() else None
    kept = getattr(state, "portal_translations", None)
    if kept is not None and kept[0] is state.babel_locale and getattr(state, "babel_translations", None) is not None:
        return kept[1]
    catalog = get_translations()
    state = g.get("_flask_babel") if has_app_context() else None
    if state is not None:
        state.portal_translations = (getattr(state, "babel_locale", None), catalog)
        state.babel_translations = catalog
    return catalog


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext, through translations()."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """flask_babel.lazy_gettext, through translations(): labels of lists (roles, statuses, filters)."""
    return LazyString(gettext, string, **variables)


def _zone_letter(moment: dt.datetime, locale: Locale) -> str:
    """'z' where the language has a short name for the zone (UTC, CET, MEZ, JST), else 'zzzz', its long name:
    an offset such as +0100 does not name a zone."""
    short = dates.get_timezone_name(moment, "short", locale=locale)
    return "zzzz" if short[:1] in "+-" or short.startswith("GMT") else "z"


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value  # stored in UTC


def when(value: dt.datetime | None, seconds: bool = False) -> str:
    """A moment as the person reads it: date and time in their language and time zone, the zone named
    ("16.03.2026, 14:49 MEZ"). The one way pages, mails and messages show a time; CSV and logs stay ISO and UTC."""
    if value is None:
        return ""
    locale, zone = _locale(), reader_zone()
    local = _aware(value).astimezone(zone)
    key = (locale, zone.zone, local.utcoffset(), seconds)
    pattern = _PATTERNS.get(key)
    if pattern is None:  # a language, a zone and its offset (which decides its short name): a few patterns
        time = locale.time_formats["medium" if seconds else "short"].pattern + " " + _zone_letter(local, locale)
        pattern = _PATTERNS[key] = locale.datetime_formats["medium"].format(time, locale.date_formats["medium"].pattern)
    return dates.format_datetime(local, pattern, tzinfo=zone, locale=locale)


_PATTERNS: dict = {}


def clock_time(value: dt.datetime) -> str:
    """The time of day of a moment soon, with its zone ("14:49 CET"): "try again after ..."."""
    locale, zone = _locale(), reader_zone()
    local = _aware(value).astimezone(zone)
    pattern = locale.time_formats["short"].pattern + " " + _zone_letter(local, locale)
    return dates.format_time(local, pattern, tzinfo=zone, locale=locale)


def day(value: dt.date | None) -> str:
    """A calendar date (Valid Until, a deadline) in the person's language: a date has no zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(reader_zone()).date()
    return _day(value, _locale())


@functools.lru_cache(maxsize=4096)
def _day(value: dt.date, locale) -> str:
    return dates.format_date(value, "medium", locale=locale)  # a list of users repeats the same few dates


def lazy(function, *args) -> LazyString:
    """function(*args) when shown: a date in a mail's subject is written in its reader's language."""
    return LazyString(function, *args)


@functools.lru_cache(maxsize=64)
def language_name(identifier: str | None) -> str:
    """A language by its own name (Deutsch, 日本語): the switcher and the choices are read by whoever speaks it.
    Kept per identifier: Babel took 76 µs for the six of a page."""
    return Locale.parse(identifier or SOURCE).get_display_name(identifier or SOURCE)


def choose_language(code: str):
    """The switcher: a link that sets the language cookie and returns to the page it was on (works without
    JavaScript). A signed-in person's Profile choice still wins while they are signed in."""
    from flask import abort, redirect, url_for

    from portal.web import safe_next

    if code not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or url_for("auth.sign_in"), 303)
    remember(response, code)
    return response


def remember(response, code: str) -> None:
    """The language cookie: a year, this site only, unreadable to scripts."""
    from flask import current_app

    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


def switcher_links() -> list[tuple[str, str, str, bool]]:
    """(link, BCP 47 tag, own name, is current) for each language; each link comes back to this page."""
    from flask import url_for

    here, now = request.full_path.rstrip("?"), current()
    return [(url_for("choose_language", code=code, next=here), tag(code), language_name(code), code == now)
            for code in LANGUAGES]


def _template_gettext() -> dict:
    """The gettext functions of a template being rendered, bound to its language's catalog (a context value
    wins over Jinja's globals): the globals look the catalog up at each call and go through Jinja's call
    machinery twice, which made the words of a page a sixth of its cost. Same results as Jinja's newstyle
    gettext: translated, Markup where the template escapes, variables escaped and filled in. Macros imported
    without context use the globals, to the same effect."""
    catalog = translations()
    bound = getattr(catalog, "portal_template_gettext", None)
    if bound is None:
        bound = catalog.portal_template_gettext = _bind(catalog)
    return bound


def _bind(catalog) -> dict:
    def fill(eval_ctx, text, variables):
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def gettext(eval_ctx, string, **variables):
        return fill(eval_ctx, catalog.ugettext(string), variables)

    @pass_eval_context
    def ngettext(eval_ctx, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return fill(eval_ctx, catalog.ungettext(singular, plural, num), variables)

    @pass_eval_context
    def pgettext(eval_ctx, context, string, **variables):
        return fill(eval_ctx, catalog.upgettext(context, string), variables)

    @pass_eval_context
    def npgettext(eval_ctx, context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        return fill(eval_ctx, catalog.unpgettext(context, singular, plural, num), variables)

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext}


class Request(flask.Request):
    @cached_property
    def wtforms_translations(self):
        """WTForms' own messages (Flask-WTF asks for this attribute): in the language being rendered, from a
        catalog kept per language. Flask-WTF read that catalog from disk at the first form of every request."""
        return _wtforms_catalog(current())


@functools.cache
def _wtforms_catalog(identifier: str) -> Translations:
    return Translations.load(wtforms_messages(), [_LOCALES[identifier]], domain="wtforms")


def init_app(app) -> None:
    app.request_class = Request
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # {% trans %} blocks collapse their whitespace, as babel.cfg extracts them: a msgid is one line of words.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.context_processor(_template_gettext)
    app.jinja_env.globals["html_lang"] = lambda: tag(current())
    app.jinja_env.globals.update(language_name=language_name, language_links=switcher_links, languages=LANGUAGES)
    app.add_url_rule("/language/<code>", "choose_language", choose_language)
    app.jinja_env.filters.update(when=when, day=day, clock_time=clock_time)
