"""A small bar chart drawn on the server as SVG: it needs no JavaScript and no image files, and says its
figures in words to screen readers (role=img with a label) as well as on the bars."""
from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from flask_babel import get_locale, ngettext
from markupsafe import Markup, escape

WIDTH, HEIGHT, TOP, BOTTOM = 600, 220, 24, 40


def valid_until_chart(months: list[tuple[dt.date, int]]) -> Markup:
    """One bar per month with its count above it and the month below it (month names in the reader's language)."""
    locale = get_locale() or "en"
    most = max([count for _, count in months] + [1])
    slot = WIDTH / len(months)
    bars = []
    for index, (month, count) in enumerate(months):
        height = (HEIGHT - TOP - BOTTOM) * count / most
        x, y = index * slot + slot * 0.15, HEIGHT - BOTTOM - height
        centre = index * slot + slot / 2
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" class="bar"/>'
                    f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle">{count}</text>'
                    f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(format_date(month, "LLL", locale=locale))}</text>'
                    + (f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 34}" text-anchor="middle" class="year">'
                       f'{month:%Y}</text>' if index == 0 or month.month == 1 else ""))
    words = "; ".join(f"{format_date(month, 'LLLL y', locale=locale)}: {count}" for month, count in months)
    label = escape(ngettext("Valid Until dates by month, next %(num)s month: %(words)s",
                            "Valid Until dates by month, next %(num)s months: %(words)s", len(months), words=words))
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
                  f'preserveAspectRatio="xMidYMid meet">{"".join(bars)}</svg>')
