"""A property of the two instants (ADR 0007, 0030): known at any instant K and as of any
valid time V, a chronology holds exactly the acts recorded by K that had happened by V,
and a correction only once it was recorded; its JSON is the same bytes each time."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.exports.chronology import Request, Sources, chronology
from application.exports.reading import StoreReader
from application.exports.render import Format, chronology_document
from domain.authorization import Principal
from domain.events import RecordAccessed
from domain.identifiers import child_id
from domain.policy.packs import PackLibrary
from domain.vocabulary import Role
from projections.audit_trail import subject_entries
from tests.exports.conftest import Told
from tests.exports.story import LA, at


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(known=st.integers(min_value=0, max_value=60), valid=st.integers(min_value=1, max_value=45))
def test_a_chronology_holds_what_was_recorded_by_k_and_had_happened_by_v(
    told: Told, known: int, valid: int
) -> None:
    trail = [
        e
        for e in subject_entries(told.engine, str(child_id(LA, "C1")), LA)
        if e.event_type != RecordAccessed.__name__
    ]
    # K among the instants the story's acts were recorded at (and between them).
    instants = sorted({e.recorded_at for e in trail})
    k: datetime = instants[min(known, len(instants) - 1)] + timedelta(microseconds=known % 2)
    v = at(valid)
    reader = StoreReader(told.app, Principal("AUD1", Role.QA_AUDITOR, LA), "property")
    sources = Sources(told.engine, PackLibrary.load())
    request = Request(LA, "C1", as_of=v, known_at=k)
    found = chronology(sources, reader, request)
    expected = {e.position for e in trail if e.recorded_at <= k and e.occurred_at <= v}
    assert {line.position for line in found.lines} == expected
    for line in found.lines:
        assert all(c.known_otherwise_from <= k for c in line.corrections)
    again = chronology(sources, reader, request)
    assert chronology_document(found, Format.JSON).content == (
        chronology_document(again, Format.JSON).content
    )
