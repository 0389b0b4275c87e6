"""The clock engine: each matcher, clocks declared and overridden in packs, bad clock data
refused naming the pack, the clock and the field, and the engine against a plain
reference (the if/elif it replaced) over generated histories."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    CaseSupervisionRecorded,
    ChildRegistered,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntrySignaturesVoided,
    EventType,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    PlacementChanged,
    SupervisionSessionHeld,
    WorkerRegistered,
)
from domain.policy.calendar import Period, WorkingCalendar
from domain.policy.clocks import STARTS, STOPS, Clock, run
from domain.policy.compliance import Status, finding, known_facts, obligations
from domain.policy.packs import BUILT_IN, CLOCKS, Pack, PackError, PackLibrary, parse_pack
from domain.policy.timeline import Fact

LIBRARY = PackLibrary.load([BUILT_IN])
BASE = LIBRARY.get("SWRB")
ENGLAND = WorkingCalendar()
DAY = date(2026, 3, 2)  # a Monday


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Story:
    """Facts in the order they are added (valid time and recorded order alike)."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(
        self,
        event: EventType,
        day: date,
        /,
        *,
        hour: int = 10,
        recorded: date | None = None,
        **data: Any,
    ) -> Fact:
        fact = Fact(
            len(self.facts) + 1, event.__name__, at(day, hour), at(recorded or day, 18), data
        )
        self.facts.append(fact)
        return fact


def clock(name: str) -> Clock:
    return BASE.clocks[name]


def runs(name: str, facts: Sequence[Fact], **kwargs: Any) -> list[tuple[Any, ...]]:
    return list(run(clock(name), facts, kwargs.pop("related", {}), **kwargs))


# -- the clocks are data ---------------------------------------------------------------------


def test_every_built_in_pack_inherits_the_national_minimums_clocks() -> None:
    assert set(BASE.clocks) == set(CLOCKS)
    for pack in LIBRARY.packs.values():
        assert pack.clocks == BASE.clocks
        for rule in pack.rules:
            if rule.kind == "deadline":
                assert rule.clock_definition is pack.clocks[str(rule.clock)]


def test_every_matcher_is_used_by_a_built_in_clock() -> None:
    defined = [c for c in BASE.clocks.values() if c.register is None]
    assert {c.start.match for c in defined if c.start} == set(STARTS)
    assert {c.stop.match for c in defined if c.stop} == set(STOPS)


def test_a_register_clock_is_not_run_by_the_engine() -> None:
    with pytest.raises(ValueError, match="actions register"):
        runs("action_due", [])


# -- each matcher ----------------------------------------------------------------------------


def test_closing_starts_only_where_the_opening_event_matches() -> None:
    story = Story()
    story.add(AbsenceStarted, DAY, absence_id="A1", kind="sickness", started_on=DAY)
    story.add(AbsenceStarted, DAY, absence_id="A2", kind="annual_leave", started_on=DAY)
    back = DAY + timedelta(days=9)
    ended = story.add(AbsenceEnded, DAY + timedelta(days=3), absence_id="A1", returned_on=back)
    story.add(AbsenceEnded, DAY + timedelta(days=3), absence_id="A2", returned_on=back)
    story.add(AbsenceEnded, DAY + timedelta(days=3), absence_id="A9", returned_on=back)
    early = DAY + timedelta(days=8)
    story.add(SupervisionSessionHeld, early, session_id="S0", supervisor_id="TM1")
    held = story.add(SupervisionSessionHeld, back, session_id="S1", supervisor_id="TM1")
    # Starts on the day given by ``on`` (the return), and a session before it does not stop it.
    assert runs("return_from_sickness", story.facts) == [
        (ended, back, held, "a supervision session after return from sickness", "A1")
    ]


