"""Every computed rule of every pack, at its boundary: done the day before, the day of,
and the day after its due day. Each case is named by the rule it cites.

Deadlines start on Wednesday 23 December 2026, so every working-day deadline counts
across Christmas Day and the substitute Boxing Day bank holiday (Monday 28 December).
Recurring and counted rules are checked from the subject's start (or the start of the
window they apply in). Scenarios are built from the rule's own parameters, so a rule
added to a pack is covered without a new test; a clock with no scenario fails loudly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    ActionCompleted,
    ActionSet,
    AppraisalHeld,
    CaseSupervisionRecorded,
    ChildRegistered,
    DirectObservationRecorded,
    DisagreementRaised,
    DisagreementResolved,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionSessionHeld,
    WorkerRegistered,
    named,
)
from domain.policy.calendar import WorkingCalendar, add_months
from domain.policy.compliance import Status, finding, known_facts, obligations
from domain.policy.packs import BUILT_IN, CLOCKS, Pack, PackLibrary, Rule
from domain.policy.timeline import Fact

LIBRARY = PackLibrary.load([BUILT_IN])
ENGLAND = WorkingCalendar()
START = date(2024, 12, 2)
DEADLINE_DAY = date(2026, 12, 23)
HORIZON = date(2028, 1, 1)


def _own_rules() -> list[tuple[Pack, Rule]]:
    """Each rule once, under the pack that defines it (SWRB's under SWRB)."""
    found: dict[str, tuple[Pack, Rule]] = {}
    for pack in LIBRARY.packs.values():
        for rule in pack.rules:
            if rule.rule_id.split("-", 1)[0] == pack.pack_id:
                found.setdefault(rule.key, (pack, rule))
    return sorted(found.values(), key=lambda item: item[1].key)


RULES = _own_rules()


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Story:
    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(self, event: EventType, day: date, recorded: date | None = None, **data: Any) -> None:
        recorded_at = at(recorded or day, 18)
        self.facts.append(Fact(len(self.facts) + 1, event.__name__, at(day), recorded_at, data))


def _first(values: frozenset[str] | None, default: str) -> str:
    return sorted(values)[0] if values else default


def _subject(rule: Rule) -> Story:
    story = Story()
    if rule.subject == "worker":
        window = rule.window
        story.add(
            WorkerRegistered,
            START,
            authority_code="T",
            staff_id="SW1",
            role=_first(rule.when.get("roles"), "social_worker"),
            case_holding=_first(rule.when.get("case_holding"), "true") == "true",
            employment_pattern=_first(rule.when.get("employment_patterns"), "full_time"),
            engagement=_first(rule.when.get("engagements"), "permanent"),
            start_date=START.isoformat(),
            line_manager_id="TM1",
            nqsw_asye_start=START.isoformat() if window and window.anchor == "asye_start" else None,
        )
    else:
        risk = _first(rule.when.get("risk_levels"), "medium")
        story.add(
            ChildRegistered,
            START,
            authority_code="T",
            local_child_id="C1",
            case_type=_first(rule.when.get("case_types"), "cin"),
            risk_level=risk,
            rag=_first(rule.when.get("rags"), {"low": "green", "high": "red"}.get(risk, "amber")),
            date_of_birth=(START - timedelta(days=30)).isoformat() if rule.under_age else None,
        )
    return story


def _occasion(story: Story, event: EventType | str, day: date, n: int) -> None:
    """An occasion of ``event`` (a class, or a name as a pack configures it)."""
    fields: dict[EventType, dict[str, Any]] = {
        SupervisionSessionHeld: {
            "session_id": f"S{n}",
            "supervisor_id": "TM1",
            "duration_minutes": 120,
        },
        SupervisionAgreementSigned: {
            "agreement_id": f"SA{n}",
            "supervisor_id": "TM1",
            "frequency": "P1M",
        },
        SupervisionAgreementReviewed: {"agreement_id": "SA0", "next_review_due_on": None},
        GroupSupervisionAttended: {"group_session_id": f"G{n}"},
        DirectObservationRecorded: {"observation_id": f"O{n}"},
        AppraisalHeld: {"appraisal_id": f"A{n}", "kind": "annual"},
        CaseSupervisionRecorded: {"entry_id": f"CS{n}", "worker_id": "SW1"},
        GroupSupervisionDiscussionRecorded: {"entry_id": f"GD{n}"},
    }
    kind = named(event) if isinstance(event, str) else event
    story.add(kind, day, **fields[kind])


def _boundary(rule: Rule) -> tuple[date, date]:
    """(the day the obligation arises, its due day) for a recurring or counted rule."""
    anchor = START
    if rule.window is not None and rule.window.start is not None:
        anchor = rule.window.start.after(START)
    if rule.kind == "recurring":
        assert rule.interval is not None
        return anchor, rule.interval.after(anchor)
    assert rule.period is not None
    return anchor, rule.period.after(anchor) - timedelta(days=1)


CASES = [(0, Status.MET), (-1, Status.MET), (1, Status.BREACHED)]

#: Due days worked out by hand, independent of the period arithmetic under test.
#: Deadlines from Wednesday 23 December 2026: Christmas Day, the Boxing Day substitute
#: (Monday 28th) and New Year's Day are not working days.
DEADLINE_DUE = {
    "3WD": date(2026, 12, 30),
    "5WD": date(2027, 1, 4),
    "10WD": date(2027, 1, 11),
    "15WD": date(2027, 1, 18),
    "P1W": date(2026, 12, 30),
    "P4W": date(2027, 1, 20),
    "P1M": date(2027, 1, 23),
}
#: From the start on Monday 2 December 2024 (or the window's start), by interval.
PERIODIC_DUE = {
    (None, "P1W"): date(2024, 12, 9),
    (None, "P2W"): date(2024, 12, 16),
    (None, "P4W"): date(2024, 12, 30),
    (None, "P8W"): date(2025, 1, 27),
    (None, "P1M"): date(2025, 1, 2),
    (None, "P2M"): date(2025, 2, 2),
    (None, "P3M"): date(2025, 3, 2),
    (None, "P6M"): date(2025, 6, 2),
    (None, "P1Y"): date(2025, 12, 2),
    ("P6W", "P2W"): date(2025, 1, 27),  # fortnightly after the first six weeks
    ("P8W", "P2W"): date(2025, 2, 10),  # fortnightly after the first eight weeks
}
#: A counted period's last day.
COUNTED_LAST_DAY = {"P1Y": date(2025, 12, 1), "P6M": date(2025, 6, 1)}


def _periodic_story(rule: Rule, done: date) -> Story:
    story = _subject(rule)
    if rule.kind == "minimum_count":
        required = rule.count.get("full_time", rule.count.get("*", 1))
        for n in range(1, required):
            _occasion(story, rule.events[0], START + timedelta(days=n), n)
        _occasion(story, rule.events[0], done, required)
    else:
        _occasion(story, rule.events[0], done, 1)
    return story


def _deadline_story(rule: Rule, done: date) -> tuple[Story, dict[str, list[Fact]], date]:
    """A subject whose clock starts on DEADLINE_DAY and stops on ``done``; the others'
    facts the rule reads; and the due day its pack gives."""
    day = DEADLINE_DAY
    story = _subject(rule)
    related: dict[str, list[Fact]] = {}
    due = rule.within.after(day, ENGLAND) if rule.within is not None else day
    clock = rule.clock
    if clock == "return_from_sickness":
        story.add(
            AbsenceStarted, day - timedelta(days=20), absence_id="A1", kind="sickness",
            started_on=(day - timedelta(days=20)).isoformat(),
        )  # fmt: skip
        story.add(AbsenceEnded, day, absence_id="A1", returned_on=day.isoformat())
        _occasion(story, SupervisionSessionHeld, done, 1)
    elif clock in ("record_shared", "record_signed"):
        _occasion(story, SupervisionSessionHeld, day, 1)
        written = done if clock == "record_shared" else day
        story.add(PersonalSupervisionRecordWritten, written, session_id="S1", record_id="R1")
        if clock == "record_signed":
            story.add(PersonalSupervisionRecordSigned, day, record_id="R1", signatory="supervisor")
            story.add(PersonalSupervisionRecordSigned, done, record_id="R1", signatory="supervisee")
    elif clock == "disagreement_resolved":
        story.add(DisagreementRaised, day, disagreement_id="D1", subject="x", about="y")
        story.add(DisagreementResolved, done, disagreement_id="D1", resolution="agreed")
    elif clock == "case_record_entered":
        story.add(CaseSupervisionRecorded, day, recorded=done, entry_id="CS1", worker_id="SW1")
    elif clock == "trigger_answered":
        story.add(OversightTriggered, day, trigger_id="T1", kind="child_became_looked_after")
        story.add(ManagementOversightRecorded, done, entry_id="MO1", answers_trigger_ids=["T1"])
    elif clock == "oversight_actions_reviewed":
        action = {"action_id": "A1", "due_on": (day + timedelta(days=60)).isoformat()}
        story.add(
            ManagementOversightRecorded, day, entry_id="MO1", answers_trigger_ids=[],
            actions=[action],
        )  # fmt: skip
        story.add(CaseSupervisionRecorded, done, entry_id="CS1", worker_id="SW1")
    elif clock == "action_due":
        # Set ten days before, due on the day: the action's own due date is the deadline.
        action = {"action_id": "A1", "due_on": day.isoformat()}
        story.add(ActionSet, day - timedelta(days=10), action=action)
        story.add(ActionCompleted, done, action_id="A1")
    elif clock == "supervisor_absent":
        assert rule.after is not None
        # The supervisor's absence began so that it passes ``after`` on DEADLINE_DAY.
        began = day - timedelta(days=28) if rule.after.unit == "W" else add_months(day, -1)
        assert rule.after.after(began) == day
        away = Story()
        away.add(AbsenceStarted, began, absence_id="X", kind="sickness", started_on=began)
        related["TM1"] = away.facts
        story.add(
            SupervisionSessionHeld, done, session_id="S1", supervisor_id="TM2",
            duration_minutes=60,
        )  # fmt: skip
    else:  # pragma: no cover - a new clock must get a scenario here
        raise AssertionError(f"no boundary scenario for clock {clock!r} ({rule.key})")
    return story, related, due


@pytest.mark.parametrize(
    ("pack", "rule"), RULES, ids=[f"{rule.key}@{pack.pack_id}" for pack, rule in RULES]
)
@pytest.mark.parametrize(("offset", "expected"), CASES, ids=["day-of", "day-before", "day-after"])
def test_every_computed_rule_at_its_boundary(
    pack: Pack, rule: Rule, offset: int, expected: Status
) -> None:
    related: dict[str, list[Fact]] = {}
    if rule.kind == "deadline":
        _, _, due = _deadline_story(rule, DEADLINE_DAY)
        arises = DEADLINE_DAY - timedelta(days=10 if rule.clock == "action_due" else 0)
        story, related, _ = _deadline_story(rule, due + timedelta(days=offset))
    else:
        arises, due = _boundary(rule)
        story = _periodic_story(rule, due + timedelta(days=offset))
    found = obligations(
        known_facts(story.facts),
        pack,
        ENGLAND,
        HORIZON,
        {k: known_facts(v) for k, v in related.items()},
    )
    mine = [o for o in found if o.rule_key == rule.key and o.arises_on == arises]
    assert len(mine) == 1, (rule.key, found)
    [obligation] = mine
    assert obligation.due_on == due, rule.key
    if rule.kind == "deadline" and rule.within is not None:
        assert due == DEADLINE_DUE[rule.within.code], rule.key
    elif rule.kind == "recurring":
        assert rule.interval is not None
        start = rule.window.start.code if rule.window and rule.window.start else None
        assert due == PERIODIC_DUE[(start, rule.interval.code)], rule.key
    elif rule.kind == "minimum_count":
        assert rule.period is not None
        assert due == COUNTED_LAST_DAY[rule.period.code], rule.key
    result = finding(obligation, due + timedelta(days=10), pack.due_soon)
    if rule.kind == "minimum_count" and offset > 0:
        expected = Status.BREACHED  # one short: the period closed without its count
    assert result.status is expected, (rule.key, result.sentence)
    assert rule.rule_id in result.sentence


def test_every_clock_and_kind_is_exercised() -> None:
    clocks = {rule.clock for _, rule in RULES if rule.kind == "deadline"}
    assert clocks == set(CLOCKS)
    assert {rule.kind for _, rule in RULES} == {"recurring", "minimum_count", "deadline"}
    assert len(RULES) >= 60
