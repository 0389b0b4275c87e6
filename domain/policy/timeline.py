"""A subject's timeline: the facts recorded on a worker or child, as every read side
(compliance, registers, tracking sheets, history) shares them.

A *fact* is one recorded event on the subject: its position in the log, its catalogue
class, when it happened (valid time) and when it was recorded (system time), and its
fields as stored.

Days are local days in England (Europe/London): an event at 00:30 BST on 1 June counts
on 1 June.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from domain.events import EventType, named

LONDON = ZoneInfo("Europe/London")
T = TypeVar("T")


def local_day(moment: datetime) -> date:
    """The day in England at ``moment``. England's offsets from UTC are whole hours and
    change on the hour (since 1900), so the day of a UTC hour is worked out once per
    hour: three million times in a medium rebuild, a third of it in ``astimezone``."""
    if moment.tzinfo is UTC and moment.year >= _WHOLE_HOURS_SINCE:
        return _day_of_utc_hour(moment.year, moment.month, moment.day, moment.hour)
    return moment.astimezone(LONDON).date()


_WHOLE_HOURS_SINCE = 1900


@lru_cache(maxsize=1 << 17)
def _day_of_utc_hour(year: int, month: int, day: int, hour: int) -> date:
    return datetime(year, month, day, hour, tzinfo=UTC).astimezone(LONDON).date()


class _computed_once(Generic[T]):  # noqa: N801 (a decorator, named like one)
    """``functools.cached_property`` without its lock: Python 3.11's takes an RLock on
    every first read, which cost more than the value (a day per fact, a million facts in
    a medium rebuild). Two threads reading it first at once both compute the same value:
    it is pure, so nothing is lost."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        value = self.compute(instance)
        instance.__dict__[self.name] = value  # read from there from now on
        return value


@dataclass(frozen=True)
class Fact:
    """One recorded event on the subject, its fields as stored (JSON values)."""

    position: int
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    data: Mapping[str, Any]

    @_computed_once
    def kind(self) -> EventType:
        """The event's catalogue class (``domain.events``)."""
        return named(self.event_type)

    @_computed_once
    def day(self) -> date:
        """The local day in England it happened on (computed once: rules ask often)."""
        return local_day(self.occurred_at)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return local_day(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
