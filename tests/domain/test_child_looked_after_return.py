"""A child looked after, as the SSDA903 return gives it (issue 21, ADR 0025): care begun
before an imported record, periods missing from care, an imported episode corrected;
each refused, naming the field, when its input is bad."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.events import (
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    ChildRegistered,
    MissingFromCareRecorded,
    OversightTriggered,
    PlacementChanged,
)
from tests.domain.aggregates import NOW, child, kinds, prov, replay

DAY = (NOW - timedelta(days=10)).date()


def test_care_begun_before_the_record_is_in_care_without_a_trigger_and_imports_only() -> None:
    ch = child(case_type="cla")
    with pytest.raises(ValidationError) as refused:
        ch.record_care_began_before_record(prov())
    assert refused.value.field == "imported"
    ch.record_care_began_before_record(prov(imported=True))
    assert ch.in_care and ch.placement is None
    assert OversightTriggered not in kinds(ch)
    with pytest.raises(ValidationError) as again:
        ch.record_care_began_before_record(prov(imported=True))
    assert again.value.field == "child_id"
    ch.change_placement(prov(), placement="U1", reason="CARPL")
    assert kinds(ch) == [ChildRegistered, CareBeganBeforeRecord, PlacementChanged]
    assert replay(ch).in_care and replay(ch).placement == "U1"


def test_a_period_missing_from_care_is_recorded_and_its_bad_input_refused() -> None:
    ch = child(case_type="cla")
    ch.record_missing_from_care(prov(), missing="A", started_on=DAY, ended_on=None)
    ch.record_missing_from_care(prov(), missing="M", started_on=DAY, ended_on=DAY)
    assert kinds(ch).count(MissingFromCareRecorded) == 2
    bad: list[tuple[dict[str, object], str]] = [
        ({"missing": "X", "started_on": DAY, "ended_on": None}, "missing"),
        ({"missing": "M", "started_on": NOW.date() + timedelta(days=2), "ended_on": None},
         "started_on"),
        ({"missing": "M", "started_on": DAY, "ended_on": DAY - timedelta(days=1)}, "ended_on"),
        ({"missing": "M", "started_on": date(2014, 1, 1), "ended_on": None}, "started_on"),
        ({"missing": "M", "started_on": "yesterday", "ended_on": None}, "started_on"),
    ]  # fmt: skip
    for arguments, field in bad:
        with pytest.raises(ValidationError) as refused:
            ch.record_missing_from_care(prov(), **arguments)  # type: ignore[arg-type]
        assert refused.value.field == field, arguments
    assert kinds(ch).count(MissingFromCareRecorded) == 2  # nothing written for them


def test_an_imported_episode_is_corrected_by_an_import_only_and_names_what_it_corrects() -> None:
    ch = child(case_type="cla")
    ch.record_came_into_care(prov(), legal_status="C2", placement="U1")
    good = {
        "episode_started_on": DAY,
        "corrects": PlacementChanged.__name__,
        "changes": {"placement": "U4"},
        "current": True,
    }
    with pytest.raises(ValidationError) as refused:
        ch.correct_care_episode(prov(), **good)  # type: ignore[arg-type]
    assert refused.value.field == "imported"
    for change, field in (
        ({"corrects": "SupervisionSessionHeldX"}, "corrects"),
        ({"changes": {}}, "changes"),
        ({"changes": {"placement": ""}}, "changes"),
        ({"episode_started_on": "today"}, "episode_started_on"),
    ):
        with pytest.raises(ValidationError) as caught:
            ch.correct_care_episode(prov(imported=True), **{**good, **change})  # type: ignore[arg-type]
        assert caught.value.field == field, change
    ch.correct_care_episode(prov(imported=True), **{**good, "current": False})  # type: ignore[arg-type]
    assert ch.placement == "U1"  # an earlier episode: the child's placement stands
    ch.correct_care_episode(prov(imported=True), **good)  # type: ignore[arg-type]
    assert ch.placement == "U4" and replay(ch).placement == "U4"
    assert kinds(ch).count(CareEpisodeCorrected) == 2


@given(st.text(max_size=3))
def test_only_m_or_a_is_a_missing_code(code: str) -> None:
    ch = child(case_type="cla")
    if code in ("M", "A"):
        ch.record_missing_from_care(prov(), missing=code, started_on=DAY, ended_on=None)
        assert kinds(ch)[-1] is MissingFromCareRecorded
    else:
        with pytest.raises(ValidationError):
            ch.record_missing_from_care(prov(), missing=code, started_on=DAY, ended_on=None)
