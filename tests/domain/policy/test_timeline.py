"""The one fold (issue 18): a subject's timeline, and the places the old folds disagreed.

Before the timeline, compliance (``known_facts``, ``life_of``), registers (``profile``),
sheets and history each folded a subject's facts their own way. Each test below is one
place they disagreed; the timeline decides it once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import (
    CaseClosed,
    ChildRegistered,
    EntryCorrected,
    EntrySignaturesVoided,
    ManagementDecisionRecorded,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    SupervisionSessionHeld,
    WorkerAllocated,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
)
from domain.policy.compliance import known_facts, life_of, obligations
from domain.policy.registers import SIGN_OFFS, allocations, profile, registers
from domain.policy.sheets import supervision_sheet
from domain.policy.timeline import ATTRIBUTES, ENTRIES, Timeline, timeline_of
from tests.domain.policy.test_compliance import ENGLAND, LIBRARY, Facts, at, worker


def _worker(start: date) -> Facts:
    """A worker as registered: with their staff id and line manager."""
    facts = Facts()
    facts.add(WorkerRegistered, start, staff_id="SW1", display_name="Sam", team="South",
              line_manager_id="TM1", role="social_worker", case_holding=True,
              employment_pattern="full_time", engagement="permanent",
              start_date=start.isoformat(), nqsw_asye_start=None)  # fmt: skip
    return facts


def _signed_and_corrected() -> Facts:
    """A session whose record both signed, then corrected (voiding both signatures)."""
    facts = _worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 3, 2), session_id="S1", supervisor_id="TM1",
              duration_minutes=90)  # fmt: skip
    facts.add(PersonalSupervisionRecordWritten, date(2026, 3, 3), record_id="R1",
              session_id="S1", workload="Manageable")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 4), record_id="R1",
              signatory="supervisor")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 5), record_id="R1",
              signatory="supervisee")  # fmt: skip
    facts.add(EntryCorrected, date(2026, 3, 6), entry_id="R1",
              changes={"workload": "High"}, reason="miscounted")  # fmt: skip
    facts.add(EntrySignaturesVoided, date(2026, 3, 6), entry_id="R1",
              voided=["supervisor", "supervisee"])  # fmt: skip
    return facts


def test_one_table_of_what_each_event_sets_keyed_by_class() -> None:
    assert all(isinstance(k, type) for k in (*ATTRIBUTES, *ENTRIES))
    assert WorkerRegistered in ATTRIBUTES and SupervisionSessionHeld in ENTRIES


def test_the_timeline_is_folded_once_for_every_reader() -> None:
    facts = _signed_and_corrected()
    current = known_facts(facts.items)
    timeline = timeline_of(current)
    assert timeline_of(current) is timeline  # registers, sheets, life read the same fold
    assert life_of(current) is timeline.life
    assert [f.position for f in current] == [f.position for f in Timeline(facts.items).facts]


def test_disagreement_signatures_voided_by_a_correction_count_in_registers_and_sheets() -> None:
    """Compliance's record_signed clock and the history honoured a voiding (ADR 0020);
    the sign-off register and the supervision sheet did not, and showed the record
    signed by both. Now all read ``Timeline.signatures``."""
    facts = _signed_and_corrected()
    current = known_facts(facts.items)
    [item] = [i for i in registers(current, []) if i.register == SIGN_OFFS]
    assert item.closed_on is None
    assert item.detail["awaiting"] == ["supervisor", "supervisee"]
    who = profile(current)
    assert who is not None
    [row] = supervision_sheet(who, current, date(2026, 6, 1)).sessions
    assert row.record_signed_by_both is False
    # Both sign again after the correction: signed, in every reader.
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 7), record_id="R1",
              signatory="supervisor")  # fmt: skip
    facts.add(PersonalSupervisionRecordSigned, date(2026, 3, 8), record_id="R1",
              signatory="supervisee")  # fmt: skip
    current = known_facts(facts.items)
    [item] = [i for i in registers(current, []) if i.register == SIGN_OFFS]
    assert item.closed_on == date(2026, 3, 8)
    [row] = supervision_sheet(who, current, date(2026, 6, 1)).sessions
    assert row.record_signed_by_both is True
    entries, _ = Timeline(facts.items).entries_at(None)
    assert entries["R1"]["signed_by_supervisee"] is True


def test_disagreement_corrections_to_records_and_decisions_apply_everywhere() -> None:
    """Compliance applied corrections only to seven kinds of entry; the history to any
    entry, so a corrected personal record (or management decision) read differently.
    Now every correctable kind (the aggregates' ``CORRECTABLE``) is corrected once."""
    facts = _signed_and_corrected()
    [record] = [f for f in known_facts(facts.items) if f.kind is PersonalSupervisionRecordWritten]
    assert record.data["workload"] == "High"
    entries, _ = Timeline(facts.items).entries_at(None)
    assert entries["R1"]["workload"] == "High"
    # Known before the correction was recorded, the original stands.
    before = known_facts(facts.items, at(date(2026, 3, 6), 12))
    [record] = [f for f in before if f.kind is PersonalSupervisionRecordWritten]
    assert record.data["workload"] == "Manageable"

    child = Facts()
    child.add(ChildRegistered, date(2026, 1, 1), local_child_id="C1", case_type="cin",
              risk_level="low", rag=None, date_of_birth="2015-01-01")  # fmt: skip
    child.add(ManagementDecisionRecorded, date(2026, 2, 1), entry_id="MD1", decision="Visit",
              rationale="r")  # fmt: skip
    child.add(EntryCorrected, date(2026, 2, 2), entry_id="MD1", changes={"decision": "Place"},
              reason="x")  # fmt: skip
    [decision] = [f for f in known_facts(child.items) if f.kind is ManagementDecisionRecorded]
    assert decision.data["decision"] == "Place"


def test_disagreement_a_corrected_held_on_moves_the_session_in_history_too() -> None:
    """Compliance moved a session whose ``held_on`` was corrected to its corrected day;
    the history filtered it as of V by the day first recorded. Now the entry's valid time
    as known at K decides both: as of a day between, the session had not happened."""
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 3, 1), session_id="S1", supervisor_id="TM1",
              duration_minutes=90)  # fmt: skip
    moved = at(date(2026, 3, 10)).isoformat()
    facts.add(EntryCorrected, date(2026, 3, 20), entry_id="S1", changes={"held_on": moved},
              reason="wrong day")  # fmt: skip
    timeline = Timeline(facts.items)
    [held] = [f for f in timeline.facts if f.kind is SupervisionSessionHeld]
    assert held.day == date(2026, 3, 10)
    assert "S1" not in timeline.entries_at(at(date(2026, 3, 5)))[0]
    assert "S1" in timeline.entries_at(at(date(2026, 3, 10)))[0]
    # Known before the correction, it was held on 1 March.
    earlier = Timeline(facts.items, at(date(2026, 3, 20), 12))
    assert "S1" in earlier.entries_at(at(date(2026, 3, 5)))[0]


