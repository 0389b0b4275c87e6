"""Retention: which record each fact belongs to, and when each record falls due for
destruction under its authority's pack (ADR 0012).

A *record* is what the policies keep and destroy as one: a personal supervision record
(one supervision: the session, its personal record, sign-offs and corrections), a direct
observation, the rest of a worker's personal file, a child's record (every case
supervision, oversight, decision and disagreement on the child: "case supervision
records follow the child's record" [DUR-4.9, BUR-RET, DEV-5.5]), or one calendar year
of the subject's access log (who read the record, what and why).

Everything here is a pure function of a subject's facts and its pack, so the purge
schedule (a projection) and the purge itself (a command, which checks again before it
destroys anything) agree by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.events import (
    AccessLogOpened,
    AdoptionOrderRecorded,
    CaseClosed,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildRegistered,
    ContentPurged,
    DirectObservationRecorded,
    DirectObservationSigned,
    EntryCorrected,
    EventType,
    LegalHoldLifted,
    LegalHoldPlaced,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    RecordAccessed,
    RecordPurged,
    SupervisionSessionCancelled,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    WorkerLeftEmployment,
    kind_of,
)
from domain.policy.calendar import Period
from domain.policy.packs import Pack, RetentionRule
from domain.policy.timeline import Fact, _date

PERSONAL_SUPERVISION = "personal_supervision"
DIRECT_OBSERVATION = "direct_observation"
WORKER_FILE = "worker_file"
CHILD_RECORD = "child_record"
ACCESS_LOG = "access_log"
RECORD_CLASSES = (
    PERSONAL_SUPERVISION,
    DIRECT_OBSERVATION,
    WORKER_FILE,
    CHILD_RECORD,
    ACCESS_LOG,
)
#: Who read the subject's record (its ``AccessLog``): one record per calendar year.
ACCESS_EVENTS: frozenset[EventType] = frozenset({AccessLogOpened, RecordAccessed})

#: Facts that are about retention itself: never part of a record, never purged.
RETENTION_EVENTS: frozenset[EventType] = frozenset({RecordPurged, ContentPurged})

_SESSION_EVENTS: frozenset[EventType] = frozenset(
    {
        SupervisionSessionScheduled,
        SupervisionSessionCancelled,
        SupervisionSessionRescheduled,
        SupervisionSessionHeld,
    }
)
_RECORD_EVENTS: frozenset[EventType] = frozenset(
    {PersonalSupervisionRecordSigned, PersonalRecordCommentRemoved}
)
_OBSERVATION_EVENTS: frozenset[EventType] = frozenset(
    {DirectObservationRecorded, DirectObservationSigned}
)


#: An event's envelope, not its fields.
_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "provenance", "originator_topic"}
)


def fact_of(position: int, event: Any) -> Fact:
    """A stored event as a fact (as the compliance projection stores it, values unparsed)."""
    provenance = getattr(event, "provenance", None)
    occurred_at = provenance.occurred_at if provenance is not None else event.timestamp
    data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    return Fact(position, kind_of(event).__name__, occurred_at, event.timestamp, data)


@dataclass(frozen=True, order=True)
class RecordRef:
    """One retention record of a subject."""

    record_class: str
    record_id: str

    @property
    def key(self) -> str:
        return f"{self.record_class}:{self.record_id}"


def records_of(subject_kind: str, local_id: str, facts: Iterable[Fact]) -> dict[int, RecordRef]:
    """The record each fact (by position) belongs to, facts in recorded order.

    A personal record belongs to the supervision it records, and so do its sign-offs and
    removed comments; a correction belongs to the record of the entry it corrects."""
    if subject_kind == "child":
        child = RecordRef(CHILD_RECORD, local_id)
        return {
            f.position: RecordRef(ACCESS_LOG, str(f.day.year)) if f.kind in ACCESS_EVENTS else child
            for f in facts
            if f.kind not in RETENTION_EVENTS
        }
    file = RecordRef(WORKER_FILE, local_id)
    owner: dict[str, RecordRef] = {}  # entry id -> its record
    found: dict[int, RecordRef] = {}
    for fact in sorted(facts, key=lambda f: f.position):
        kind, data = fact.kind, fact.data
        if kind in RETENTION_EVENTS:
            continue
        record = file
        if kind in ACCESS_EVENTS:
            record = RecordRef(ACCESS_LOG, str(fact.day.year))
        elif kind in _SESSION_EVENTS:
            record = RecordRef(PERSONAL_SUPERVISION, str(data["session_id"]))
            owner[str(data["session_id"])] = record
        elif kind is PersonalSupervisionRecordWritten:
            record = RecordRef(PERSONAL_SUPERVISION, str(data["session_id"]))
            owner[str(data["record_id"])] = record
        elif kind in _RECORD_EVENTS:
            record = owner.get(str(data["record_id"]), file)
        elif kind in _OBSERVATION_EVENTS:
            record = RecordRef(DIRECT_OBSERVATION, str(data["observation_id"]))
            owner[str(data["observation_id"])] = record
        elif kind is EntryCorrected:
            record = owner.get(str(data["entry_id"]), file)
        found[fact.position] = record
    return found


@dataclass(frozen=True)
class Hold:
    hold_id: str
    kind: str
    reference: str
    placed_on: date


@dataclass(frozen=True)
class Purged:
    """A record's destruction, as its ``RecordPurged`` fact states it."""

    rule_id: str
    due_on: date
    purged_at: str
    authorised_by: str
    positions: tuple[int, ...]


