"""The rows of a list of users (Administration > User, the Service Center's users), written here rather than by
Jinja: 50 rows cost Jinja more than all the rest of the page (some 600 values looked up, called, escaped and
joined one by one, the same few words translated again in every row and every date formatted anew). Here each
word and date is made once per page and each row is one format; tests/integration/test_rendered_once.py reads
the rows back as a person does."""
from __future__ import annotations

import re
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
    for the bulk action when `selectable`."""
    today = clock.today()
    user = rendered.mark("user")
    # The link of every row is the same but for its User ID, quoted as URLs quote a path segment.
    marked = url_for(detail_endpoint, user_id=user)
    select_label = _escape(i18n.gettext("Select %(user_id)s", user_id=user))
    never = _escape(i18n.gettext("never"))
    words: dict = {}  # each word and date of the page made once, keyed by what decides it
    out = []
    for row in rows:
        user_id = _escape(row.user_id)
        status_key, role_key = (row.active, row.is_expired(today)), ("role", row.role)
        if status_key not in words:
            words[status_key] = _escape(str(row.status_label))
        if role_key not in words:
            words[role_key] = _escape(str(row.role_label))
        if row.valid_until not in words:
            words[row.valid_until] = _escape(i18n.day(row.valid_until))
        last = row.last_sign_in_at
        out.append(_ROW.format(
            select=_SELECT.format(user_id=user_id, id=row.id, label=select_label.replace(user, user_id))
            if selectable else "",
            link=_escape(marked.replace(user, row.user_id if _SAFE_IN_PATH.fullmatch(row.user_id)
                                        else quote(row.user_id, safe="!$&'()*+,/:;=@"))),
            user_id=user_id, name=_escape(row.full_name), email=_escape(row.email), role=words[role_key],
            status=words[status_key], valid_until=words[row.valid_until],
            last_sign_in=never if last is None else _escape(i18n.day(last))))
    return Markup("".join(out))
