"""Decisions across children: a thematic audit's question ("every decision to end a
child protection plan in 2025, as known when each was made") over one authority (issue 24
item 4). Management decisions, oversight records, case-supervision decisions and
disagreement outcomes, each from its child's chronology, filtered by team, worker,
decider, kind, period and rule. Reading across the authority is a report read; each
child whose decisions are returned is then authorised and logged on its own access log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from application.exports.chronology import Line, Request, Sources, assemble
from application.exports.reading import Reader
from domain.errors import Forbidden, NotFound, ValidationError
from domain.events import (
    CaseSupervisionRecorded,
    DisagreementResolved,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
)
from domain.identifiers import child_id as child_uuid
from domain.policy.timeline import Timeline, local_day
from domain.provenance import require_text
from projections.audit_trail import subjects_of
from projections.history import rows as history_rows

#: The kinds of decision, by the name a caller filters on.
KINDS = {
    "management_decision": ManagementDecisionRecorded.__name__,
    "management_oversight": ManagementOversightRecorded.__name__,
    "case_supervision": CaseSupervisionRecorded.__name__,
    "disagreement_outcome": DisagreementResolved.__name__,
}
_KIND_OF_EVENT = {event: kind for kind, event in KINDS.items()}


@dataclass(frozen=True)
class Filters:
    team: str | None = None
    worker: str | None = None
    decider: str | None = None
    kinds: tuple[str, ...] = ()
    period_from: date | None = None
    period_to: date | None = None
    rule: str | None = None
    #: Words the decision holds (case-insensitive): "end the child protection plan".
    text: str | None = None
    as_of: datetime | None = None
    known_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """One decision, as known at the filters' ``known_at`` (as recorded, when None),
    with the child whose chronology holds it."""

    child: str
    position: int
    kind: str
    entry: str | None
    occurred_at: datetime
    recorded_at: datetime
    decider: str
    role: str
    decision: str
    #: What a correction known by ``known_at`` made of it (None: never corrected).
    corrected_to: str | None
    rules: tuple[str, ...]
    team: str | None
    worker: str | None


def check(filters: Filters) -> None:
    unknown = [k for k in filters.kinds if k not in KINDS]
    if unknown:
        raise ValidationError(
            f"unknown decision kind {unknown[0]!r}; one of {', '.join(sorted(KINDS))}",
            field="kind",
        )
    if filters.period_from and filters.period_to and filters.period_from > filters.period_to:
        raise ValidationError("the period ends before it begins", field="to")


def decisions(
    sources: Sources, reader: Reader, authority: str, filters: Filters, *, log: bool = True
) -> list[Decision]:
    """The authority's decisions matching ``filters``, oldest first, from every child the
    reader may see. With ``log``, each child returned is logged as read; without, none is,
    and the caller logs those it gives out (``log_children``: a page's, say)."""
    check(filters)
    # The purpose goes on each child's access log: refused before any is read, so a bad
    # one is never answered with an empty list.
    require_text(reader.purpose, field="purpose", max_length=500)
    reader.open_reports(filters.team)
    quiet = Sources(sources.engine, sources.library, with_findings=False)
    # Decisions are on the child's record, never in a personal file: none is opened.
    looking = _Unopened(reader)
    found: list[Decision] = []
    for child in subjects_of(sources.engine, authority, "child"):
        if not reader.may_read_child(child):
            continue  # not theirs to see: it answers as if it were not there
        found.extend(_of_child(quiet, looking, authority, child, filters))
    found.sort(key=lambda d: (d.occurred_at, d.child, d.position))
    if log:
        log_children(reader, found)
    return found


def log_children(reader: Reader, given: Sequence[Decision]) -> None:
    """Log a read of each child whose decisions were given out, once each."""
    for child in dict.fromkeys(d.child for d in given):
        reader.open_child(child, what="decisions across children")


def decision(
    sources: Sources, reader: Reader, authority: str, child: str, position: int
) -> Decision | None:
    """The decision at ``position`` on ``child``'s record (as recorded), read as the list
    reads it: an authority report for the child's team at the decision, then the child
    opened (authorised and logged). None when there is no such decision; ``Forbidden``,
    whether there is or not, for a reader of no report that would hold it."""
    quiet = Sources(sources.engine, sources.library, with_findings=False)
    # Looked for before the reader is authorised: no personal file is opened (nor logged)
    # on their behalf; decisions are on the child's record, not in one. A child not there
    # has no history, so no decision.
    mine = _of_child(quiet, _Unopened(reader), authority, child, Filters())
    found = next((d for d in mine if d.position == position), None)
    require_text(reader.purpose, field="purpose", max_length=500)
    reader.open_reports(found.team if found is not None else None)
    if found is None:
        return None
    try:
        reader.open_child(child, what="a decision")
    except (NotFound, Forbidden):
        # The child is no longer theirs to see (moved team, say): answered as a decision
        # that is not there, so the answer tells nothing of one that is.
        reader.open_reports(None)
        return None
    return found


@dataclass(frozen=True)
class _Unopened:
    """A reader for looking before authorising: it opens no personal file and no child."""

    reader: Reader

    @property
    def authority_code(self) -> str:
        return self.reader.authority_code

    @property
    def purpose(self) -> str:
        return self.reader.purpose

    def open_child(self, child_id: str, *, what: str) -> None:
        raise AssertionError("a lookup before authorising opens no record")

    def open_personal_file(self, staff_id: str, *, what: str) -> bool:
        return False

    def may_read_child(self, child_id: str) -> bool:
        return self.reader.may_read_child(child_id)

    def open_reports(self, team: str | None) -> None:
        self.reader.open_reports(team)


def _of_child(
    sources: Sources, reader: Reader, authority: str, child: str, filters: Filters
) -> list[Decision]:
    request = Request(
        authority,
        child,
        period_from=filters.period_from,
        period_to=filters.period_to,
        as_of=filters.as_of,
        known_at=filters.known_at,
    )
    try:
        chronology = assemble(sources, reader, request)
    except ValidationError:
        return []  # the child did not exist yet at the instants asked about
    rows = history_rows(sources.engine, str(child_uuid(authority, child)))
    timeline = Timeline(rows, filters.known_at)
    corrected = _corrected(chronology.lines)
    chosen = []
    for line in chronology.decisions:
        kind = _KIND_OF_EVENT.get(line.event)
        if kind is None or (filters.kinds and kind not in filters.kinds):
            continue
        attributes = timeline.attributes_at(line.occurred_at)
        decision = Decision(
            child=child,
            position=line.position,
            kind=kind,
            entry=line.entry,
            occurred_at=line.occurred_at,
            recorded_at=line.recorded_at,
            decider=line.actor,
            role=line.role,
            decision=line.decision or "",
            corrected_to=corrected.get(line.entry or ""),
            rules=line.rules,
            team=attributes.get("team"),
            worker=attributes.get("allocated_worker_id"),
        )
        if _matches(decision, filters):
            chosen.append(decision)
    return chosen


def _corrected(lines: tuple[Line, ...]) -> dict[str, str]:
    latest: dict[str, str] = {}
    for line in lines:
        for correction in line.corrections:
            if correction.field in ("decision", "resolution"):
                latest[correction.entry] = correction.became
    return latest


def _matches(decision: Decision, filters: Filters) -> bool:
    if filters.team is not None and decision.team != filters.team:
        return False
    if filters.worker is not None and decision.worker != filters.worker:
        return False
    if filters.decider is not None and decision.decider != filters.decider:
        return False
    if filters.rule is not None and filters.rule not in decision.rules:
        return False
    if filters.text is not None:
        words = filters.text.casefold()
        held = f"{decision.decision} {decision.corrected_to or ''}".casefold()
        if words not in held:
            return False
    day = local_day(decision.occurred_at)
    return not (
        (filters.period_from is not None and day < filters.period_from)
        or (filters.period_to is not None and day > filters.period_to)
    )
