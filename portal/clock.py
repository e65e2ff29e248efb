"""The one clock of Portal: naive UTC datetimes, replaceable by tests and the CLI's --today."""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

UTC = dt.timezone.utc


def system_now() -> dt.datetime:
    """The real time, whatever clock is set: for leases between processes."""
    return dt.datetime.now(UTC).replace(tzinfo=None)


_source: Callable[[], dt.datetime] = system_now


def now() -> dt.datetime:
    """Current time as a naive UTC datetime (the form stored in the database)."""
    return _source()


def today() -> dt.date:
    return now().date()


def timestamp() -> float:
    """Current time as Unix seconds, for TOTP."""
    return now().replace(tzinfo=UTC).timestamp()


def set_source(source: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _source
    _source = source or system_now


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the last day of a shorter month)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


class FrozenClock:
    """A clock that stands still until moved; used by tests."""

    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current
