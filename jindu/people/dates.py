"""Calendar arithmetic the rules need (months, not 30-day blocks)."""

from __future__ import annotations

import calendar
from datetime import date

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    if day.day <= 28:
        return date(year, month, day.day)
    # A table rather than calendar.monthrange, which also works out a weekday:
    # worklists call this thousands of times per page.
    last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1]
    return date(year, month, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)