def test_disagreement_a_corrected_day_without_a_time_stays_in_england() -> None:
    """``known_facts`` read a corrected ``held_on`` of a bare date as a naive datetime,
    which cannot be ordered against the others; the timeline keeps the original's time
    of day and zone."""
    facts = worker(date(2025, 1, 1))
    facts.add(SupervisionSessionHeld, date(2026, 3, 1), session_id="S1", duration_minutes=90)
    facts.add(SupervisionSessionHeld, date(2026, 3, 15), session_id="S2", duration_minutes=90)
    facts.add(EntryCorrected, date(2026, 3, 20), entry_id="S1", changes={"held_on": "2026-03-20"},
              reason="wrong day")  # fmt: skip
    held = [f for f in known_facts(facts.items) if f.kind is SupervisionSessionHeld]
    assert [(f.data["session_id"], f.day) for f in held] == [
        ("S2", date(2026, 3, 15)),
        ("S1", date(2026, 3, 20)),
    ]
    assert held[1].occurred_at.tzinfo is not None


def test_disagreement_attributes_read_as_recorded_and_packs_compare_their_words() -> None:
    """Compliance's life turned ``case_holding`` into the string ``"true"`` and dropped
    empty values; the history kept the recorded ``True``. Now one value (as recorded),
    and a pack's condition compares it as the pack writes it."""
    facts = worker(date(2025, 1, 1))
    life = life_of(known_facts(facts.items))
    assert life is not None
    assert life.at(date(2025, 6, 1))["case_holding"] is True
    assert Timeline(facts.items).current["case_holding"] is True
    # DUR's case-holding rules still apply to a case-holding worker.
    found = obligations(known_facts(facts.items), LIBRARY.get("DUR"), ENGLAND, date(2025, 6, 1))
    assert found