@dataclass(frozen=True)
class ScheduleItem:
    """When one record falls due for destruction, under which rule, and what stops it."""

    record: RecordRef
    rule_id: str | None  # None: the pack states no period for this class
    trigger: str | None  # what starts the period (``record_date``, ``left_employment``...)
    trigger_date: date | None  # None: not yet happened (still employed, case open)
    due_on: date | None
    holds: tuple[Hold, ...]
    positions: tuple[int, ...]
    purged: Purged | None = None


@dataclass
class _Life:
    """What a subject's retention triggers read from its facts."""

    left_on: date | None = None
    born_on: date | None = None
    died_on: date | None = None
    adopted_on: date | None = None
    closed_on: date | None = None
    looked_after: bool = False
    child_protection: bool = False


LOOKED_AFTER_CASE_TYPES = frozenset({"cla", "care_leaver"})


def _life(facts: Sequence[Fact]) -> _Life:
    life = _Life()
    for fact in facts:
        data, kind = fact.data, fact.kind
        if kind in (ChildRegistered, CaseTypeChanged):  # a case type ever held counts
            life.looked_after |= data.get("case_type") in LOOKED_AFTER_CASE_TYPES
            life.child_protection |= data.get("case_type") == "cp"
        if kind is WorkerLeftEmployment:
            life.left_on = _date(data["last_day"])
        elif kind is ChildRegistered:
            born = data.get("date_of_birth")
            life.born_on = _date(born) if born else None
        elif kind is ChildCameIntoCare:
            life.looked_after = True
        elif kind is CaseClosed:
            life.closed_on = fact.day
        elif kind is AdoptionOrderRecorded:
            life.adopted_on = _date(data["order_made_on"])
        elif kind is ChildDeathRecorded:
            life.died_on = _date(data["died_on"])
    return life


def _holds(facts: Sequence[Fact]) -> tuple[Hold, ...]:
    placed: dict[str, Hold] = {}
    for fact in facts:
        if fact.kind is LegalHoldPlaced:
            hold_id = str(fact.data["hold_id"])
            placed[hold_id] = Hold(
                hold_id, str(fact.data["kind"]), str(fact.data["reference"]), fact.day
            )
        elif fact.kind is LegalHoldLifted:
            placed.pop(str(fact.data["hold_id"]), None)
    return tuple(placed.values())


def _purges(facts: Sequence[Fact]) -> dict[str, Purged]:
    found: dict[str, Purged] = {}
    for fact in facts:
        if fact.kind is RecordPurged:
            data = fact.data
            key = RecordRef(str(data["record_class"]), str(data["record_id"])).key
            found[key] = Purged(
                rule_id=str(data["rule_id"]),
                due_on=_date(data["due_on"]),
                purged_at=fact.recorded_at.isoformat(),
                authorised_by=str(data["authorised_by"]),
                positions=tuple(int(p) for p in data["positions"]),
            )
    return found


def _trigger_date(
    rule: RetentionRule, life: _Life, record_date: date | None
) -> tuple[str, date | None]:
    if rule.trigger == "record_date":
        return rule.trigger, record_date
    if rule.trigger == "left_employment":
        return rule.trigger, life.left_on
    if rule.trigger == "date_of_birth":
        if (
            rule.after_death_under is not None
            and life.died_on is not None
            and life.born_on is not None
            and life.died_on < rule.after_death_under.after(life.born_on)
        ):
            return "death", life.died_on
        return rule.trigger, life.born_on
    if rule.trigger == "case_closed":
        return rule.trigger, life.closed_on
    if rule.trigger == "adoption_order":
        return rule.trigger, life.adopted_on
    raise AssertionError(rule.trigger)  # packs.py refuses any other trigger


