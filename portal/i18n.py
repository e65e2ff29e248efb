"""Languages: which one a person reads (Flask-Babel's selector), and dates and times in their language and zone.

English is the source; the catalogs in translations/ hold the others. The choice, first that applies: the
signed-in person's Profile choice, the switcher's cookie (pages before sign-in), the browser's Accept-Language
(werkzeug's negotiation), English.
"""
from __future__ import annotations

import datetime as dt

from babel import Locale, dates
from flask import has_request_context, request
from flask_babel import Babel, get_locale, get_timezone, lazy_gettext as _l
from flask_babel.speaklater import LazyString

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


def select_locale() -> str | None:
    """Flask-Babel's locale selector; None (English) outside a request: the CLI and the logs stay English."""
    if not has_request_context():
        return None
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    match = request.accept_languages.best_match([tag(code) for code in LANGUAGES])
    return match.replace("-", "_") if match else None


def current() -> str:
    """The identifier of the language being rendered (one of LANGUAGES)."""
    locale = get_locale()
    return str(locale) if locale is not None else SOURCE


def _locale() -> Locale:
    return get_locale() or Locale.parse(SOURCE)


def _zone_letter(moment: dt.datetime, locale: Locale) -> str:
    """'z' where the language has a short name for the zone (UTC, CET, MEZ, JST), else 'zzzz', its long name:
    an offset such as +0100 does not name a zone."""
    short = dates.get_timezone_name(moment, "short", locale=locale)
    return "zzzz" if short[:1] in "+-" or short.startswith("GMT") else "z"


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value  # stored in UTC


def when(value: dt.datetime | None, seconds: bool = False) -> str:
    """A moment as the person reads it: date and time in their language and time zone, the zone named
    ("16.03.2026, 14:49 MEZ"). The one way pages, mails and messages show a time; CSV and logs stay ISO and UTC."""
    if value is None:
        return ""
    locale, zone = _locale(), get_timezone()
    local = _aware(value).astimezone(zone)
    time = locale.time_formats["medium" if seconds else "short"].pattern + " " + _zone_letter(local, locale)
    pattern = locale.datetime_formats["medium"].format(time, locale.date_formats["medium"].pattern)
    return dates.format_datetime(local, pattern, tzinfo=zone, locale=locale)


def clock_time(value: dt.datetime) -> str:
    """The time of day of a moment soon, with its zone ("14:49 CET"): "try again after ..."."""
    locale, zone = _locale(), get_timezone()
    local = _aware(value).astimezone(zone)
    pattern = locale.time_formats["short"].pattern + " " + _zone_letter(local, locale)
    return dates.format_time(local, pattern, tzinfo=zone, locale=locale)


def day(value: dt.date | None) -> str:
    """A calendar date (Valid Until, a deadline) in the person's language: a date has no zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(get_timezone()).date()
    return dates.format_date(value, "medium", locale=_locale())


def lazy(function, *args) -> LazyString:
    """function(*args) when shown: a date in a mail's subject is written in its reader's language."""
    return LazyString(function, *args)


def language_name(identifier: str | None) -> str:
    """A language by its own name (Deutsch, 日本語): the switcher and the choices are read by whoever speaks it."""
    return Locale.parse(identifier or SOURCE).get_display_name(identifier or SOURCE)


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    Babel(app, locale_selector=select_locale)
    # {% trans %} blocks collapse their whitespace, as babel.cfg extracts them: a msgid is one line of words.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["html_lang"] = lambda: tag(current())
    app.jinja_env.globals["language_name"] = language_name
    app.jinja_env.filters.update(when=when, day=day, clock_time=clock_time)
