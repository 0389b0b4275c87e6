"""Registers and queues an oversight manager works from, derived from a subject's facts.

- the **oversight trigger queue**: key points in a child's case awaiting a manager's
  oversight record [DEV-6, POR-5.2];
- the **actions register**: agreed actions, their due dates and drift [POR-6.1, DEV-6g];
- the **sign-off queue**: personal supervision records not yet signed by both
  [DUR-4.7a, SHR-APP2];
- the **disagreement register**: disagreements with their escalations and age
  [DUR-4.10, POR-4.3].

Each item carries the due date its pack gives (from the obligations), so a queue sorted
by due date is a to-do list in policy order. Like obligations, items depend only on the
facts recorded, never on the date asked about: ages and statuses are computed on read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.events import (
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalSupervisionRecordWritten,
    SupervisionSessionHeld,
    WorkerRegistered,
)
from domain.policy.compliance import Obligation, action_items
from domain.policy.timeline import Allocation, Fact, timeline_of

__all__ = ["Allocation"]  # where callers have always found it

TRIGGERS = "oversight_trigger"
ACTIONS = "action"
SIGN_OFFS = "sign_off"
DISAGREEMENTS = "disagreement"
REGISTERS = (TRIGGERS, ACTIONS, SIGN_OFFS, DISAGREEMENTS)


@dataclass(frozen=True)
class Profile:
    """Who a subject is, for grouping and display (team summaries, sheets)."""

    subject: str  # worker | child
    authority_code: str
    local_id: str  # staff id or local child id
    display: str
    team: str | None
    #: A worker's line manager; a child's allocated worker (staff ids).
    manager_id: str | None
    worker_id: str | None
    #: The staff ids who supervised a worker (agreements and sessions), over time.
    supervisors: tuple[str, ...] = ()
    ended_on: date | None = None


@dataclass(frozen=True)
class RegisterItem:
    register: str
    item_id: str
    opened_on: date
    due_on: date | None
    closed_on: date | None
    rule_id: str | None
    owner: str | None
    evidence: tuple[int, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)


def profile(facts: Sequence[Fact]) -> Profile | None:
    """The subject's current profile (facts in valid-time order), from its timeline:
    its attributes now, its supervisors and the end of its life."""
    timeline = timeline_of(facts)
    registration = timeline.registration
    life = timeline.life
    if registration is None or life is None:
        return None
    data = registration.data
    worker = registration.kind is WorkerRegistered
    current = timeline.current
    team = current.get("team")
    manager = current.get("line_manager_id" if worker else "allocated_worker_id")
    supervisors = timeline.supervisors() if worker else []
    if manager is not None and worker and manager not in supervisors:
        supervisors.append(str(manager))
    local_id = str(data["staff_id"] if worker else data["local_child_id"])
    return Profile(
        subject="worker" if worker else "child",
        authority_code=str(data.get("authority_code", "")),
        local_id=local_id,
        display=str(data.get("display_name") or local_id),
        team=team,
        manager_id=manager,
        worker_id=local_id if worker else manager,
        supervisors=tuple(supervisors),
        ended_on=life.end,
    )


def allocations(facts: Sequence[Fact]) -> list[Allocation]:
    """A child's allocations to workers, in valid-time order (``Timeline.allocations``)."""
    return timeline_of(facts).allocations()


def _due(
    obligations: Sequence[Obligation], clock: str, item: str
) -> tuple[date | None, str | None]:
    """The earliest due date any rule of the pack gives this item, and that rule."""
    best: tuple[date | None, str | None] = (None, None)
    for obligation in obligations:
        if obligation.detail.get("clock") != clock or obligation.detail.get("item") != item:
            continue
        if obligation.due_on is not None and (best[0] is None or obligation.due_on < best[0]):
            best = (obligation.due_on, obligation.rule_id)
    return best


