"""Periods and working days (ADR 0009): day 0 is the event's day; a deadline of N
working days is the end of the Nth working day after it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.policy.calendar import Period, WorkingCalendar, add_months

ENGLAND = WorkingCalendar()


def test_christmas_2026_boxing_day_substitute_is_not_a_working_day():
    # 25 Dec 2026 is a Friday, 26 Dec a Saturday: Boxing Day's substitute is Monday 28th.
    assert not ENGLAND.is_working_day(date(2026, 12, 25))
    assert not ENGLAND.is_working_day(date(2026, 12, 28))
    assert ENGLAND.is_working_day(date(2026, 12, 29))
    # DUR-4.7a: a session on Thursday 24 Dec 2026, 10 working days -> Tuesday 12 Jan 2027
    # (29, 30, 31 Dec; not New Year's Day, Friday 1 Jan; 4..8 and 11, 12 Jan).
    assert ENGLAND.add_working_days(date(2026, 12, 24), 10) == date(2027, 1, 12)


def test_easter_2026_good_friday_and_easter_monday():
    assert not ENGLAND.is_working_day(date(2026, 4, 3))
    assert not ENGLAND.is_working_day(date(2026, 4, 6))
    # DUR-4.4: back from sickness on Thursday 2 April 2026, 5 working days -> Monday
    # 13 April (7, 8, 9, 10, 13: not Good Friday nor Easter Monday).
    assert ENGLAND.add_working_days(date(2026, 4, 2), 5) == date(2026, 4, 13)


def test_substitute_new_year_2022():
    # 1 Jan 2022 was a Saturday: Monday 3 January was the substitute bank holiday.
    assert not ENGLAND.is_working_day(date(2022, 1, 3))
    assert ENGLAND.add_working_days(date(2021, 12, 31), 1) == date(2022, 1, 4)


def test_authority_closure_days_do_not_count():
    closed = WorkingCalendar(frozenset({date(2026, 12, 29), date(2026, 12, 30)}))
    assert closed.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 31)


def test_day_zero_need_not_be_a_working_day():
    # A Saturday event: the first working day after it is Monday.
    assert ENGLAND.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert ENGLAND.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 21)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 40))
def test_working_days_between_inverts_add(start: date, n: int):
    end = ENGLAND.add_working_days(start, n)
    assert ENGLAND.working_days_between(start, end) == n
    assert n == 0 or ENGLAND.is_working_day(end)


def test_calendar_months_clamp_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 12, 15), 2) == date(2027, 2, 15)
    assert Period.parse("P1Y").after(date(2024, 2, 29)) == date(2025, 2, 28)


def test_four_weekly_is_not_monthly():
    # POR-3.1a "every 4 weeks" (28 days) against DEV-4.1a "monthly" (a calendar month).
    assert Period.parse("P4W").after(date(2026, 1, 1)) == date(2026, 1, 29)
    assert Period.parse("P1M").after(date(2026, 1, 1)) == date(2026, 2, 1)
    assert Period.parse("P2M").after(date(2026, 1, 1)) == date(2026, 3, 1)
    assert Period.parse("P3M").after(date(2026, 1, 1)) == date(2026, 4, 1)


@pytest.mark.parametrize("code", ["", "P", "P0W", "1M", "P1X", "0WD", "P1000D", 5])
def test_bad_period_names_the_field(code):
    with pytest.raises(ValidationError) as error:
        Period.parse(code, field="interval")  # type: ignore[arg-type]
    assert error.value.field == "interval"
