"""The purge schedule's rows (``retention_schedule``, ADR 0012): every record of a subject
with the rule it falls due under, its due date and what holds it. Read in
``projections.purge_schedule``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.events import RecordPurged
from domain.policy.retention import CHILD_RECORD, WORKER_FILE, ScheduleItem, schedule
from domain.policy.timeline import Fact


def retention_row(
    subject_id: str,
    authority_code: str,
    subject_kind: str,
    local_id: str,
    team: str | None,
    item: ScheduleItem,
) -> dict[str, Any]:
    """One record's row in the schedule."""
    purged = item.purged
    return {
        "subject_id": subject_id,
        "record_class": item.record.record_class,
        "record_id": item.record.record_id,
        "authority_code": authority_code,
        "subject_kind": subject_kind,
        "local_id": local_id,
        "team": team,
        "rule_id": item.rule_id,
        "trigger": item.trigger,
        "trigger_date": item.trigger_date,
        "due_on": item.due_on,
        "held_by": ",".join(f"{h.hold_id} ({h.kind})" for h in item.holds) or None,
        "events": len(item.positions),
        "purged_on": date.fromisoformat(purged.purged_at[:10]) if purged else None,
        "authorised_by": purged.authorised_by if purged else None,
    }


def purged_subject_rows(subject_id: str, facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The tombstones of a subject whose own registration was purged: one row per
    record purged, from its ``RecordPurged`` facts (ADR 0012)."""
    purges = [f for f in facts if f.kind is RecordPurged]
    whole = next((f for f in purges if f.data["record_class"] in (CHILD_RECORD, WORKER_FILE)), None)
    if whole is None:
        return []
    kind = "child" if whole.data["record_class"] == CHILD_RECORD else "worker"
    local_id = str(whole.data["record_id"])
    items = schedule(kind, local_id, facts, None)
    return [
        retention_row(subject_id, str(whole.data["authority_code"]), kind, local_id, None, i)
        for i in items
    ]
