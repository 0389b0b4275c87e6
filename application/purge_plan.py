"""Deciding a purge: what destroying one record would destroy, checked against the
store and the authority's pack, and the ``PurgeRecord`` command that records it
(ADR 0012). The run around it (redact, compact, certify) is ``application.purge``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.subjects import subject_key_of
from domain import commands as c
from domain.access import AccessLog
from domain.child import Child
from domain.errors import NotFound, ValidationError
from domain.events import ContentPurged, kind_of
from domain.policy.retention import (
    CHILD_RECORD,
    RECORD_CLASSES,
    WORKER_FILE,
    RecordRef,
    ScheduleItem,
    fact_of,
    schedule,
)
from domain.subject import Subject, Tombstone
from domain.worker import Worker

if TYPE_CHECKING:
    from application.app import OversightApplication


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would destroy: the record's schedule item and its events'
    tombstones, checked against the store and the authority's pack."""

    subject: Subject
    item: ScheduleItem
    positions: tuple[int, ...]  # the record's events (and, for a whole subject, its log's)
    tombstones: tuple[Tombstone, ...]


def plan_purge(app: OversightApplication, cmd: c.PurgeRecord) -> PurgePlan:
    """Check, from the subject's stored events and its authority's pack, that the record
    is due by ``as_of`` and not held; raise the typed error that says why not. A dry run
    calls this alone, so it lists exactly what a real run would destroy."""
    if cmd.record_class not in RECORD_CLASSES:
        raise ValidationError(
            f"record_class is one of {', '.join(RECORD_CLASSES)}", field="record_class"
        )
    if not isinstance(cmd.as_of, date) or cmd.as_of > cmd.provenance().occurred_at.date():
        raise ValidationError("as_of is a date no later than today", field="as_of")
    # One read of the subject's stored events, with their positions: the aggregate is
    # folded from the same events the check reads (measured: a second read per purge
    # cost a fifth of the run, ADR 0012).
    kind, local_id, subject_id = subject_key_of(cmd)
    stored = app.command_log.select_subject_notifications(subject_id)
    events: dict[int, Any] = {n.id: app.mapper.to_domain_event(n) for n in stored}
    folded: Any = None
    for event in events.values():
        folded = event.mutate(folded)
    # Who read the subject's record is on its access log, a record of its own per year.
    log_id = AccessLog.create_id(subject_id)
    for n in app.command_log.select_subject_notifications(log_id):
        events[n.id] = app.mapper.to_domain_event(n)
    expected = Worker if kind == "worker" else Child
    if not isinstance(folded, expected) or folded.authority_code != cmd.actor.authority_id:
        raise NotFound(
            f"no {kind} with that id in this authority",
            field="staff_id" if kind == "worker" else "child_id",
        )
    subject: Subject = folded
    facts = [fact_of(position, event) for position, event in events.items()]
    authority = app.get_authority(subject.authority_code)
    pack = app.policy_packs.packs.get(authority.policy_pack)
    wanted = RecordRef(cmd.record_class, cmd.record_id)
    item = next((i for i in schedule(kind, local_id, facts, pack) if i.record == wanted), None)
    if item is None:
        raise NotFound(
            f"no {cmd.record_class} {cmd.record_id!r} on this subject", field="record_id"
        )
    if item.purged is not None:
        raise ValidationError("this record is already purged", field="record_id")
    if item.holds:
        held = ", ".join(f"{h.hold_id} ({h.kind})" for h in item.holds)
        raise ValidationError(f"held by legal hold {held}: lift it first", field="record_id")
    if item.rule_id is None or item.due_on is None:
        why = (
            "the pack states no retention period for this record"
            if item.rule_id is None
            else f"its retention period under {item.rule_id} has not started ({item.trigger})"
        )
        raise ValidationError(f"not due for destruction: {why}", field="record_id")
    if item.due_on > cmd.as_of:
        raise ValidationError(
            f"not due for destruction until {item.due_on.isoformat()} under {item.rule_id}",
            field="as_of",
        )
    positions = list(item.positions)
    if cmd.record_class in (CHILD_RECORD, WORKER_FILE):
        # The subject's own record goes last and takes what is left of its access log
        # with it: no log of reads outlives the record that was read.
        positions += [
            p
            for p, e in events.items()
            if e.originator_id == log_id and kind_of(e) is not ContentPurged
        ]
    heads: dict[UUID, int] = {}
    for event in events.values():
        heads[event.originator_id] = max(
            heads.get(event.originator_id, 0), event.originator_version
        )
    tombstones = []
    for position in positions:
        original = events[position]
        common: dict[str, Any] = {
            "originator_id": original.originator_id,
            "originator_version": original.originator_version,
            "timestamp": original.timestamp,
            "record_class": cmd.record_class,
            "record_id": cmd.record_id,
            "authority_code": subject.authority_code,
        }
        tombstone_type: Any = (
            AccessLog.ContentPurged
            if original.originator_id == log_id
            else type(subject).ContentPurged
        )
        if original.originator_id == log_id:
            common["subject_id"] = subject.id
        tombstone = tombstone_type(**common)
        stored_tombstone = app.mapper.to_stored_event(tombstone)
        tombstones.append(
            Tombstone(
                head=heads[original.originator_id],
                position=position,
                originator_id=original.originator_id,
                originator_version=original.originator_version,
                topic=stored_tombstone.topic,
                state=stored_tombstone.state,
            )
        )
    return PurgePlan(subject, item, tuple(sorted(positions)), tuple(tombstones))


def purge_record(app: OversightApplication, cmd: c.PurgeRecord) -> list[Aggregate]:
    """Record the purge with the tombstones its events become (ADR 0012)."""
    plan = plan_purge(app, cmd)
    assert plan.item.rule_id is not None and plan.item.due_on is not None
    plan.subject.purge_record(
        cmd.provenance(),
        record_class=cmd.record_class,
        record_id=cmd.record_id,
        rule_id=plan.item.rule_id,
        due_on=plan.item.due_on,
        positions=list(plan.positions),
        tombstones=list(plan.tombstones),
    )
    return [plan.subject]


__all__ = ["PurgePlan", "plan_purge", "purge_record"]