def test_keyed_stops_at_the_latest_event_naming_the_item() -> None:
    story = Story()
    raised = story.add(DisagreementRaised, DAY, disagreement_id="D1", subject="x", about="y")
    story.add(DisagreementRaised, DAY, disagreement_id="D2", subject="x", about="y")
    story.add(DisagreementResolved, DAY + timedelta(days=1), disagreement_id="D1")
    last = story.add(DisagreementResolved, DAY + timedelta(days=2), disagreement_id="D1")
    found = runs("disagreement_resolved", story.facts)
    assert [(f[0], f[2], f[4]) for f in found] == [(raised, last, "D1"), (found[1][0], None, "D2")]


def test_listed_stops_at_the_first_record_listing_the_item_and_names_its_kind() -> None:
    story = Story()
    trigger = story.add(OversightTriggered, DAY, trigger_id="T1", kind="child_became_looked_after")
    first = story.add(
        ManagementOversightRecorded, DAY + timedelta(days=1), entry_id="M1",
        answers_trigger_ids=["T0", "T1"],
    )  # fmt: skip
    story.add(
        ManagementOversightRecorded, DAY + timedelta(days=2), entry_id="M2",
        answers_trigger_ids=["T1"],
    )  # fmt: skip
    assert runs("trigger_answered", story.facts) == [
        (trigger, DAY, first, "a manager's oversight record (child became looked after)", "T1")
    ]


def test_first_after_counts_from_the_moment_not_the_day() -> None:
    story = Story()
    story.add(CaseSupervisionRecorded, DAY, hour=9, entry_id="C0", worker_id="SW1")
    oversight = story.add(
        ManagementOversightRecorded, DAY, hour=11, entry_id="M1", actions=[{"action_id": "X"}]
    )
    story.add(ManagementOversightRecorded, DAY, hour=12, entry_id="M2", actions=[])
    later = story.add(CaseSupervisionRecorded, DAY, hour=15, entry_id="C1", worker_id="SW1")
    # Only an oversight that set actions starts the clock (``present``).
    assert runs("oversight_actions_reviewed", story.facts) == [
        (oversight, DAY, later, "the oversight's actions reviewed at case supervision", "M1")
    ]


def test_recorded_stops_on_the_day_the_entry_was_recorded() -> None:
    story = Story()
    entered = DAY + timedelta(days=4)
    entry = story.add(CaseSupervisionRecorded, DAY, recorded=entered, entry_id="C1")
    [(start, day, done, _, item)] = runs("case_record_entered", story.facts)
    assert (start, day, item) == (entry, DAY, "C1")
    assert done is not None and done.day == entered and done.position == entry.position


def test_signed_by_all_needs_every_party_again_after_a_correction_voids_one() -> None:
    story = Story()
    held = story.add(SupervisionSessionHeld, DAY, session_id="S1", supervisor_id="TM1")
    story.add(PersonalSupervisionRecordWritten, DAY, session_id="S1", record_id="R1")
    story.add(PersonalSupervisionRecordSigned, DAY, record_id="R1", signatory="supervisor")
    last = story.add(
        PersonalSupervisionRecordSigned, DAY, hour=11, record_id="R1", signatory="supervisee"
    )
    assert runs("record_signed", story.facts)[0][2] is last
    story.add(EntrySignaturesVoided, DAY + timedelta(days=1), entry_id="R1", voided=["supervisee"])
    assert runs("record_signed", story.facts) == [
        (held, DAY, None, "the record signed by both", "S1")
    ]
    again = story.add(
        PersonalSupervisionRecordSigned, DAY + timedelta(days=2), record_id="R1",
        signatory="supervisee",
    )  # fmt: skip
    assert runs("record_signed", story.facts)[0][2] is again