def registers(facts: Sequence[Fact], found: Sequence[Obligation]) -> list[RegisterItem]:
    """Every register item of the subject (facts in valid-time order, corrections
    applied; ``found``: the subject's obligations under its pack)."""
    items: list[RegisterItem] = []
    answers: dict[str, Fact] = {}
    for fact in facts:
        if fact.kind is ManagementOversightRecorded:
            for trigger_id in fact.data.get("answers_trigger_ids", []):
                answers.setdefault(str(trigger_id), fact)
    for fact in facts:
        if fact.kind is not OversightTriggered:
            continue
        trigger_id = str(fact.data["trigger_id"])
        answer = answers.get(trigger_id)
        due, rule = _due(found, "trigger_answered", trigger_id)
        items.append(
            RegisterItem(
                TRIGGERS,
                trigger_id,
                fact.day,
                due,
                answer.day if answer else None,
                rule,
                None,
                (fact.position, *((answer.position,) if answer else ())),
                {"kind": fact.data["kind"], "automatic": bool(fact.data.get("automatic"))},
            )
        )
    for action in action_items(facts):
        items.append(
            RegisterItem(
                ACTIONS,
                action.action_id,
                action.set_on,
                action.due_on,
                action.completed_on,
                _due(found, "action_due", action.action_id)[1],
                action.owner,
                tuple(action.evidence),
                {"description": action.description, "carried_forward": action.carried_forward},
            )
        )
    items.extend(_sign_offs(facts, found))
    items.extend(_disagreements(facts, found))
    return items


def _sign_offs(facts: Sequence[Fact], found: Sequence[Obligation]) -> list[RegisterItem]:
    records = {
        str(f.data["session_id"]): f for f in facts if f.kind is PersonalSupervisionRecordWritten
    }
    # A correction voids the signatures before it: the record awaits them again.
    signatures = timeline_of(facts).signatures
    items: list[RegisterItem] = []
    for fact in facts:
        if fact.kind is not SupervisionSessionHeld:
            continue
        session_id = str(fact.data["session_id"])
        record = records.get(session_id)
        signed = signatures.get(str(record.data["record_id"]), {}) if record else {}
        both = [signed[p] for p in ("supervisor", "supervisee") if p in signed]
        closed = max(f.day for f in both) if len(both) == 2 else None
        due, rule = _due(found, "record_signed", session_id)
        missing = [p for p in ("supervisor", "supervisee") if p not in signed]
        items.append(
            RegisterItem(
                SIGN_OFFS,
                session_id,
                fact.day,
                due,
                closed,
                rule,
                str(fact.data["supervisor_id"]),
                tuple(
                    [fact.position]
                    + ([record.position] if record else [])
                    + [f.position for f in both]
                ),
                {
                    "record_id": record.data["record_id"] if record else None,
                    "record_written_on": record.day.isoformat() if record else None,
                    "awaiting": missing,
                    "differing_view": any(bool(f.data.get("differing_view")) for f in both),
                },
            )
        )
    return items


def _disagreements(facts: Sequence[Fact], found: Sequence[Obligation]) -> list[RegisterItem]:
    raised: dict[str, Fact] = {}
    escalations: dict[str, list[Fact]] = {}
    resolved: dict[str, Fact] = {}
    for fact in facts:
        item = str(fact.data.get("disagreement_id"))
        kind = fact.kind
        if kind is DisagreementRaised:
            raised[item] = fact
        elif kind is DisagreementEscalated:
            escalations.setdefault(item, []).append(fact)
        elif kind is DisagreementResolved:
            resolved[item] = fact
    items: list[RegisterItem] = []
    for item, fact in raised.items():
        steps = escalations.get(item, [])
        done = resolved.get(item)
        due, rule = _due(found, "disagreement_resolved", item)
        items.append(
            RegisterItem(
                DISAGREEMENTS,
                item,
                fact.day,
                due,
                done.day if done else None,
                rule,
                None,
                (fact.position, *(s.position for s in steps), *((done.position,) if done else ())),
                {
                    "about": fact.data.get("about"),
                    "subject": fact.data.get("subject"),
                    "escalations": [
                        {"level": s.data["level"], "on": s.day.isoformat()} for s in steps
                    ],
                    "level": steps[-1].data["level"] if steps else None,
                    "last_escalated_on": steps[-1].day.isoformat() if steps else None,
                },
            )
        )
    return items
