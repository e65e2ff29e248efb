"""Finding users: prefix search on User ID, last name or e-mail, filters and sorting, one page at a time.

Prefixes are ranges on lowercased key columns (key >= 'abc' AND key < 'abd'), which an index serves on
SQLite and, with the "C" collation of migrations 0003 and 0006, on PostgreSQL; LIKE would scan on SQLite."""
from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import NamedTuple

from flask import current_app
from peewee import SQL, PostgresqlDatabase, Select, fn

from portal import clock, pagination
from portal.db import db
from portal.i18n import lazy_gettext as _l
from portal.models import ROLE_SERVICE_CENTER, Authenticator, User

FILTERS = {
    "": _l("All"),
    "active": _l("Active"),
    "inactive": _l("Inactive"),
    "expired": _l("Expired"),
    "expiring": _l("Expiring within %(days)s days"),
    "expiring-60": _l("Expiring within %(days)s days"),
    "expiring-90": _l("Expiring within %(days)s days"),
    "blocked": _l("Password blocked"),
    "no-authenticator": _l("No authenticator"),
    "inactive-11-months": _l("No sign-in for 11+ months"),
}
_FILTER_DAYS = {"expiring-60": 60, "expiring-90": 90}  # "expiring": EXPIRY_NOTICE_DAYS
SORTS = {"user_id": _l("User ID"), "last_name": _l("Last name"), "valid_until": _l("Valid Until"),
         "last_sign_in": _l("Last sign-in")}
# What a result row shows (admin/_user_results.html): selecting only these columns made building the page's query
# three times cheaper than User and Company whole.
LISTED = (User.id, User.user_id, User.company, User.first_name, User.last_name, User.email, User.role, User.active,
          User.valid_until, User.last_sign_in_at)


class Listed(NamedTuple):
    """A user as a result row shows it (User's own labels): a row read as a tuple costs a fifth of a model."""

    id: int
    user_id: str
    company_id: int
    first_name: str
    last_name: str
    email: str
    role: str
    active: bool
    valid_until: dt.date
    last_sign_in_at: dt.datetime | None
    full_name = User.full_name
    role_label = User.role_label
    status_label = User.status_label
    is_expired = User.is_expired


def _binary(field):
    """Compare keys byte-wise on every database, as the search indexes are built."""
    return field.collate('"C"') if isinstance(db.obj, PostgresqlDatabase) else field


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (in code point order, which is byte order
    in UTF-8): its last character one higher, past the surrogates no text holds; None above U+10FFFF."""
    while prefix:
        following = ord(prefix[-1]) + 1
        following = 0xE000 if 0xD800 <= following < 0xE000 else following
        if following <= 0x10FFFF:
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


def _prefix(field, prefix: str):
    upper = _successor(prefix)
    starts = _binary(field) >= prefix
    return starts if upper is None else starts & (_binary(field) < upper)


def filter_labels() -> dict[str, str]:
    """The filters as a person reads them, with the configured notice period in "Expiring within N days"."""
    days = current_app.config["EXPIRY_NOTICE_DAYS"]
    return {name: str(label) % {"days": _FILTER_DAYS.get(name, days)} if "%(days)s" in str(label) else str(label)
            for name, label in FILTERS.items()}


def expiring(today: dt.date, days: int | None = None):
    """Active users whose Valid Until comes within `days` (EXPIRY_NOTICE_DAYS unless told): the one rule behind
    the filter, the Home counts and the lifecycle job's digest (whose link opens this filter)."""
    soon = today + dt.timedelta(days=days or current_app.config["EXPIRY_NOTICE_DAYS"])
    return User.active & (User.valid_until >= today) & (User.valid_until <= soon)


def _filter(name: str, today: dt.date):
    has_authenticator = fn.EXISTS(Authenticator.select(Authenticator.id).where(Authenticator.user == User.id))
    return {
        "active": User.active & (User.valid_until >= today),
        "inactive": ~User.active,
        "expired": User.valid_until < today,
        "expiring": expiring(today),
        "expiring-60": expiring(today, 60),
        "expiring-90": expiring(today, 90),
        "blocked": User.password_blocked_at.is_null(False),
        "no-authenticator": ~has_authenticator,
        "inactive-11-months": User.active & (User.activity_at <= clock.months_before(clock.now(), 11)),
    }.get(name)