def test_first_since_skips_the_absent_supervisor_and_their_return_ends_the_clock() -> None:
    worker = Story()
    worker.add(WorkerRegistered, DAY, staff_id="SW1", line_manager_id="TM1")
    away = Story()
    began = DAY + timedelta(days=7)
    started = away.add(AbsenceStarted, began, absence_id="X", kind="sickness", started_on=began)
    after = Period.parse("P4W")
    due_from = after.after(began)
    # A session with the absent supervisor does not count; one with another does.
    worker.add(SupervisionSessionHeld, began, session_id="S1", supervisor_id="TM1")
    other = worker.add(
        SupervisionSessionHeld, began + timedelta(days=40), session_id="S2", supervisor_id="TM2"
    )
    what = f"supervision by someone other than TM1, absent from {began.isoformat()}"
    found = runs("supervisor_absent", worker.facts, related={"TM1": away.facts}, after=after)
    assert found == [(started, due_from, other, what, "TM1")]
    # Back before anyone else supervised: the return stops the clock.
    back = began + timedelta(days=35)
    away.add(AbsenceEnded, back, absence_id="X", returned_on=back)
    [(_, _, done, _, _)] = runs(
        "supervisor_absent", worker.facts, related={"TM1": away.facts}, after=after
    )
    assert done is not None and done.kind is AbsenceEnded and done.day == back


# -- an authority's own clocks, without code -------------------------------------------------

VISIT = {
    "subject": "child",
    "item": "placement",
    "what": "case supervision after the move to {placement:words}",
    "start": {"match": "each", "event": PlacementChanged.__name__},
    "stop": {"match": "first_since", "events": [CaseSupervisionRecorded.__name__]},
}
VISIT_RULE = {
    "id": "LOC-1",
    "kind": "deadline",
    "subject": "child",
    "title": "Case supervision within 10 working days of a move (authority setting)",
    "clock": "placement_visit",
    "within": "10WD",
}


def _local(parent: Pack, **document: Any) -> Pack:
    return parse_pack(
        {"pack": {"id": "LOC", "extends": parent.pack_id}, **document}, "loc.toml", parent
    )


def test_an_authority_declares_a_clock_and_a_rule_that_uses_it() -> None:
    pack = _local(BASE, clock={"placement_visit": VISIT}, rule=[VISIT_RULE])
    assert set(pack.clocks) == set(BASE.clocks) | {"placement_visit"}
    story = Story()
    story.add(ChildRegistered, DAY, local_child_id="C1", case_type="cla", risk_level="low")
    moved = DAY + timedelta(days=10)
    story.add(PlacementChanged, moved, placement="residential_home", reason="needs")
    story.add(CaseSupervisionRecorded, moved + timedelta(days=20), entry_id="CS1")
    [found] = [
        o
        for o in obligations(known_facts(story.facts), pack, ENGLAND, date(2027, 1, 1))
        if o.rule_id == "LOC-1"
    ]
    assert found.arises_on == moved and found.due_on == date(2026, 3, 26)
    result = finding(found, date(2026, 6, 1), pack.due_soon)
    assert result.status is Status.BREACHED
    assert result.sentence.startswith("Case supervision after the move to residential home on")


def test_a_pack_that_replaces_a_clock_changes_the_rules_it_inherits() -> None:
    # Durham's DUR-4.10 says "resolved, or referred": a copy counts an escalation too.
    referred = {
        **copy.deepcopy(dict(_raw_clock("disagreement_resolved"))),
        "stop": {
            "match": "keyed",
            "event": DisagreementEscalated.__name__,
            "key": "disagreement_id",
        },
    }
    durham = LIBRARY.get("DUR")
    pack = _local(durham, clock={"disagreement_resolved": referred})
    [rule] = [r for r in pack.rules if r.rule_id == "DUR-4.10"]
    assert rule.clock_definition is pack.clocks["disagreement_resolved"]
    story = Story()
    raised = story.add(DisagreementRaised, DAY, disagreement_id="D1", subject="x", about="y")
    escalated = story.add(
        DisagreementEscalated, DAY + timedelta(days=2), disagreement_id="D1", level="2", reason="r"
    )
    assert list(run(pack.clocks["disagreement_resolved"], story.facts, {})) == [
        (raised, DAY, escalated, "resolution of the disagreement", "D1")
    ]
    [(_, _, resolved, _, _)] = run(durham.clocks["disagreement_resolved"], story.facts, {})
    assert resolved is None  # Durham's own clock waits for the resolution


