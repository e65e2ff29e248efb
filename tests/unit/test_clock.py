"""months_before: the calendar arithmetic behind the 11- and 12-month lifecycle rules."""
import datetime as dt

import pytest

from portal.clock import months_before


@pytest.mark.parametrize("moment,months,expected", [
    ((2026, 12, 1), 11, (2026, 1, 1)),
    ((2026, 12, 1), 12, (2025, 12, 1)),
    ((2026, 3, 16), 11, (2025, 4, 16)),
    ((2026, 1, 15), 1, (2025, 12, 15)),
    ((2026, 3, 31), 1, (2026, 2, 28)),  # a shorter month: its last day
    ((2024, 3, 31), 1, (2024, 2, 29)),
    ((2026, 5, 31), 11, (2025, 6, 30)),
    ((2025, 1, 28), -12, (2026, 1, 28)),  # negative: months later (the deadline in a warning)
    ((2024, 2, 29), -12, (2025, 2, 28)),
    ((2026, 1, 31), -1, (2026, 2, 28)),
])
def test_same_day_and_time_months_earlier(moment, months, expected):
    at = dt.datetime(*moment, 9, 30, 15, 123456)
    assert months_before(at, months) == dt.datetime(*expected, 9, 30, 15, 123456)