def _period_of(rule: RetentionRule, trigger: str) -> Period:
    if trigger == "death" and rule.keep_after_death is not None:
        return rule.keep_after_death
    return rule.keep


def _applies(rule: RetentionRule, life: _Life) -> bool:
    condition = rule.applies_to
    if condition == "always":
        return True
    if condition == "looked_after":
        return life.looked_after
    if condition == "child_protection":
        return life.child_protection
    if condition == "adopted":
        return life.adopted_on is not None
    raise AssertionError(condition)  # packs.py refuses any other condition


def schedule(
    subject_kind: str, local_id: str, facts: Sequence[Fact], pack: Pack | None
) -> list[ScheduleItem]:
    """Every record of the subject with its rule, trigger and due date under ``pack``.

    A record whose class has several applicable rules falls due under the one that keeps
    it longest; one whose rule's trigger has not happened (still employed, case open,
    no adoption order yet) has no due date and cannot be purged. A worker's file falls
    due no earlier than the last of the worker's other records. Every open legal hold on
    the subject holds all of its records."""
    ordered = sorted(facts, key=lambda f: f.position)
    located = records_of(subject_kind, local_id, ordered)
    life = _life(ordered)
    holds = _holds(ordered)
    purges = _purges(ordered)
    members: dict[RecordRef, list[Fact]] = {}
    for fact in ordered:
        record = located.get(fact.position)
        if record is not None:
            members.setdefault(record, []).append(fact)
    for key in purges:  # destroyed records show as tombstones
        record_class, record_id = key.split(":", 1)
        members.setdefault(RecordRef(record_class, record_id), [])
    rules = pack.retention if pack is not None else ()
    items: list[ScheduleItem] = []
    for record in sorted(members, key=lambda r: (r.record_class == WORKER_FILE, r)):
        # (A worker's file waits for the worker's other records; not for access logs.)
        own = members[record]
        item = _item(record, own, rules, life, holds, purges.get(record.key))
        own_due = item.due_on
        if record.record_class == WORKER_FILE and own_due is not None:
            others = [
                i.due_on for i in items if i.purged is None and i.record.record_class != ACCESS_LOG
            ]
            known = [d for d in others if d is not None]
            if len(known) < len(others):
                item = _replace_due(item, None)
            elif known:
                item = _replace_due(item, max([own_due, *known]))
        items.append(item)
    return items


def _replace_due(item: ScheduleItem, due_on: date | None) -> ScheduleItem:
    return ScheduleItem(
        item.record,
        item.rule_id,
        item.trigger,
        item.trigger_date,
        due_on,
        item.holds,
        item.positions,
        item.purged,
    )


def _record_date(record: RecordRef, own: Sequence[Fact]) -> date | None:
    if record.record_class == PERSONAL_SUPERVISION:
        held = [f.day for f in own if f.kind is SupervisionSessionHeld]
        if held:
            return max(held)
    return max((f.day for f in own), default=None)


def _item(
    record: RecordRef,
    own: Sequence[Fact],
    rules: Sequence[RetentionRule],
    life: _Life,
    holds: tuple[Hold, ...],
    purged: Purged | None,
) -> ScheduleItem:
    positions = tuple(f.position for f in own) if purged is None else purged.positions
    if purged is not None:
        return ScheduleItem(
            record, purged.rule_id, None, None, purged.due_on, (), positions, purged
        )
    candidates = [r for r in rules if r.record_class == record.record_class]
    applicable = [r for r in candidates if not r.fallback and _applies(r, life)]
    if not applicable:
        applicable = [r for r in candidates if r.fallback]
    if not applicable:
        return ScheduleItem(record, None, None, None, None, holds, positions)
    record_date = _record_date(record, own)
    dues: list[tuple[date | None, RetentionRule, str, date | None]] = []
    for rule in applicable:
        trigger, start = _trigger_date(rule, life, record_date)
        due = _period_of(rule, trigger).after(start) if start is not None else None
        dues.append((due, rule, trigger, start))
    waiting = [d for d in dues if d[0] is None]
    due, rule, trigger, start = waiting[0] if waiting else max(dues, key=lambda d: d[0] or date.min)
    return ScheduleItem(record, rule.rule_id, trigger, start, due, holds, positions)
