"""The catalogs in translations/: complete (no empty or fuzzy entry), true to the source's placeholders, and
holding every string marked in a template or module (what `make translations` would extract).

These fail while a catalog is being translated; `make translations` after a change of a text brings new and
changed strings into every catalog (empty or fuzzy), which these then point at, by language and message.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.i18n import LANGUAGES, SOURCE

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TRANSLATED = [code for code in LANGUAGES if code != SOURCE]


def catalog(code: str):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=code)


def makefile_keywords() -> dict:
    """The extra keywords `make translations` gives pybabel (-k name or -k name:1,2 or -k name:1c,2)."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("BABEL_KEYWORDS"))
    keywords = dict(DEFAULT_KEYWORDS)
    for spec in re.findall(r"-k (\S+)", line):
        name, _colon, args = spec.partition(":")
        keywords[name] = tuple(int(a) if a.isdigit() else (int(a[:-1]), "c") for a in args.split(",")) if args \
            else None
    return keywords


def extracted() -> set[tuple[str | None, str]]:
    """(context, msgid) of every marked string, as pybabel extract finds them with babel.cfg."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=makefile_keywords()):
        found.add((context, message[0] if isinstance(message, (tuple, list)) else message))
    return found


def entries(code: str):
    return [m for m in catalog(code) if m.id]  # obsolete entries (#~) are not iterated


def strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def test_the_source_has_the_template_and_every_language_a_catalog():
    assert (TRANSLATIONS / "messages.pot").is_file()
    for code in TRANSLATED:
        assert (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").is_file(), code


def test_the_keywords_of_make_translations_include_the_lazy_ones():
    keywords = makefile_keywords()
    assert {"_", "_l", "_nl", "ngettext", "pgettext", "lazy_gettext"} <= set(keywords)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_marked_in_the_code_is_in_the_catalog(code):
    """A marked string that `make translations` has not brought into the catalogs yet (extraction would add it)."""
    have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in entries(code)}
    missing = sorted(extracted() - have, key=lambda pair: pair[1])
    assert not missing, f"{code}: {len(missing)} marked strings not in the catalog (run `make translations`): " \
                        f"{[msgid for _context, msgid in missing[:10]]}"


def test_the_template_holds_what_the_code_marks():
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(fh) if m.id}
    assert extracted() <= template, "run `make translations`"


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_entry_is_empty_or_fuzzy(code):
    the_catalog = catalog(code)
    assert not the_catalog.fuzzy, f"{code}: the catalog's header is marked fuzzy"
    empty = [m.id for m in entries(code) if not all(strings(m))]
    fuzzy = [m.id for m in entries(code) if m.fuzzy]
    assert not empty, f"{code}: {len(empty)} untranslated, such as {empty[:5]}"
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy (changed in the source since translated), such as {fuzzy[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_source(code):
    """%(name)s in a translation is exactly that of the source (a missing one loses a value, an unknown one
    fails at run time); order is free. A singular may leave out %(num)s (Japanese, or "one session")."""
    wrong = []
    for message in entries(code):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        source = set().union(*(PLACEHOLDER.findall(text) for text in ids))
        for text in strings(message):
            if not text:
                continue
            own = set(PLACEHOLDER.findall(text))
            if own - source or source - own - {"num"}:
                wrong.append((ids[0], text))
            if "%" in re.sub(r"%\(\w+\)[sd]|%%", "", text) and "python-format" in message.flags:
                wrong.append((ids[0], text))  # a stray %: the formatting would fail
    assert not wrong, f"{code}: placeholders differ from the source: {wrong[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_plural_forms_are_those_of_the_language(code):
    the_catalog = catalog(code)
    for message in entries(code):
        if not isinstance(message.id, str):
            assert len(strings(message)) == the_catalog.num_plurals, (code, message.id)