def test_profile_and_life_read_the_same_attributes_and_end() -> None:
    facts = _worker(date(2025, 1, 1))
    facts.add(WorkerTeamChanged, date(2025, 3, 1), team="North")
    facts.add(WorkerRoleChanged, date(2025, 4, 1), role="senior_practitioner")
    timeline = Timeline(facts.items)
    who = profile(timeline.facts)
    assert who is not None and who.team == "North"
    assert timeline.attributes_at(at(date(2025, 3, 15)))["role"] == "social_worker"
    assert timeline.current["role"] == "senior_practitioner"

    child = Facts()
    child.add(ChildRegistered, date(2026, 1, 1), local_child_id="C1", case_type="cin",
              risk_level="low", rag=None)  # fmt: skip
    child.add(WorkerAllocated, date(2026, 1, 2), worker_id="SW1", team="North")
    child.add(WorkerAllocated, date(2026, 2, 2), worker_id="SW2", team="South")
    child.add(CaseClosed, date(2026, 3, 2), kind="closed")
    current = known_facts(child.items)
    who = profile(current)
    assert who is not None
    assert (who.manager_id, who.team, who.ended_on) == ("SW2", "South", date(2026, 3, 2))
    assert [(a.worker_id, a.start, a.end) for a in allocations(current)] == [
        ("SW1", date(2026, 1, 2), date(2026, 2, 2)),
        ("SW2", date(2026, 2, 2), date(2026, 3, 2)),
    ]
    life = life_of(current)
    assert life is not None and life.end == who.ended_on


# -- the property: compliance's facts and the entries agree, at every (V, K) ---------------

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("hold"), st.integers(0, 60), st.integers(30, 120)),
        st.tuples(st.just("minutes"), st.integers(0, 60), st.integers(30, 120)),
        st.tuples(st.just("move"), st.integers(0, 60), st.integers(0, 60)),
        st.tuples(st.just("role"), st.integers(0, 60), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(steps, st.lists(st.tuples(st.integers(-1, 62), st.integers(0, 20)), min_size=1, max_size=6))
def test_compliance_facts_and_entries_agree_with_a_naive_oracle(
    plan: list[tuple[str, int, int]], instants: list[tuple[int, int]]
) -> None:
    """For generated histories (sessions, corrections of their length and of the day
    they were held, role changes), at any as-of V and known-at K: the sessions in the
    compliance facts that had happened by V are the entries the timeline gives as of V,
    and both are what the obvious replay says."""
    facts = worker(T0.date() - timedelta(days=30))
    sessions: list[str] = []
    for kind, day, value in plan:
        when = T0.date() + timedelta(days=day)
        if kind == "hold":
            sessions.append(f"S{len(facts.items)}")
            facts.add(SupervisionSessionHeld, when, session_id=sessions[-1], supervisor_id="TM1",
                      duration_minutes=value)  # fmt: skip
        elif kind == "role":
            facts.add(WorkerRoleChanged, when, role=["a", "b", "c"][value])
        elif sessions:
            target = sessions[day % len(sessions)]
            changes: dict[str, object] = (
                {"duration_minutes": value}
                if kind == "minutes"
                else {"held_on": (T0 + timedelta(days=value)).isoformat()}
            )
            facts.add(EntryCorrected, when, entry_id=target, changes=changes, reason="fix")
    for as_of_day, known_day in instants:
        as_of = T0 + timedelta(days=as_of_day)
        # Facts are recorded at 18:00 on their valid day: K as a day's end of recording.
        known_at = at(T0.date() + timedelta(days=known_day), 19)
        expected = _oracle(facts, as_of, known_at)
        compliance = {
            str(f.data["session_id"]): (f.occurred_at, f.data["duration_minutes"])
            for f in known_facts(facts.items, known_at)
            if f.kind is SupervisionSessionHeld and f.occurred_at <= as_of
        }
        timeline = Timeline(facts.items, known_at)
        entries, _ = timeline.entries_at(as_of)
        history = {k: v["duration_minutes"] for k, v in entries.items()}
        assert compliance == expected
        assert history == {k: v for k, (_, v) in expected.items()}
        role = timeline.attributes_at(as_of).get("role")
        last_role = [
            f.data["role"]
            for f in sorted(facts.items, key=lambda f: (f.occurred_at, f.position))
            if f.recorded_at <= known_at
            and f.occurred_at <= as_of
            and f.kind in (WorkerRegistered, WorkerRoleChanged)
        ]
        assert role == (last_role[-1] if last_role else None)


def _oracle(facts: Facts, as_of: datetime, known_at: datetime) -> dict[str, tuple[datetime, int]]:
    """Each session known at K, every correction known at K applied in recorded order,
    kept if it had happened by V (its corrected time)."""
    known = [f for f in facts.items if f.recorded_at <= known_at]
    sessions: dict[str, tuple[datetime, int]] = {}
    for fact in known:
        if fact.kind is SupervisionSessionHeld:
            sessions[fact.data["session_id"]] = (fact.occurred_at, fact.data["duration_minutes"])
        elif fact.kind is EntryCorrected and fact.data["entry_id"] in sessions:
            held, minutes = sessions[fact.data["entry_id"]]
            changes = fact.data["changes"]
            if "held_on" in changes:
                held = datetime.fromisoformat(changes["held_on"])
            minutes = changes.get("duration_minutes", minutes)
            sessions[fact.data["entry_id"]] = (held, minutes)
    return {k: v for k, v in sessions.items() if v[0] <= as_of}
