"""Upcasting through the real store: a version 1 event, stored by the application on
each backend, is read back as version 2 through the real mapper and transcoder (the
catalogue's upcaster path, ``domain/events.py``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.app import OversightApplication
from domain import commands as c
from domain.events import (
    ClosureDayAdded,
    kind_of,
)
from tests.helpers import common, setup_authority

# -- the upcaster path --------------------------------------------------------------------


class ClosureDayAddedV2(ClosureDayAdded):
    """Test only: a later shape of ``ClosureDayAdded`` that also says whether the day is
    a bank holiday, with the upcaster an older stored event is read through."""

    class_version = 2

    bank_holiday: bool

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["bank_holiday"] = False


def test_an_event_stored_at_an_older_version_is_read_back_upcast(
    app: OversightApplication,
) -> None:
    """A version 1 event, stored by the real application, decodes through the real
    mapper and transcoder as version 2; a version 2 event is stored with its version
    and decodes without upcasting."""
    setup_authority(app)
    day = date.today() - timedelta(days=3)
    app.execute(c.AddClosureDay(**common(), day=day, reason="Snow"))
    stored = [
        n
        for n in app.recorder.select_notifications(start=1, limit=100)
        if kind_of(app.mapper.to_domain_event(n)) is ClosureDayAdded
    ]
    assert len(stored) == 1
    old = stored[0]
    assert b"class_version" not in old.state  # version 1 states no version
    as_later = StoredEvent(
        originator_id=old.originator_id,
        originator_version=old.originator_version,
        topic=get_topic(ClosureDayAddedV2),
        state=old.state,
    )
    upcast = app.mapper.to_domain_event(as_later)
    assert isinstance(upcast, ClosureDayAddedV2)
    assert kind_of(upcast) is ClosureDayAdded
    assert upcast.bank_holiday is False
    assert (upcast.day, upcast.reason) == (day, "Snow")
    assert upcast.provenance.actor_id == "ADMIN"

    fields: dict[str, Any] = {  # the library's metaclass makes the dataclass: mypy sees none
        "originator_id": old.originator_id,
        "originator_version": old.originator_version + 1,
        "timestamp": upcast.timestamp,
        "provenance": upcast.provenance,
        "day": day + timedelta(days=1),
        "reason": "Snow again",
        "bank_holiday": True,
    }
    later = ClosureDayAddedV2(**fields)
    restored = app.mapper.to_stored_event(later)
    assert b'"class_version":2' in restored.state.replace(b" ", b"")
    decoded = app.mapper.to_domain_event(restored)
    assert isinstance(decoded, ClosureDayAddedV2)
    assert decoded.bank_holiday is True
    assert decoded.day == day + timedelta(days=1)
