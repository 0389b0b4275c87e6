"""The per-subject fact rows (``compliance_fact``) and the dirty marks (``compliance_dirty``).

The handler stores each worker, child and authority event as a fact of its subject and
marks the subject dirty, in the batch's transaction; everything else is settled from
these rows (``settle``) or computed from them on a question (``answers``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Table, select

from domain.events import RecordPurged, UnknownEvent, kind_of
from domain.identifiers import worker_id
from domain.policy.registers import Profile
from domain.policy.timeline import Fact
from projections.compliance.tables import chunks, view
from projections.engine import Delete, Insert, Operation, utc
from projections.history import SKIPPED_FIELDS, dumps


def record(event: Any, notification: Notification) -> list[Operation]:
    """An event as a fact of its subject, and the subject marked dirty. Every catalogue
    event with provenance is a fact: the workers', children's and authorities' own,
    those they share (corrections, disagreements, holds) and access-log reads."""
    try:
        kind = kind_of(event)
    except UnknownEvent:
        return []  # not an event of the catalogue's aggregates
    provenance = getattr(event, "provenance", None)
    if provenance is None:
        return []
    # An access log's reads are facts of the subject they read (the purge schedule
    # keeps a record per year of them, ADR 0012).
    subject_id = str(getattr(event, "subject_id", None) or event.originator_id)
    data = {k: v for k, v in vars(event).items() if k not in SKIPPED_FIELDS}
    # A purge takes its record's facts with it (a rebuild never stores them: the
    # tombstones carry no provenance); the purge is a fact itself (ADR 0012).
    purged: list[Operation] = (
        [Delete("compliance_fact", {"subject_id": subject_id, "position": list(event.positions)})]
        if kind is RecordPurged
        else []
    )
    return [
        *purged,
        Insert(
            "compliance_fact",
            (
                notification.id,
                subject_id,
                kind.__name__,
                utc(provenance.occurred_at),
                utc(event.timestamp),
                dumps(data),
            ),
        ),
        Insert("compliance_dirty", (notification.id, subject_id)),
    ]


def fact_of(row: Any) -> Fact:
    """A ``compliance_fact`` row as a Fact (its columns by position: a row's attributes
    are looked up by name each time, which cost as much as the rest of this)."""
    position, _, event_type, occurred_at, recorded_at, data = row
    return Fact(
        int(position), str(event_type), utc(occurred_at), utc(recorded_at), orjson.loads(data)
    )


def facts_of(
    conn: Connection, tables: Mapping[str, Table], subject_ids: Iterable[str]
) -> dict[str, list[Fact]]:
    """Each subject's facts in recorded (position) order."""
    table = tables["compliance_fact"]
    found: dict[str, list[Fact]] = {}
    for chunk in chunks(subject_ids):
        # In the index's order (no sort), fetched at once (row by row through the
        # driver cost more than decoding the facts: issue 7, benchmark 3).
        rows = conn.execute(
            select(table)
            .where(table.c.subject_id.in_(chunk))
            .order_by(table.c.subject_id, table.c.position)
        ).all()
        for row in rows:
            found.setdefault(str(row.subject_id), []).append(fact_of(row))
    return found


def subject_facts(
    conn: Connection, subject_id: str, known_at: datetime | None = None
) -> list[Fact]:
    """One subject's facts in recorded order, those recorded by ``known_at`` if given."""
    table = view("compliance_fact")
    query = select(table).where(table.c.subject_id == subject_id).order_by(table.c.position)
    if known_at is not None:
        query = query.where(table.c.recorded_at <= known_at)
    return [fact_of(r) for r in conn.execute(query)]


def supervisors_facts(
    conn: Connection,
    tables: Mapping[str, Table],
    profiles: Iterable[Profile | None],
    known_at: datetime | None = None,
) -> dict[str, dict[str, list[Fact]]]:
    """For each worker among ``profiles``, the facts of their supervisors that their
    rules read (absences), by staff id; one read for them all. Keyed by the worker's
    authority and staff id (``"AUTH/SW1"``)."""
    workers = [p for p in profiles if p is not None and p.subject == "worker"]
    wanted = {str(worker_id(p.authority_code, s)) for p in workers for s in p.supervisors}
    found = facts_of(conn, tables, wanted)
    result: dict[str, dict[str, list[Fact]]] = {}
    for who in workers:
        result[f"{who.authority_code}/{who.local_id}"] = {
            s: [
                f
                for f in found.get(str(worker_id(who.authority_code, s)), [])
                if known_at is None or f.recorded_at <= known_at
            ]
            for s in who.supervisors
        }
    return result


def related_of(related: Mapping[str, dict[str, list[Fact]]], who: Profile) -> dict[str, list[Fact]]:
    """``who``'s part of ``supervisors_facts``: their supervisors' facts by staff id."""
    return related.get(f"{who.authority_code}/{who.local_id}", {})