def test_a_replaced_clock_that_no_longer_fits_an_inherited_rule_is_refused() -> None:
    for_children = {**copy.deepcopy(dict(_raw_clock("record_shared"))), "subject": "child"}
    with pytest.raises(PackError) as error:
        _local(LIBRARY.get("DUR"), clock={"record_shared": for_children})
    assert error.value.field == "clock"
    assert "loc.toml rule DUR-4.7a/shared (from DUR)" in str(error.value)
    assert "clock record_shared runs on a child" in str(error.value)


def _raw_clock(name: str) -> dict[str, Any]:
    """A built-in clock's table as the national minimum's file gives it."""
    return dict(tomllib.loads((BUILT_IN / "swrb.toml").read_text(encoding="utf-8"))["clock"][name])


# -- bad clock data is refused, naming the pack, the clock and the field ---------------------


def _set(path: str, value: Any) -> Any:
    def change(table: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for name in parents:
            table = table[name]
        if value is None:
            del table[last]
        else:
            table[last] = value

    return change


BAD_CLOCKS = [
    ("start.event", "PlacementChangd", "clock.placement_visit.start.event", "unknown event"),
    ("start.match", "every", "clock.placement_visit.start.match", "unknown start matcher"),
    ("stop.match", "soonest", "clock.placement_visit.stop.match", "unknown stop matcher"),
    (
        "stop.events",
        ["CaseSupervisionRecordd"],
        "clock.placement_visit.stop.events",
        "unknown event",
    ),
    ("item", None, "clock.placement_visit.item", "item (the field naming"),
    ("item", "placement_id", "clock.placement_visit.item", "has no field 'placement_id'"),
    ("start.on", "moved_on", "clock.placement_visit.start.on", "has no field 'moved_on'"),
    ("start.where", {"kind": "x"}, "clock.placement_visit.start.where.kind", "has no field"),
    ("stop.match", "keyed", "clock.placement_visit.stop.events", "unknown parameter"),
    ("stop.other_than", "worker", "clock.placement_visit.stop.other_than", "has no field"),
    ("stop.frequency", "P1W", "clock.placement_visit.stop.frequency", "unknown parameter"),
    ("what", "a visit to {home}", "clock.placement_visit.what", "what names {home}"),
    ("what", "a visit to {placement:upper}", "clock.placement_visit.what", "only spec is words"),
    ("what", "a visit to {placement!r}", "clock.placement_visit.what", "no conversions"),
    ("what", None, "clock.placement_visit.what", "what (what is due"),
    ("subject", "team", "clock.placement_visit.subject", "subject must be"),
    ("start", None, "clock.placement_visit.start", "start (what starts the clock)"),
    ("colour", "red", "clock.placement_visit.colour", "unknown parameter"),
    ("register", "leave", "clock.placement_visit.register", "unknown register"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD_CLOCKS)
def test_a_bad_clock_is_refused_naming_the_pack_the_clock_and_the_field(
    path: str, value: Any, field: str, words: str
) -> None:
    table = copy.deepcopy(VISIT)
    _set(path, value)(table)
    with pytest.raises(PackError) as error:
        _local(BASE, clock={"placement_visit": table})
    assert error.value.field == field
    assert "loc.toml clock placement_visit:" in str(error.value)
    assert words in str(error.value)


def test_a_stop_matcher_missing_a_parameter_is_refused() -> None:
    table = copy.deepcopy(VISIT)
    table["stop"] = {"match": "keyed", "event": CaseSupervisionRecorded.__name__}
    with pytest.raises(PackError, match="keyed needs key") as error:
        _local(BASE, clock={"placement_visit": table})
    assert error.value.field == "clock.placement_visit.stop.key"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"clock": "placement_visits"}, "clock", "unknown clock 'placement_visits'"),
        ({"subject": "worker"}, "clock", "clock placement_visit runs on a child"),
        ({"within": None}, "within", "not a period"),
        ({"events": ["PlacementMoved"]}, "events", "unknown event 'PlacementMoved'"),
        ({"after": "P4W"}, "after", "after is a parameter of clocks started by supervisor_absence"),
    ],
)
def test_a_deadline_rule_must_fit_its_clock(change: dict[str, Any], field: str, words: str) -> None:
    rule = {**VISIT_RULE, **change}
    rule = {k: v for k, v in rule.items() if v is not None}
    with pytest.raises(PackError) as error:
        _local(BASE, clock={"placement_visit": VISIT}, rule=[rule])
    assert error.value.field == field
    assert "loc.toml rule LOC-1" in str(error.value)
    assert words in str(error.value)