def _order(sort: str):
    key = {"user_id": None, "last_name": _binary(User.last_name_key), "valid_until": User.valid_until,
           "last_sign_in": User.last_sign_in_at.desc(nulls="LAST")}[sort]
    user_id = _binary(User.user_id_key)
    return (user_id,) if key is None else (key, user_id)


OVERVIEW = ("active", "expiring", "expiring-60", "expiring-90", "inactive-11-months", "blocked", "no-authenticator")


def counts_for_home(company_id: int) -> dict[str, int]:
    """What a Company Administrator should look at, each the count of a filter of the user list."""
    today = clock.today()
    base = User.select().where((User.company == company_id) & (User.role != ROLE_SERVICE_CENTER))
    return {name: base.where(_filter(name, today)).count() for name in OVERVIEW}


def valid_until_by_month(company_id: int, months: int = 12) -> list[tuple[dt.date, int]]:
    """For each of the next `months` calendar months, how many active users' Valid Until falls in it."""
    today = clock.today()
    first = today.replace(day=1)
    starts = [clock.months_before(dt.datetime.combine(first, dt.time()), -n).date() for n in range(months + 1)]
    postgres = isinstance(db.obj, PostgresqlDatabase)
    # The format as a literal: PostgreSQL takes to_char(x, $1) and to_char(x, $2) for different expressions.
    month = (fn.to_char(User.valid_until, SQL("'YYYY-MM'")) if postgres
             else fn.strftime(SQL("'%Y-%m'"), User.valid_until))
    rows = (User.select(month.alias("month"), fn.COUNT(User.id).alias("n"))
            .where((User.company == company_id) & User.active & (User.role != ROLE_SERVICE_CENTER)
                   & (User.valid_until >= today) & (User.valid_until < starts[-1]))
            .group_by(month).tuples())
    counted = dict(rows)
    return [(start, counted.get(start.strftime("%Y-%m"), 0)) for start in starts[:-1]]


def _matching_ids(conditions: list, prefix: str, order: tuple, limit: int):
    """Ids of the first `limit` users, in `order`, whose User ID, last name or e-mail starts with `prefix`.

    One indexed range per key, each cut to its own first `limit` rows, together hold the first `limit` of
    all. A single WHERE with OR over the three keys let SQLite walk a whole company in User ID order, and
    across companies fetch every match (25,000 for "tan" in a million) before sorting; here each range
    is read from an index that also holds user_id_key (migration 0006), so the cut costs no table reads."""
    branches = [User.select(User.id).where(_prefix(key, prefix), *conditions).order_by(*order).limit(limit)
                for key in (User.user_id_key, User.last_name_key, User.email_key)]
    # A subquery each: a compound SELECT takes ORDER BY and LIMIT only at its end.
    return functools.reduce(operator.add, [Select([b.alias(f"m{n}")], [SQL("id")]) for n, b in enumerate(branches)])


def search(company_id: int | None, query: str = "", filter_name: str = "", sort: str = "user_id",
           page: int = 1) -> pagination.Page:
    """A page of users of one company (or of all, for the Service Center). A company's list leaves out Service
    Center staff (the operator's own company has them): they are managed with the `portal` command only."""
    sort = sort if sort in SORTS else "user_id"
    page = pagination.clamp(page)
    conditions = [] if company_id is None else [User.company == company_id, User.role != ROLE_SERVICE_CENTER]
    condition = _filter(filter_name, clock.today())
    if condition is not None:
        conditions.append(condition)
    order = _order(sort)
    prefix = (query or "").strip().lower()[:100]
    if prefix:
        conditions = [User.id.in_(_matching_ids(conditions, prefix, order, page * pagination.PAGE_SIZE + 1))]
    select = User.select(*LISTED)
    if conditions:
        select = select.where(*conditions)
    select = select.order_by(*order).offset(pagination.offset(page)).limit(pagination.PAGE_SIZE + 1)
    return pagination.page_of([Listed(*row) for row in select.tuples()], page)
