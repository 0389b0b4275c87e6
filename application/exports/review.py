"""A learning-review pack: for a child and an instant T, what had been decided and
recorded by T, what was known at T against what is known now, which oversight was due
and missing at T, which disagreements were open, and the allocated worker's own
supervision compliance in the year before T (issue 24, ADR 0030).

It is two chronologies of the same child, as of T: one known at T and one known now;
what the second holds and the first does not is what was learnt after T.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.exports.chronology import (
    OWED,
    Chronology,
    Disagreement,
    FindingLine,
    Line,
    Request,
    Sources,
    assemble,
)
from application.exports.reading import Reader
from domain.errors import ValidationError
from domain.identifiers import child_id as child_uuid
from domain.identifiers import worker_id as worker_uuid
from domain.policy.compliance import Status
from domain.policy.timeline import Timeline, local_day
from projections.compliance.answers import evaluate
from projections.history import rows as history_rows

#: The worker's own supervision compliance is read over the year before T.
WORKER_PERIOD = timedelta(days=365)


@dataclass(frozen=True)
class Learnt:
    """An act on the record as of T that was recorded only after T."""

    line: Line
    #: "recorded after T", or "corrected after T" (the line's corrections say how).
    how: str


@dataclass(frozen=True)
class ReviewPack:
    authority: str
    child: str
    at: datetime
    known_at: datetime
    #: The chronology as of T and as known at T.
    chronology: Chronology
    decided: tuple[Line, ...]
    known_then_and_now: tuple[Learnt, ...]
    due_and_missing: tuple[FindingLine, ...]
    open_disagreements: tuple[Disagreement, ...]
    #: The worker allocated at T (None: unallocated).
    worker: str | None
    worker_compliance: tuple[FindingLine, ...]
    withheld: tuple[str, ...]


def review_pack(
    sources: Sources,
    reader: Reader,
    authority: str,
    child: str,
    at: datetime,
    known_at: datetime | None = None,
) -> ReviewPack:
    """The pack for ``reader``: the child's read is authorised and logged first (and the
    worker's file, when their supervision is shown). What was known "at T" is what had
    been recorded by ``known_at`` (T itself, unless given: a record kept late, or
    imported, is read as known at another instant)."""
    given = known_at is not None
    known_at = known_at or at
    reader.open_child(child, what=f"learning review pack of {child} at {at.isoformat()}")
    rows = history_rows(sources.engine, str(child_uuid(authority, child)))
    worker = Timeline(rows, known_at).attributes_at(at).get("allocated_worker_id")
    try:
        then = assemble(
            sources,
            reader,
            Request(authority, child, worker=worker, as_of=at, known_at=known_at),
        )
    except ValidationError as error:
        field = "known_at" if error.field == "known_at" and given else "at"
        raise ValidationError(error.message, field=field) from None
    # Compared without the worker filter: the whole record as of T, then and now.
    whole = assemble(sources, reader, Request(authority, child, as_of=at, known_at=known_at))
    now = assemble(sources, reader, Request(authority, child, as_of=at))
    known = {line.position for line in whole.lines}
    learnt = tuple(
        Learnt(line, "corrected after T" if line.corrections else "recorded after T")
        for line in now.lines
        if line.position not in known and not line.certificate
    )
    compliance: tuple[FindingLine, ...] = ()
    if worker and not then.withheld:
        compliance = _worker_compliance(sources, authority, str(worker), at, known_at)
    return ReviewPack(
        authority=authority,
        child=child,
        at=at,
        known_at=known_at,
        chronology=then,
        decided=then.decisions,
        known_then_and_now=learnt,
        due_and_missing=tuple(
            f for f in then.findings if f.status in (Status.OVERDUE, Status.BREACHED)
        ),
        open_disagreements=tuple(d for d in then.disagreements if d.resolution is None),
        worker=None if worker is None else str(worker),
        worker_compliance=compliance,
        withheld=then.withheld,
    )


def _worker_compliance(
    sources: Sources, authority: str, staff_id: str, at: datetime, known_at: datetime
) -> tuple[FindingLine, ...]:
    day = local_day(at)
    since = local_day(at - WORKER_PERIOD)
    found = evaluate(
        sources.engine,
        sources.library,
        str(worker_uuid(authority, staff_id)),
        as_of=day,
        known_at=known_at,
    )
    if found is None:
        return ()
    return tuple(
        FindingLine(f.rule_id, f.status.value, f.due_on, f.sentence)
        for f in sorted(found.findings, key=lambda f: (f.window_start, f.rule_id, f.rule_key))
        if f.status in OWED and (f.window_end is None or f.window_end >= since)
    )