def test_a_supervisor_absent_rule_needs_after() -> None:
    rule = {**VISIT_RULE, "subject": "worker", "clock": "supervisor_absent"}
    with pytest.raises(PackError) as error:
        _local(BASE, rule=[rule])
    assert error.value.field == "after"


# -- the engine against the if/elif it replaced, over generated histories --------------------


def reference_return_from_sickness(facts: Sequence[Fact]) -> Iterator[tuple[Any, ...]]:
    kinds = {str(f.data["absence_id"]): f.data["kind"] for f in facts if f.kind is AbsenceStarted}
    sessions = [f for f in facts if f.kind is SupervisionSessionHeld]
    for fact in facts:
        if fact.kind is AbsenceEnded and kinds.get(str(fact.data["absence_id"])) == "sickness":
            back = date.fromisoformat(str(fact.data["returned_on"]))
            done = next((s for s in sessions if s.day >= back), None)
            what = "a supervision session after return from sickness"
            yield fact, back, done, what, str(fact.data["absence_id"])


def reference_records(facts: Sequence[Fact], signed_too: bool) -> Iterator[tuple[Any, ...]]:
    written = {
        str(f.data["session_id"]): f for f in facts if f.kind is PersonalSupervisionRecordWritten
    }
    signatures: dict[str, dict[str, Fact]] = {}
    for f in sorted(facts, key=lambda f: f.position):
        if f.kind is PersonalSupervisionRecordSigned:
            signatures.setdefault(str(f.data["record_id"]), {})[str(f.data["signatory"])] = f
        elif f.kind is EntrySignaturesVoided:
            for party in f.data["voided"]:
                signatures.get(str(f.data["entry_id"]), {}).pop(str(party), None)
    for fact in facts:
        if fact.kind is not SupervisionSessionHeld:
            continue
        session_id = str(fact.data["session_id"])
        record = written.get(session_id)
        if not signed_too:
            yield fact, fact.day, record, "the personal supervision record", session_id
            continue
        signed = signatures.get(str(record.data["record_id"]), {}) if record else {}
        both = [signed[p] for p in ("supervisor", "supervisee") if p in signed]
        done = max(both, key=lambda f: f.occurred_at) if len(both) == 2 else None
        yield fact, fact.day, done, "the record signed by both", session_id


def reference_trigger_answered(facts: Sequence[Fact]) -> Iterator[tuple[Any, ...]]:
    answers: dict[str, Fact] = {}
    for f in facts:
        if f.kind is ManagementOversightRecorded:
            for trigger_id in f.data.get("answers_trigger_ids", []):
                answers.setdefault(str(trigger_id), f)
    for fact in facts:
        if fact.kind is OversightTriggered:
            item = str(fact.data["trigger_id"])
            kind = str(fact.data["kind"]).replace("_", " ")
            yield fact, fact.day, answers.get(item), f"a manager's oversight record ({kind})", item


def reference_actions_reviewed(facts: Sequence[Fact]) -> Iterator[tuple[Any, ...]]:
    supervisions = [f for f in facts if f.kind is CaseSupervisionRecorded]
    for fact in facts:
        if fact.kind is ManagementOversightRecorded and fact.data.get("actions"):
            done = next((s for s in supervisions if s.occurred_at > fact.occurred_at), None)
            what = "the oversight's actions reviewed at case supervision"
            yield fact, fact.day, done, what, str(fact.data["entry_id"])


