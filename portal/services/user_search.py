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

from portal import clock, i18n, pagination
from portal.db import Prepared, db
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


def _prefix(field, prefix: str, upper: str | None):
    starts = _binary(field) >= prefix
    return starts if upper is None else starts & (_binary(field) < upper)


def filter_labels() -> dict[str, str]:
    """The filters as a person reads them, with the configured notice period in "Expiring within N days"."""
    return _filter_labels(i18n.current(), current_app.config["EXPIRY_NOTICE_DAYS"])


@functools.lru_cache(maxsize=64)
def _filter_labels(_language: str, days: int) -> dict[str, str]:
    """Once per language (the labels are translated in the language being rendered, which is `_language`)."""
    return {name: str(label) % {"days": _FILTER_DAYS.get(name, days)} if "%(days)s" in str(label) else str(label)
            for name, label in FILTERS.items()}


def expiring(today: dt.date, days: int | None = None):
    """Active users whose Valid Until comes within `days` (EXPIRY_NOTICE_DAYS unless told): the one rule behind
    the filter, the Home counts and the lifecycle job's digest (whose link opens this filter)."""
    return _expiring_until(today, _soon(today, days))


def _soon(today: dt.date, days: int | None = None) -> dt.date:
    return today + dt.timedelta(days=days or current_app.config["EXPIRY_NOTICE_DAYS"])


def _expiring_until(today, soon):
    return User.active & (User.valid_until >= today) & (User.valid_until <= soon)


# What each filter compares with, computed before the query is built: a compiled search (db.Prepared) is built
# with marks in their place, so a filter may only compare with them, never compute from them.
_FILTER_VALUES = {
    "active": lambda today: (today,),
    "expired": lambda today: (today,),
    "expiring": lambda today: (today, _soon(today)),
    "expiring-60": lambda today: (today, _soon(today, 60)),
    "expiring-90": lambda today: (today, _soon(today, 90)),
    "inactive-11-months": lambda today: (clock.months_before(clock.now(), 11),),
}


def _filter(name: str, *values):
    """The condition of filter `name` with its values (_FILTER_VALUES), or None for no filter."""
    has_authenticator = fn.EXISTS(Authenticator.select(Authenticator.id).where(Authenticator.user == User.id))
    conditions = {
        "active": lambda today: User.active & (User.valid_until >= today),
        "inactive": lambda: ~User.active,
        "expired": lambda today: User.valid_until < today,
        "expiring": _expiring_until,
        "expiring-60": _expiring_until,
        "expiring-90": _expiring_until,
        "blocked": lambda: User.password_blocked_at.is_null(False),
        "no-authenticator": lambda: ~has_authenticator,
        "inactive-11-months": lambda cutoff: User.active & (User.activity_at <= cutoff),
    }
    return conditions[name](*values) if name in conditions else None


def _filter_values(name: str, today: dt.date) -> tuple:
    return _FILTER_VALUES[name](today) if name in _FILTER_VALUES else ()


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
    return {name: base.where(_filter(name, *_filter_values(name, today))).count() for name in OVERVIEW}


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


def _matching_ids(conditions: list, prefix: str, upper: str | None, order: tuple, limit: int):
    """Ids of the first `limit` users, in `order`, whose User ID, last name or e-mail starts with `prefix`.

    One indexed range per key, each cut to its own first `limit` rows, together hold the first `limit` of
    all. A single WHERE with OR over the three keys let SQLite walk a whole company in User ID order, and
    across companies fetch every match (25,000 for "tan" in a million) before sorting; here each range
    is read from an index that also holds user_id_key (migration 0006), so the cut costs no table reads."""
    branches = [User.select(User.id).where(_prefix(key, prefix, upper), *conditions).order_by(*order).limit(limit)
                for key in (User.user_id_key, User.last_name_key, User.email_key)]
    # A subquery each: a compound SELECT takes ORDER BY and LIMIT only at its end.
    return functools.reduce(operator.add, [Select([b.alias(f"m{n}")], [SQL("id")]) for n, b in enumerate(branches)])


def search(company_id: int | None, query: str = "", filter_name: str = "", sort: str = "user_id",
           page: int = 1) -> pagination.Page:
    """A page of users of one company (or of all, for the Service Center). A company's list leaves out Service
    Center staff (the operator's own company has them): they are managed with the `portal` command only."""
    sort = sort if sort in SORTS else "user_id"
    filter_name = filter_name if filter_name in FILTERS else ""
    page = pagination.clamp(page)
    prefix = (query or "").strip().lower()[:100]
    upper = _successor(prefix)
    values = ((() if company_id is None else (company_id,)) + _filter_values(filter_name, clock.today())
              + ((prefix,) if prefix else ()) + ((upper,) if prefix and upper is not None else ())
              + ((page * pagination.PAGE_SIZE + 1,) if prefix else ())
              + (pagination.offset(page), pagination.PAGE_SIZE + 1))
    shape = (company_id is not None, filter_name, sort, bool(prefix), upper is not None)
    prepared = _COMPILED.get(shape) or _COMPILED.setdefault(shape, _compiled(*shape, [type(v) for v in values]))
    return pagination.page_of([Listed(*row) for row in prepared.rows(*values)], page)


_COMPILED: dict[tuple, Prepared] = {}  # one per shape of search: at most 2 x 10 x 4 x 3


def _compiled(scoped: bool, filter_name: str, sort: str, prefixed: bool, bounded: bool, kinds: list) -> Prepared:
    """The search of one shape, built by peewee once per database: building it cost more than running it."""
    filter_count = len(_filter_values(filter_name, dt.date(2000, 1, 1)))

    def build(*values):
        values = list(values)
        take = lambda n: [values.pop(0) for _ in range(n)]  # noqa: E731 (in the order search() lists them)
        conditions = [User.company == take(1)[0], User.role != ROLE_SERVICE_CENTER] if scoped else []
        condition = _filter(filter_name, *take(filter_count))
        if condition is not None:
            conditions.append(condition)
        order = _order(sort)
        if prefixed:
            prefix, upper = take(1)[0], take(1)[0] if bounded else None
            conditions = [User.id.in_(_matching_ids(conditions, prefix, upper, order, take(1)[0]))]
        select = User.select(*LISTED)
        if conditions:
            select = select.where(*conditions)
        offset, limit = take(2)
        return select.order_by(*order).offset(offset).limit(limit)

    return Prepared(build, *kinds, tuples=True)
