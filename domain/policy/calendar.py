"""Periods and working days, exactly as the packs mean them (ADRs 0008 and 0009).

**Periods** are ISO 8601-style codes that keep each policy's own unit:

- ``P1W``, ``P2W`` (fortnightly, POR-3.1c's "bi-weekly"), ``P4W`` (four-weekly:
  28 days), ``P6W``, ``P8W``: whole weeks, counted in days;
- ``P1M`` (monthly: a calendar month), ``P2M`` (every two months, the policies'
  "bi-monthly"), ``P3M`` (quarterly), ``P6M``: calendar months. A month after 31 January
  is the last day of February;
- ``P1Y``: a calendar year (29 February plus a year is 28 February);
- ``NWD`` such as ``5WD``: N working days (below).

**Working days** in England are Monday to Friday, less England-and-Wales bank holidays
(the ``holidays`` package, subdivision ENG, which ships its data: nothing is fetched),
less the authority's own closure days. Day 0 is the day of the event, whatever it is;
a deadline of N working days is the end of the Nth working day after it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays

from domain.errors import ValidationError

_PERIOD = re.compile(r"^P(?P<n>[1-9][0-9]{0,2})(?P<unit>[DWMY])$|^(?P<wd>[1-9][0-9]{0,2})WD$")


@dataclass(frozen=True)
class Period:
    """A length of time in a policy's own unit."""

    code: str
    count: int
    unit: str  # D, W, M, Y or WD

    @classmethod
    def parse(cls, code: str, *, field: str = "period") -> Period:
        match = _PERIOD.match(code) if isinstance(code, str) else None
        if match is None:
            raise ValidationError(
                f"{code!r} is not a period; use P<n>D, P<n>W, P<n>M, P<n>Y or <n>WD "
                "(working days), e.g. P4W, P1M, 5WD",
                field=field,
            )
        if match["wd"]:
            return cls(code, int(match["wd"]), "WD")
        return cls(code, int(match["n"]), match["unit"])

    @property
    def working_days(self) -> bool:
        return self.unit == "WD"

    def after(self, day: date, working: WorkingCalendar | None = None) -> date:
        """The last day of this period counted from ``day`` (day 0)."""
        if self.unit == "D":
            return day + timedelta(days=self.count)
        if self.unit == "W":
            return day + timedelta(weeks=self.count)
        if self.unit == "M":
            return add_months(day, self.count)
        if self.unit == "Y":
            return add_months(day, 12 * self.count)
        if working is None:
            raise ValueError("a working-day period needs a working calendar")
        return working.add_working_days(day, self.count)

    def before(self, day: date) -> date:
        """The day this (calendar) period before ``day``: ``after`` run backwards."""
        if self.unit == "D":
            return day - timedelta(days=self.count)
        if self.unit == "W":
            return day - timedelta(weeks=self.count)
        if self.unit == "M":
            return add_months(day, -self.count)
        if self.unit == "Y":
            return add_months(day, -12 * self.count)
        raise ValueError("a working-day period cannot be counted backwards here")

    def words(self) -> str:
        unit = {"D": "day", "W": "week", "M": "month", "Y": "year", "WD": "working day"}
        name = unit[self.unit]
        return f"{self.count} {name}{'' if self.count == 1 else 's'}"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months on, or the month's last day if shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def bank_holidays(years: Iterable[int]) -> frozenset[date]:
    """England-and-Wales bank holidays (substitute days included) in ``years``."""
    found: set[date] = set()
    for year in years:
        found |= _bank_holidays(year)
    return frozenset(found)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days for one authority: weekdays, less bank holidays and its closure days."""

    closure_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in _bank_holidays(day.year)
            and day not in self.closure_days
        )

    def add_working_days(self, day: date, count: int) -> date:
        """The Nth working day after ``day`` (day 0 need not be a working day)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        remaining = count
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count
