"""The rows of a list of users (Administration > User, the Service Center's users), written here rather than by
Jinja: 50 rows cost Jinja more than all the rest of the page (some 600 values looked up, called, escaped and
joined one by one, the same few words translated again in every row and every date formatted anew). Here each
row is one format, kept for the next time the same row is listed the same way; tests/integration/test_rendered_once.py
reads the rows back as a person does."""
from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from typing import NamedTuple
from urllib.parse import quote

from flask import url_for
from markupsafe import Markup

from portal import clock, i18n, rendered

_ROW = ('<tr>{select}<td><a href="{link}">{user_id}</a></td>\n'
        '        <td>{name}</td><td>{email}</td><td>{role}</td>\n'
        '        <td>{status}</td><td>{valid_until}</td>\n'
        '        <td>{last_sign_in}</td></tr>\n')
_SELECT = ('<td><input type="checkbox" name="user_id" value="{user_id}" id="select-{id}"\n'
           '            aria-label="{label}"></td>')


_SPECIAL = re.compile("[&<>\"']")
_SAFE_IN_PATH = re.compile(r"[A-Za-z0-9._~-]*")  # what quote() leaves as it is


def _escape(text: str) -> str:
    """markupsafe.escape's result for a str, without making a Markup of each of some 200 values (most of which
    have nothing to escape: one search finds that)."""
    if not _SPECIAL.search(text):
        return text
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def table_rows(rows, detail_endpoint: str, selectable: bool) -> Markup:
    """The <tr> of each listed user (portal.services.user_search.Listed): User ID linked to its details page,
    name, e-mail, role, status, Valid Until and last sign-in in the reader's language and zone; with a checkbox
    for the bulk action when `selectable`.

    Each row is written once per worker for what it shows and how (the row's values, the language, the zone, the
    day that decides Expired, the link): the same list opened again writes only rows that changed."""
    page = _Page(i18n.current(), str(i18n.reader_zone()), clock.today(),
                 url_for(detail_endpoint, user_id=_USER), selectable)
    if _KEPT_ROWS.count > _KEEP_AT_MOST:  # all forgotten at once: cheaper than keeping an order
        _KEPT.clear()
        _KEPT_ROWS.count = 0
    kept = _KEPT.setdefault(page, {})
    out = []
    for row in rows:
        written = kept.get(row)
        if written is None:
            written = kept[row] = _row(row, page)
            _KEPT_ROWS.count += 1
        out.append(written)
    return Markup("".join(out))


class _Page(NamedTuple):
    """What a row's HTML depends on beside the row itself."""

    language: str
    zone: str
    today: dt.date
    link: str  # the details link with the mark _USER for the User ID
    selectable: bool


_USER = rendered.mark("user")
_KEEP_AT_MOST = 5000  # rows kept per worker (some 5 MB): the lists that its readers open again
_KEPT: dict[_Page, dict] = {}
_KEPT_ROWS = SimpleNamespace(count=0)


def _row(row, page: _Page) -> str:
    user_id = _escape(row.user_id)
    select = ""
    if page.selectable:
        label = _escape(i18n.gettext("Select %(user_id)s", user_id=_USER)).replace(_USER, user_id)
        select = _SELECT.format(user_id=user_id, id=row.id, label=label)
    in_path = row.user_id if _SAFE_IN_PATH.fullmatch(row.user_id) else quote(row.user_id, safe="!$&'()*+,/:;=@")
    last = row.last_sign_in_at
    return _ROW.format(
        select=select, link=_escape(page.link.replace(_USER, in_path)), user_id=user_id, name=_escape(row.full_name),
        email=_escape(row.email), role=_escape(str(row.role_label)), status=_escape(str(row.status_label)),
        valid_until=_escape(i18n.day(row.valid_until)),
        last_sign_in=_escape(i18n.gettext("never")) if last is None else _escape(i18n.day(last)))