ONE_OF_THREE = st.sampled_from("123")
PARTIES = st.sampled_from(["supervisor", "supervisee", "supervisor", "supervisee", "other"])


def _fields(kind: EventType, day: date, draw: st.DrawFn) -> dict[str, Any]:
    n = draw(ONE_OF_THREE)
    if kind is AbsenceStarted:
        leave = draw(st.sampled_from(["sickness", "annual_leave"]))
        return {"absence_id": f"A{n}", "kind": leave, "started_on": day.isoformat()}
    if kind is AbsenceEnded:
        back = day + timedelta(days=draw(st.integers(0, 3)))
        return {"absence_id": f"A{n}", "returned_on": back.isoformat()}
    if kind is SupervisionSessionHeld:
        return {"session_id": f"S{n}", "supervisor_id": "TM1", "duration_minutes": 60}
    if kind is PersonalSupervisionRecordWritten:
        return {"session_id": f"S{n}", "record_id": f"R{n}"}
    if kind is PersonalSupervisionRecordSigned:
        return {"record_id": f"R{n}", "signatory": draw(PARTIES)}
    if kind is EntrySignaturesVoided:
        return {"entry_id": f"R{n}", "voided": draw(st.lists(PARTIES, max_size=2))}
    if kind is OversightTriggered:
        reason = draw(st.sampled_from(["child_became_looked_after", "allocation"]))
        return {"trigger_id": f"T{n}", "kind": reason}
    if kind is ManagementOversightRecorded:
        answers = draw(st.lists(ONE_OF_THREE.map(lambda t: f"T{t}"), max_size=2))
        actions = draw(st.lists(st.just({"action_id": f"X{n}"}), max_size=1))
        return {"entry_id": f"M{n}", "answers_trigger_ids": answers, "actions": actions}
    return {"entry_id": f"C{n}", "worker_id": "SW1"}  # case supervision


#: Each clock, the code it replaced, and the events its generated histories draw from
#: (signatures weighted, so that records do get signed by both).
REFERENCES: dict[
    str, tuple[Callable[[Sequence[Fact]], Iterator[tuple[Any, ...]]], list[EventType]]
] = {
    "return_from_sickness": (
        reference_return_from_sickness,
        [AbsenceStarted, AbsenceEnded, SupervisionSessionHeld],
    ),
    "record_shared": (
        lambda facts: reference_records(facts, signed_too=False),
        [SupervisionSessionHeld, PersonalSupervisionRecordWritten],
    ),
    "record_signed": (
        lambda facts: reference_records(facts, signed_too=True),
        [SupervisionSessionHeld, PersonalSupervisionRecordWritten]
        + [PersonalSupervisionRecordSigned] * 3
        + [EntrySignaturesVoided],
    ),
    "trigger_answered": (
        reference_trigger_answered,
        [OversightTriggered, ManagementOversightRecorded],
    ),
    "oversight_actions_reviewed": (
        reference_actions_reviewed,
        [ManagementOversightRecorded, CaseSupervisionRecorded],
    ),
}


@st.composite
def histories(draw: st.DrawFn, kinds: list[EventType]) -> list[Fact]:
    """A subject's facts in valid-time order, recorded in another order, over a month."""
    size = draw(st.integers(0, 20))
    positions = draw(st.permutations(range(1, size + 1)))
    facts = []
    for position in positions:
        kind = draw(st.sampled_from(kinds))
        day = DAY + timedelta(days=draw(st.integers(0, 30)))
        occurred = at(day, draw(st.integers(0, 23)))
        recorded = at(day + timedelta(days=draw(st.integers(0, 5))), 18)
        facts.append(Fact(position, kind.__name__, occurred, recorded, _fields(kind, day, draw)))
    return sorted(facts, key=lambda f: (f.occurred_at, f.position))


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_engine_runs_each_clock_as_the_code_it_replaced(name: str, data: st.DataObject) -> None:
    reference, kinds = REFERENCES[name]
    facts = data.draw(histories(kinds))
    assert runs(name, facts) == list(reference(facts))
