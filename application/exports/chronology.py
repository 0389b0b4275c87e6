"""A child's chronology: every oversight act in order, as known at an instant (issue 24).

Assembled from the read models, never from the aggregates: the child's audit trail (who
acted, in which role, the words, the clause each event cites under the child's
authority's pack, and purged records as the certificate lines the purge left), the
child's history rows (the fields of each act: the trigger an oversight record answered,
the decision, and each correction's changes) and the timeline folded from them
(``domain.policy.timeline``, the one fold: which disagreements were open), and the
compliance findings (``projections.compliance``). ADR 0030.

Two instants, as everywhere (ADR 0007): ``as_of`` (valid time: what had happened by
then) and ``known_at`` (system time: what had been recorded by then). A correction is a
line of its own, saying what stood and from when it was known otherwise; known at an
instant before the correction was recorded, the original stands and the correction is
not there.

The value holds nothing of "now": the same store and the same arguments give the same
chronology, so its JSON and CSV are byte-identical from one run to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from application.exports.reading import PERSONAL_FILE_IS_PRIVATE, Reader
from domain.errors import ValidationError
from domain.events import (
    CaseSupervisionRecorded,
    ChildRegistered,
    ContentPurged,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    OversightTriggered,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    RecordAccessed,
    RecordPurged,
    SupervisionSessionHeld,
)
from domain.identifiers import child_id as child_uuid
from domain.identifiers import worker_id as worker_uuid
from domain.policy.compliance import Status
from domain.policy.packs import PackLibrary
from domain.policy.timeline import Timeline, local_day
from projections.audit_trail import AuditEntry, authority_citations, subject_entries
from projections.compliance.answers import evaluate
from projections.history import HistoryRow
from projections.history import rows as history_rows

#: The acts that decide something, and the field holding what was decided.
DECISIONS: Mapping[str, str] = {
    ManagementDecisionRecorded.__name__: "decision",
    ManagementOversightRecorded.__name__: "decision",
    CaseSupervisionRecorded.__name__: "decision",
    DisagreementResolved.__name__: "resolution",
}

#: Events of a worker's personal file that belong in a child's chronology when the
#: reader may see them: their supervision and its sign-off.
PERSONAL_EVENTS = frozenset(
    {
        SupervisionSessionHeld.__name__,
        PersonalSupervisionRecordWritten.__name__,
        PersonalSupervisionRecordSigned.__name__,
    }
)

#: Certificate lines: what a purge leaves on the trail in place of the content.
CERTIFICATES = frozenset({RecordPurged.__name__, ContentPurged.__name__})

#: Fields of an act that name the worker it concerns (the ``worker`` filter).
WORKER_FIELDS = (
    "worker_id",
    "supervisor_id",
    "decision_maker_id",
    "consulted_by",
    "recorded_by_instruction_of",
)

#: Findings that say something is owed: a panel reads these.
OWED = frozenset({Status.OVERDUE, Status.BREACHED, Status.DUE_SOON})


@dataclass(frozen=True)
class Correction:
    """One field of an entry corrected: what stood, what it became, and from when it was
    known otherwise (the correction's recorded time)."""

    entry: str
    field: str
    stood: str
    became: str
    known_otherwise_from: datetime
    reason: str


@dataclass(frozen=True)
class Line:
    """One act of the chronology, with both its times."""

    position: int
    occurred_at: datetime
    recorded_at: datetime
    kind: str  # the trail's kind: oversight_trigger, management_oversight, correction, ...
    event: str  # the catalogue class's name
    entry: str | None
    actor: str
    role: str
    summary: str
    rules: tuple[str, ...]
    #: The triggers an oversight record answered, each "id: what, on day".
    answers: tuple[str, ...] = ()
    decision: str | None = None
    corrections: tuple[Correction, ...] = ()
    #: From the worker's personal file (shown only to a reader who may read it).
    personal: bool = False
    #: A purge's certificate line: no content, only what was destroyed and under what.
    certificate: bool = False


@dataclass(frozen=True)
class Escalation:
    level: str
    occurred_at: datetime
    actor: str
    role: str


@dataclass(frozen=True)
class Disagreement:
    """A disagreement, its escalation path and its outcome (None: still open)."""

    disagreement: str
    about: str
    raised_at: datetime
    raised_by: str
    path: tuple[Escalation, ...]
    resolution: str | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class SignOff:
    """A personal supervision record's sign-off, the parties' views side by side."""

    record: str
    session: str | None
    supervisor_signed_at: datetime | None
    supervisee_signed_at: datetime | None
    #: The supervisee's view: "confirmed", their differing view, or "not signed".
    supervisee_view: str


@dataclass(frozen=True)
class FindingLine:
    rule: str
    status: str
    due_on: date | None
    sentence: str


@dataclass(frozen=True)
class Chronology:
    authority: str
    child: str
    worker: str | None
    period_from: date | None
    period_to: date | None
    as_of: datetime | None
    known_at: datetime | None
    #: The day the findings are for: ``as_of``'s, else the period's end, else the last act's.
    findings_on: date | None
    lines: tuple[Line, ...]
    disagreements: tuple[Disagreement, ...]
    sign_offs: tuple[SignOff, ...]
    findings: tuple[FindingLine, ...]
    #: What is left out and why (personal supervision the reader may not see).
    withheld: tuple[str, ...] = ()
    #: Why there is nothing to show, when there is nothing.
    empty_reason: str | None = None

    @property
    def decisions(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.decision is not None)


@dataclass(frozen=True)
class Request:
    """What a chronology is asked for."""

    authority: str
    child: str
    worker: str | None = None
    period_from: date | None = None
    period_to: date | None = None
    as_of: datetime | None = None
    known_at: datetime | None = None


@dataclass
class Sources:
    """Where a chronology is read from: the read models and the packs."""

    engine: Engine
    library: PackLibrary
    #: Compliance findings (off for a read that needs only the acts: decisions across
    #: children, the benchmark's history reading).
    with_findings: bool = True
    _citations: dict[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def citations(self, authority: str) -> Mapping[str, tuple[str, ...]]:
        if authority not in self._citations:
            with self.engine.connect() as conn:
                self._citations[authority] = authority_citations(conn, authority, self.library)
        return self._citations[authority]


def chronology(sources: Sources, reader: Reader, request: Request) -> Chronology:
    """The child's chronology for ``reader``: the read is authorised and logged on the
    child's access log (and on the worker's, when their supervision is shown) before any
    of it is read. Bad input is a ``ValidationError`` naming the field."""
    _check(request)
    reader.open_child(request.child, what=f"chronology of {request.child}")
    return assemble(sources, reader, request)


def assemble(sources: Sources, reader: Reader, request: Request) -> Chronology:
    """``chronology`` for a child already opened (authorised and logged) by ``reader``."""
    subject = str(child_uuid(request.authority, request.child))
    rows = history_rows(sources.engine, subject)
    registered = next((r for r in rows if r.kind is ChildRegistered), None)
    _check_instants(request, registered)
    trail = subject_entries(sources.engine, subject, request.authority, library=sources.library)
    data = {r.position: r for r in rows}
    allocated = [
        (a.start, a.end)
        for a in Timeline(rows, request.known_at).allocations()
        if a.worker_id == request.worker
    ]
    lines = [
        line
        for entry in trail
        if (line := _line(entry, data, request)) is not None
        and _wanted(line, entry, data, request, allocated)
    ]
    lines = with_corrections_and_triggers(lines, rows, request.known_at)
    withheld: list[str] = []
    sign_offs: list[SignOff] = []
    if request.worker is not None:
        if reader.open_personal_file(
            request.worker, what=f"supervision in the chronology of {request.child}"
        ):
            personal, sign_offs = _personal(sources, request)
            lines.extend(personal)
        else:
            cited = " ".join(sources.citations(request.authority).get(PERSONAL_FILE_IS_PRIVATE, ()))
            withheld.append(
                f"Personal supervision of {request.worker} withheld: the reader may not read "
                f"their personal file [{cited or PERSONAL_FILE_IS_PRIVATE}]"
            )
    lines.sort(key=lambda line: (line.occurred_at, line.position))
    findings_on = _findings_day(request, lines)
    findings = (
        _findings(sources, subject, request.period_from, findings_on, request.known_at)
        if sources.with_findings and findings_on is not None
        else ()
    )
    disagreements = _disagreements(lines, rows, request)
    return Chronology(
        authority=request.authority,
        child=request.child,
        worker=request.worker,
        period_from=request.period_from,
        period_to=request.period_to,
        as_of=request.as_of,
        known_at=request.known_at,
        findings_on=findings_on,
        lines=tuple(lines),
        disagreements=disagreements,
        sign_offs=tuple(sign_offs),
        findings=findings,
        withheld=tuple(withheld),
        empty_reason=None if lines else _why_empty(request),
    )


# -- input ----------------------------------------------------------------------------------


def _check(request: Request) -> None:
    if (
        request.period_from is not None
        and request.period_to is not None
        and request.period_from > request.period_to
    ):
        raise ValidationError("the period ends before it begins", field="to")


def _check_instants(request: Request, registered: HistoryRow | None) -> None:
    """An instant before the child's record began is refused, naming the option: there
    was no child to read then (after the read is authorised, so it tells nothing)."""
    if registered is None:
        return
    if request.as_of is not None and request.as_of < registered.occurred_at:
        raise ValidationError(
            f"before the child's record began ({registered.occurred_at.isoformat()})",
            field="as_of",
        )
    if request.known_at is not None and request.known_at < registered.recorded_at:
        raise ValidationError(
            f"before the child was first recorded ({registered.recorded_at.isoformat()})",
            field="known_at",
        )


def _why_empty(request: Request) -> str:
    parts = []
    if request.period_from or request.period_to:
        parts.append(
            f"between {request.period_from or 'the beginning'} and {request.period_to or 'now'}"
        )
    if request.worker:
        parts.append(f"by or about {request.worker}")
    if request.as_of:
        parts.append(f"that had happened by {request.as_of.isoformat()}")
    if request.known_at:
        parts.append(f"recorded by {request.known_at.isoformat()}")
    return (
        "No oversight act on this child's record " + (" ".join(parts) if parts else "at all") + "."
    )


# -- lines ----------------------------------------------------------------------------------


def _line(entry: AuditEntry, data: Mapping[int, HistoryRow], request: Request) -> Line | None:
    """A trail entry as a chronology line, if it is on the record known at ``known_at``
    and had happened by ``as_of`` (reads of the record are not acts: they are left out)."""
    if entry.event_type == RecordAccessed.__name__:
        return None
    if request.known_at is not None and entry.recorded_at > request.known_at:
        return None
    if request.as_of is not None and entry.occurred_at > request.as_of:
        return None
    row = data.get(entry.position)
    fields: Mapping[str, Any] = row.data if row is not None else {}
    certificate = entry.event_type in CERTIFICATES
    decision_field = DECISIONS.get(entry.event_type)
    decision = (
        str(fields[decision_field])
        if decision_field and decision_field in fields and not certificate
        else None
    )
    return Line(
        position=entry.position,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        kind=entry.kind,
        event=entry.event_type,
        entry=entry.entry_ref,
        actor=entry.actor_id,
        role=entry.actor_role,
        summary=entry.summary,
        rules=tuple((entry.rule_ids or "").split()),
        answers=tuple(str(t) for t in fields.get("answers_trigger_ids", ())),
        decision=decision,
        certificate=certificate,
    )


def _wanted(
    line: Line,
    entry: AuditEntry,
    data: Mapping[int, HistoryRow],
    request: Request,
    allocated: Sequence[tuple[date, date | None]],
) -> bool:
    """In the period, and (given a worker) while the child was allocated to them, or by
    or about them; certificate lines always."""
    day = local_day(line.occurred_at)
    if request.period_from is not None and day < request.period_from:
        return False
    if request.period_to is not None and day > request.period_to:
        return False
    if request.worker is None or line.certificate:
        return True
    if any(start <= day and (end is None or day < end) for start, end in allocated):
        return True
    row = data.get(entry.position)
    fields = row.data if row is not None else {}
    return line.actor == request.worker or any(
        fields.get(name) == request.worker for name in WORKER_FIELDS
    )


def with_corrections_and_triggers(
    lines: Sequence[Line], rows: Sequence[HistoryRow], known_at: datetime | None
) -> list[Line]:
    """The lines, each correction given what stood and what it became, and each
    oversight record the triggers it answered in words."""
    stood = _stood(rows, known_at)
    triggers = {
        line.entry: f"{line.entry}: {_trigger_words(line)}"
        for line in lines
        if line.event == OversightTriggered.__name__ and line.entry
    }
    done: list[Line] = []
    for line in lines:
        if line.event == EntryCorrected.__name__:
            line = _replace(line, corrections=stood.get(line.position, ()))
        if line.answers:
            line = _replace(line, answers=tuple(triggers.get(t, t) for t in line.answers))
        done.append(line)
    return done


def _trigger_words(line: Line) -> str:
    text = line.summary.split(": ", 1)[-1]
    return f"{text}, on {local_day(line.occurred_at).isoformat()}"


def _replace(line: Line, **changes: Any) -> Line:
    return Line(**{**line.__dict__, **changes})


def _stood(
    rows: Sequence[HistoryRow], known_at: datetime | None
) -> dict[int, tuple[Correction, ...]]:
    """For each correction known at ``known_at`` (by position), each field it changed:
    the value that stood until it (the entry's stored fields and the corrections before
    it, in recorded order: the timeline's own order of corrections) and the new one."""
    timeline = Timeline(rows, known_at)
    current: dict[str, dict[str, Any]] = {}
    found: dict[int, tuple[Correction, ...]] = {}
    for fact in timeline.recorded:
        entry_id = fact.data.get("entry_id")
        if fact.kind is EntryCorrected:
            fields = current.setdefault(str(entry_id), {})
            changes = fact.data.get("changes", {})
            found[fact.position] = tuple(
                Correction(
                    entry=str(entry_id),
                    field=name,
                    stood=_text(fields.get(name)),
                    became=_text(value),
                    known_otherwise_from=fact.recorded_at,
                    reason=str(fact.data.get("reason", "")),
                )
                for name, value in sorted(changes.items())
            )
            fields.update(changes)
        elif entry_id is not None:
            current.setdefault(str(entry_id), {}).update(fact.data)
    return found


def _text(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


# -- a worker's supervision, for a reader who may see it ------------------------------------


def _personal(sources: Sources, request: Request) -> tuple[list[Line], list[SignOff]]:
    assert request.worker is not None
    subject = str(worker_uuid(request.authority, request.worker))
    rows = history_rows(sources.engine, subject)
    data = {r.position: r for r in rows}
    trail = subject_entries(sources.engine, subject, request.authority, library=sources.library)
    lines: list[Line] = []
    for entry in trail:
        if entry.event_type not in PERSONAL_EVENTS and entry.event_type not in CERTIFICATES:
            continue
        line = _line(entry, data, request)
        if line is None or not _in_period(line, request):
            continue
        lines.append(_replace(line, personal=True))
    signed: dict[str, dict[str, Any]] = {}
    for line in lines:
        row = data.get(line.position)
        if row is None:
            continue
        if line.event == PersonalSupervisionRecordWritten.__name__:
            signed.setdefault(str(row.data["record_id"]), {})["session"] = row.data.get(
                "session_id"
            )
        elif line.event == PersonalSupervisionRecordSigned.__name__:
            record = signed.setdefault(str(row.data["record_id"]), {})
            record[str(row.data["signatory"])] = (line.occurred_at, row.data)
    sign_offs = [
        SignOff(
            record=record,
            session=str(parts["session"]) if parts.get("session") else None,
            supervisor_signed_at=parts["supervisor"][0] if "supervisor" in parts else None,
            supervisee_signed_at=parts["supervisee"][0] if "supervisee" in parts else None,
            supervisee_view=_view(parts.get("supervisee")),
        )
        for record, parts in sorted(signed.items())
    ]
    return lines, sign_offs


def _view(signature: tuple[datetime, Mapping[str, Any]] | None) -> str:
    if signature is None:
        return "not signed"
    fields = signature[1]
    if fields.get("confirmed", True) and not fields.get("differing_view"):
        return "confirmed"
    return f"differing view: {fields.get('differing_view')}"


def _in_period(line: Line, request: Request) -> bool:
    day = local_day(line.occurred_at)
    return not (
        (request.period_from is not None and day < request.period_from)
        or (request.period_to is not None and day > request.period_to)
    )


# -- disagreements and findings ---------------------------------------------------------------


def _disagreements(
    lines: Sequence[Line], rows: Sequence[HistoryRow], request: Request
) -> tuple[Disagreement, ...]:
    """Each disagreement on the child's record, its path and outcome as known at
    ``known_at`` and as of ``as_of`` (the timeline's entries say which are resolved)."""
    entries, _ = Timeline(rows, request.known_at).entries_at(request.as_of)
    by_id: dict[str, list[Line]] = {}
    for line in lines:
        if line.kind == "disagreement" and line.entry and not line.personal:
            by_id.setdefault(line.entry, []).append(line)
    found = []
    for disagreement, steps in sorted(by_id.items()):
        raised = next((s for s in steps if s.event == DisagreementRaised.__name__), None)
        if raised is None:
            continue
        resolved = next((s for s in steps if s.event == DisagreementResolved.__name__), None)
        state = entries.get(disagreement, {})
        found.append(
            Disagreement(
                disagreement=disagreement,
                about=str(state.get("about") or raised.summary),
                raised_at=raised.occurred_at,
                raised_by=raised.actor,
                path=tuple(
                    Escalation(_level(s.summary), s.occurred_at, s.actor, s.role)
                    for s in steps
                    if s.event == DisagreementEscalated.__name__
                ),
                resolution=None if state.get("resolution") is None else str(state["resolution"]),
                resolved_at=resolved.occurred_at if resolved is not None else None,
            )
        )
    return tuple(found)


def _level(summary: str) -> str:
    after = summary.split(" escalated to the ", 1)[-1]
    return after.split(":", 1)[0]


def _findings_day(request: Request, lines: Sequence[Line]) -> date | None:
    if request.as_of is not None:
        return local_day(request.as_of)
    if request.period_to is not None:
        return request.period_to
    acts = [line for line in lines if not line.certificate]
    return local_day(acts[-1].occurred_at) if acts else None


def _findings(
    sources: Sources, subject: str, since: date | None, day: date, known_at: datetime | None
) -> tuple[FindingLine, ...]:
    """What was owed on ``day`` (overdue, breached in the period, or due soon), each with
    the clause it rests on."""
    found = evaluate(sources.engine, sources.library, subject, as_of=day, known_at=known_at)
    if found is None:
        return ()
    return tuple(
        FindingLine(f.rule_id, f.status.value, f.due_on, f.sentence)
        for f in sorted(found.findings, key=lambda f: (f.window_start, f.rule_id, f.rule_key))
        if f.status in OWED and (since is None or f.window_end is None or f.window_end >= since)
    )


__all__ = [
    "Chronology",
    "Correction",
    "Disagreement",
    "Escalation",
    "FindingLine",
    "Line",
    "Request",
    "SignOff",
    "Sources",
    "assemble",
    "chronology",
]
