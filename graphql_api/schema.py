"""The GraphQL schema: a thin adapter over ``graphql_api.service`` (ADR 0011).

Conventions: camelCase fields; ``asOf`` is valid time and ``knownAt`` system time
wherever they apply; ISO 8601 ``Date`` and ``DateTime``; global ``ID``s for nodes;
keyset connections with opaque cursors for lists that grow; a description on every
type and field; mutations return the ``CommandResult`` union. Resolvers run the
synchronous service in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy.exc import DataError
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from domain import commands as c
from domain.authorization import AccessRole, Principal
from domain.errors import (
    ConcurrencyConflict,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    RuleViolation,
)
from domain.policy.calendar import Period
from domain.policy.registers import REGISTERS
from graphql_api import integrity as integrity_api
from graphql_api import purge as purge_api
from graphql_api import unavailable
from graphql_api.errors import OversightSchema
from graphql_api.limits import MAX_PAGE
from graphql_api.mutations import (
    CommandResult,
    CommandSuccess,
    ConflictProblem,
    ForbiddenProblem,
    GeneratedMutation,
    NotFoundProblem,
    RuleViolationProblem,
    ValidationProblem,
    camel,
    generated,
)
from graphql_api.service import INTERNAL_COMMANDS, Service
from projections import compliance as compliance_model
from projections import history as history_model
from projections import purge_schedule as purge_model
from projections.audit_trail import InvalidCursor, subject_trail
from projections.engine import ProjectionLagging

T = TypeVar("T")


# -- arguments, described once -----------------------------------------------------------------

AsOfTime = Annotated[
    datetime | None,
    strawberry.argument(description="Valid time: what had happened in the world by then."),
]
AsOfDay = Annotated[
    date, strawberry.argument(description="Valid day: findings as they stood that day.")
]
KnownAt = Annotated[
    datetime | None,
    strawberry.argument(description="System time: only what had been recorded by then."),
]
First = Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_PAGE}.")]
After = Annotated[str | None, strawberry.argument(description="The endCursor of the page before.")]
Kinds = Annotated[list[str] | None, strawberry.argument(description="Only entries of these kinds.")]
Since = Annotated[
    date | None, strawberry.argument(description="Window start (default: a year before).")
]
Team = Annotated[str | None, strawberry.argument(description="Only this team.")]
OpenOnly = Annotated[bool, strawberry.argument(description="Only items open on asOf.")]
ChildId = Annotated[str, strawberry.argument(description="The child's id in the authority.")]
StaffId = Annotated[str, strawberry.argument(description="The worker's staff id.")]
ConsistentWith = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="A position a mutation returned: wait (briefly) until it is readable."
    ),
]


@dataclass
class Context:
    """Per request: the service and who is asking (None: no token was sent)."""

    service: Service
    principal: Principal | None
    #: A subscription's ``connection_init`` payload (graphql-transport-ws).
    connection_params: dict[str, Any] | None = None
    #: Per request: batches the open work of every case a list shows into one query.
    open_work: DataLoader[tuple[str, date], compliance_model.OpenWork] | None = None

    def open_work_loader(self) -> DataLoader[tuple[str, date], compliance_model.OpenWork]:
        if self.open_work is None:
            engine = self.service.engine

            async def load(
                keys: list[tuple[str, date]],
            ) -> list[compliance_model.OpenWork]:
                by_day: dict[date, list[str]] = {}
                for subject_id, day in keys:
                    by_day.setdefault(day, []).append(subject_id)
                found: dict[tuple[str, date], compliance_model.OpenWork] = {}
                for day, subjects in by_day.items():
                    batch = await asyncio.to_thread(
                        compliance_model.open_work, engine, subjects, day
                    )
                    found.update({(s, day): work for s, work in batch.items()})
                return [found[key] for key in keys]

            self.open_work = DataLoader(load_fn=load)
        return self.open_work

    def who(self) -> Principal:
        if self.principal is None:
            raise client_error("sign in: send a bearer token", "UNAUTHENTICATED")
        return self.principal


Info = strawberry.Info[Context, None]


#: ``extensions.classification`` for errors that are the caller's to fix (bad input, not
#: found, forbidden, unauthenticated), as graphql-java and Apollo label them, so generic
#: clients and tools can tell them from server faults; ``code`` is ours (ADR 0011).
CLIENT = "BAD_REQUEST"
#: ``extensions.code`` of input the caller must change: an argument, a variable, a value.
INPUT = "BAD_USER_INPUT"


def client_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "classification": CLIENT, **extensions})


#: A domain error's code as the API names it: invalid input is ``BAD_USER_INPUT``
#: whether the adapter or the domain found it (ADR 0017).
API_CODES = {"VALIDATION": INPUT}


def _error(error: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": API_CODES.get(error.code, error.code)}
    if not error.retryable:
        extensions["classification"] = CLIENT
    if error.field:
        extensions["field"] = camel(error.field)  # the argument's GraphQL name
    if error.rule:
        extensions["rule"] = error.rule
    if error.retryable:
        extensions["retryable"] = True
    return GraphQLError(error.message, extensions=extensions)


async def _run(func: Callable[[], T]) -> T:
    """Run the synchronous service in a thread; domain errors become typed errors."""
    try:
        return await asyncio.to_thread(func)
    except ProjectionLagging as error:
        raise GraphQLError(str(error), extensions={"code": error.code, "retryable": True}) from None
    except InvalidCursor as error:
        raise client_error(str(error), INPUT, field="after") from None
    except DomainError as error:
        raise _error(error) from None
    except DataError:
        raise _unstorable() from None
    except Exception as error:
        unavailable.reraise(error)


def _unstorable() -> GraphQLError:
    """The database refused a value (PostgreSQL text cannot hold U+0000, say): the
    client's input, not a server fault."""
    return client_error(
        "a value cannot be stored or searched for (does it contain a NUL character?)", INPUT
    )


def _bounded(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise client_error(f"first must be between 1 and {MAX_PAGE}", INPUT, field="first")
    return first


def _instant(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise client_error(f"{name} needs a time zone offset (ISO 8601)", INPUT, field=name)
    return value


# -- global ids -------------------------------------------------------------------------------


def global_id(kind: str, authority: str, local_id: str) -> strawberry.ID:
    raw = f"{kind}:{authority}:{local_id}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def parse_global_id(value: str) -> tuple[str, str, str]:
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, authority, local_id = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 2)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise client_error("not an id this API issued", INPUT, field="id") from None
    return kind, authority, local_id


# -- types --------------------------------------------------------------------------------------


@strawberry.type(description="Who is signed in.")
class Viewer:
    staff_id: str = strawberry.field(description="Their staff id in their authority.")
    role: str = strawberry.field(description="The role their token carries.")
    authority: str = strawberry.field(description="Their authority's code.")


@strawberry.type(description="One event on a subject's history, with both of its times.")
class HistoryEvent:
    position: strawberry.ID = strawberry.field(description="Its position in the event log.")
    event: str = strawberry.field(description="What happened (the event's name).")
    occurred_at: datetime = strawberry.field(description="Valid time: when it happened.")
    recorded_at: datetime = strawberry.field(description="System time: when it was recorded.")
    entry: str | None = strawberry.field(description="The entry it concerns, if any.")
    data: JSON = strawberry.field(description="The event's fields as recorded.")


@strawberry.type(description="A subject as of a valid time, as known at a system time.")
class SubjectState:
    attributes: JSON = strawberry.field(description="Attributes (latest by valid time).")
    entries: JSON = strawberry.field(
        description="Entries by id (sessions, records, triggers...), corrections applied."
    )
    events: list[HistoryEvent] = strawberry.field(
        description="The events the answer rests on, in valid-time order."
    )


@strawberry.type(description="One entry of a subject's audit trail.")
class AuditEntry:
    position: strawberry.ID = strawberry.field(description="Its position in the event log.")
    kind: str = strawberry.field(description="What kind of entry (supervision, access...).")
    summary: str = strawberry.field(description="What happened, in plain words.")
    occurred_at: datetime = strawberry.field(description="Valid time.")
    recorded_at: datetime = strawberry.field(description="System time.")
    actor_id: str = strawberry.field(description="Who recorded it.")
    actor_role: str = strawberry.field(description="In which role.")
    rule_ids: str | None = strawberry.field(description="The rules it concerns.")
    related: list[strawberry.ID] = strawberry.field(
        description="Positions of linked entries (a trigger and its answer, say)."
    )


@strawberry.type(description="An edge of a connection: a node and its cursor.")
class AuditEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: AuditEntry = strawberry.field(description="The entry.")


@strawberry.type(description="Where a page ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when there is more.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")


@strawberry.type(description="A page of audit entries, oldest first (keyset pagination).")
class AuditConnection:
    edges: list[AuditEdge] = strawberry.field(description="This page's entries.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.enum(
    description="A finding's status on the day asked about: MET (done in its window, or "
    "open and not yet due), DUE_SOON, OVERDUE (open past its due day: a deadline's only "
    "window), BREACHED (the window closed without the act, or it was done late; each "
    "missed window of a recurring or annual rule is its own finding), NOT_APPLICABLE."
)
class FindingStatus(Enum):
    MET = "met"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    BREACHED = "breached"
    NOT_APPLICABLE = "not_applicable"


@strawberry.type(description="What a policy rule required, and whether it was done.")
class Finding:
    rule_id: str = strawberry.field(description="The rule ID, e.g. POR-3.1b.")
    rule_key: str = strawberry.field(description="The rule and its variant.")
    status: FindingStatus = strawberry.field(description="Status on asOf.")
    due_on: date | None = strawberry.field(description="When it is or was due.")
    evidence: list[strawberry.ID] = strawberry.field(
        description="Log positions of the events it rests on."
    )
    sentence: str = strawberry.field(description="The finding in words, citing the rule.")
    window_start: date = strawberry.field(description="The day its window opened.")
    window_end: date | None = strawberry.field(
        description="The last day of its window (its due day); null: not applicable."
    )


@strawberry.type(description="A worker's or child's compliance on a day.")
class Compliance:
    pack: str | None = strawberry.field(description="The pack they are held to.")
    as_of: date = strawberry.field(description="The valid day asked about.")
    known_at: datetime | None = strawberry.field(description="The system time asked about.")
    findings: list[Finding] = strawberry.field(description="Every finding arisen by asOf.")


def _compliance(result: compliance_model.SubjectCompliance) -> Compliance:
    return Compliance(
        pack=result.pack_id,
        as_of=result.as_of,
        known_at=result.known_at,
        findings=[
            Finding(
                rule_id=f.rule_id,
                rule_key=f.rule_key,
                status=FindingStatus(f.status.value),
                due_on=f.due_on,
                evidence=[strawberry.ID(str(p)) for p in f.evidence],
                sentence=f.sentence,
                window_start=f.window_start,
                window_end=f.window_end,
            )
            for f in result.findings
        ],
    )


def _history(rows: list[history_model.HistoryRow]) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            position=strawberry.ID(str(r.position)),
            event=r.event_type,
            occurred_at=r.occurred_at,
            recorded_at=r.recorded_at,
            entry=r.entry_ref,
            data=JSON(r.data),
        )
        for r in rows
    ]


def _trail_page(page: Any) -> AuditConnection:
    from projections.audit_trail import encode_cursor

    return AuditConnection(
        edges=[
            AuditEdge(
                cursor=encode_cursor(e.position),
                node=AuditEntry(
                    position=strawberry.ID(str(e.position)),
                    kind=e.kind,
                    summary=e.summary,
                    occurred_at=e.occurred_at,
                    recorded_at=e.recorded_at,
                    actor_id=e.actor_id,
                    actor_role=e.actor_role,
                    rule_ids=e.rule_ids,
                    related=[strawberry.ID(str(p)) for p in e.related],
                ),
            )
            for e in page.entries
        ],
        page_info=PageInfo(has_next_page=page.next_cursor is not None, end_cursor=page.next_cursor),
    )


@strawberry.interface(description="Anything with a global id.")
class Node:
    id: strawberry.ID = strawberry.field(description="A global id: opaque, stable.")


PURPOSE = "Why the record is read: kept on its access log [DUR-4.8]."


@strawberry.interface(
    description="A child's or worker's record, as the caller may see it. Reading it is "
    "logged on its access log."
)
class SubjectRecord(Node):
    kind: strawberry.Private[str]  # child | worker
    local_id: strawberry.Private[str]
    purpose: strawberry.Private[str]
    authority: strawberry.Private[str]

    @strawberry.field(description="State as of a valid time and as known at a system time.")
    async def state(
        self, info: Info, as_of: AsOfTime = None, known_at: KnownAt = None
    ) -> SubjectState:
        return await _state(info, self.kind, self.authority, self.local_id, as_of, known_at)

    @strawberry.field(description="The audit trail, oldest first.")
    async def audit_trail(
        self,
        info: Info,
        first: First = 50,
        after: After = None,
        kinds: Kinds = None,
    ) -> AuditConnection:
        return await _trail(info, self.kind, self.local_id, first, after, kinds)

    @strawberry.field(description="Findings under the authority's pack on asOf.")
    async def compliance(self, info: Info, as_of: AsOfDay, known_at: KnownAt = None) -> Compliance:
        return await _evaluate(info, self.kind, self.authority, self.local_id, as_of, known_at)

    @strawberry.field(
        description="The signed checkpoint of the event log that covers this record's "
        "stored history, to check offline with the public key "
        "(docs/verifying-a-history.md); null until one covers it."
    )
    async def integrity(self, info: Info) -> integrity_api.HistoryIntegrity | None:
        subject = _subject_uuid(self.kind, self.authority, self.local_id)
        engine = info.context.service.engine
        return await _run(lambda: integrity_api.history_integrity(engine, subject))


@strawberry.type(description="A child's case, as the caller may see it. Reading it is logged.")
class Child(SubjectRecord):
    child_id: str = strawberry.field(description="The child's id in the authority.")
    team: str | None = strawberry.field(description="The team holding the case.")
    allocated_worker: str | None = strawberry.field(description="The allocated worker.")


@strawberry.type(description="A worker's personal supervision file. Reading it is logged.")
class Worker(SubjectRecord):
    staff_id: str = strawberry.field(description="The worker's staff id.")
    team: str | None = strawberry.field(description="Their team.")


def _subject_uuid(kind: str, authority: str, local_id: str) -> uuid.UUID:
    from domain.identifiers import child_id, worker_id

    return child_id(authority, local_id) if kind == "child" else worker_id(authority, local_id)


async def _state(
    info: Info,
    kind: str,
    authority: str,
    local_id: str,
    as_of: datetime | None,
    known_at: datetime | None,
) -> SubjectState:
    engine = info.context.service.engine
    subject = _subject_uuid(kind, authority, local_id)
    valid, system = _instant(as_of, "asOf"), _instant(known_at, "knownAt")

    def read() -> SubjectState:
        answer = history_model.state(engine, subject, as_of=valid, known_at=system)
        rows = history_model.history(engine, subject, as_of=valid, known_at=system)
        return SubjectState(
            attributes=JSON(answer.attributes),
            entries=JSON(answer.entries),
            events=_history(rows),
        )

    return await _run(read)


async def _trail(
    info: Info, kind: str, local_id: str, first: int, after: str | None, kinds: list[str] | None
) -> AuditConnection:
    principal = info.context.who()
    engine = info.context.service.engine
    size = _bounded(first)

    def read() -> AuditConnection:
        return _trail_page(
            subject_trail(
                engine,
                authority_code=principal.authority_code,
                subject_kind=kind,
                local_id=local_id,
                first=size,
                after=after,
                kinds=kinds or (),
            )
        )

    return await _run(read)


async def _evaluate(
    info: Info, kind: str, authority: str, local_id: str, as_of: date, known_at: datetime | None
) -> Compliance:
    service = info.context.service
    subject = str(_subject_uuid(kind, authority, local_id))
    system = _instant(known_at, "knownAt")

    def read() -> Compliance:
        result = compliance_model.evaluate(
            service.engine, service.library, subject, as_of=as_of, known_at=system
        )
        if result is None:
            raise NotFound("not known at that time", field="knownAt")
        return _compliance(result)

    return await _run(read)


@strawberry.type(description="One rule's (or team's) tally for a compliance summary.")
class SummaryRow:
    key: str = strawberry.field(description="The rule ID, or the team.")
    fell_due: int = strawberry.field(description="Obligations that fell due in the window.")
    on_time: int = strawberry.field(description="Of those, done by their due day.")
    late: int = strawberry.field(description="Done, but after their due day.")
    missed: int = strawberry.field(description="Not done by asOf, and still open (deadlines).")
    breached: int = strawberry.field(
        description="Windows of recurring and annual rules that closed without the act, "
        "due in the period: each missed window counts once."
    )
    due_soon: int = strawberry.field(description="Open, and due within the pack's warning.")
    rate: float | None = strawberry.field(description="onTime / fellDue; null when none.")


@strawberry.type(description="Compliance rates for quality-assurance dip sampling [POR-7].")
class ComplianceSummary:
    pack: str | None = strawberry.field(description="The authority's pack.")
    as_of: date = strawberry.field(description="The last day of the window.")
    since: date = strawberry.field(description="The first day of the window.")
    by_rule: list[SummaryRow] = strawberry.field(description="Tallies by rule ID.")
    by_team: list[SummaryRow] = strawberry.field(description="Tallies by team.")


def _rows(groups: dict[Any, compliance_model.Tally]) -> list[SummaryRow]:
    return [
        SummaryRow(
            key=str(key),
            fell_due=t.fell_due,
            on_time=t.on_time,
            late=t.late,
            missed=t.missed,
            breached=t.breached,
            due_soon=t.due_soon,
            rate=t.rate,
        )
        for key, t in groups.items()
    ]


@strawberry.enum(description="The queues and registers an oversight manager works from.")
class RegisterKind(Enum):
    OVERSIGHT_TRIGGER = "oversight_trigger"
    ACTION = "action"
    SIGN_OFF = "sign_off"
    DISAGREEMENT = "disagreement"


assert {k.value for k in RegisterKind} == set(REGISTERS)


@strawberry.type(description="An item of a queue or register, as it stood on asOf.")
class RegisterItem:
    subject_kind: str = strawberry.field(description="worker or child.")
    local_id: str = strawberry.field(description="The worker's or child's id.")
    team: str | None = strawberry.field(description="Their team.")
    item_id: str = strawberry.field(description="The trigger, action, session or dispute.")
    owner: str | None = strawberry.field(description="Who it is with, when recorded.")
    opened_on: date = strawberry.field(description="When it was opened.")
    due_on: date | None = strawberry.field(description="When the pack says it is due.")
    closed_on: date | None = strawberry.field(description="When it was closed, if it was.")
    rule_id: str | None = strawberry.field(description="The rule giving the due date.")
    age_days: int = strawberry.field(description="Days open (to asOf or to closing).")
    overdue_days: int | None = strawberry.field(description="Days past due; null: no due.")
    detail: JSON = strawberry.field(description="Kind-specific detail (escalations...).")


@strawberry.interface(description="A child or worker on a list, with its open work on asOf.")
class OpenWork:
    subject: strawberry.Private[str]
    as_of: strawberry.Private[date]

    @strawberry.field(description="Obligations overdue on asOf under the authority's pack.")
    async def overdue(self, info: Info) -> int:
        work = await info.context.open_work_loader().load((self.subject, self.as_of))
        return work.overdue

    @strawberry.field(description="The next due day of an open obligation, on or after asOf.")
    async def next_due_on(self, info: Info) -> date | None:
        work = await info.context.open_work_loader().load((self.subject, self.as_of))
        return work.next_due_on


@strawberry.type(
    description="A case on a manager's list: who holds it and its open work. Not the "
    "child's record (query child for that: it is a logged read)."
)
class Case(OpenWork):
    child_id: str = strawberry.field(description="The child's id in the authority.")
    team: str | None = strawberry.field(description="The team holding the case.")
    allocated_worker: str | None = strawberry.field(description="The allocated worker.")


@strawberry.type(description="An edge of a case list.")
class CaseEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: Case = strawberry.field(description="The case.")


@strawberry.type(description="A page of cases, by child id (keyset pagination).")
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(description="This page's cases.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


def _cursor(kind: str, value: str) -> str:
    """An opaque cursor for a list of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _after(kind: str, cursor: str | None) -> str | None:
    """What a cursor this API issued for a list of ``kind`` stands for."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(f"{kind}:"):
        raise client_error("not a cursor this list issued", INPUT, field="after")
    return raw[len(kind) + 1 :]


def _case_cursor(local_id: str) -> str:
    return _cursor("case", local_id)


def _case_after(cursor: str | None) -> str | None:
    return _after("case", cursor)


@strawberry.type(
    description="A worker on a manager's list: team, line manager and open obligations. "
    "Not their personal file (query worker for that: it is a logged read)."
)
class StaffMember(OpenWork):
    staff_id: str = strawberry.field(description="The worker's staff id.")
    team: str | None = strawberry.field(description="Their team.")
    line_manager: str | None = strawberry.field(description="Their line manager's staff id.")


@strawberry.type(description="An edge of a staff list.")
class StaffEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: StaffMember = strawberry.field(description="The worker.")


@strawberry.type(description="A page of workers, by staff id (keyset pagination).")
class StaffConnection:
    edges: list[StaffEdge] = strawberry.field(description="This page's workers.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


async def _open_child(
    info: Info, child_id: str, purpose: str, consistent_with: strawberry.ID | None = None
) -> Child:
    who = info.context.who()
    service = info.context.service

    def read() -> Child:
        _wait(service, consistent_with)
        found = service.open_child(who, child_id, what="child record", purpose=purpose)
        return Child(
            id=global_id("Child", who.authority_code, child_id),
            kind="child",
            local_id=child_id,
            child_id=child_id,
            team=found.team,
            allocated_worker=found.allocated_worker,
            purpose=purpose,
            authority=who.authority_code,
        )

    return await _run(read)


async def _open_worker(
    info: Info, staff_id: str, purpose: str, consistent_with: strawberry.ID | None = None
) -> Worker:
    who = info.context.who()
    service = info.context.service

    def read() -> Worker:
        _wait(service, consistent_with)
        found = service.open_worker(who, staff_id, what="personal file", purpose=purpose)
        return Worker(
            id=global_id("Worker", who.authority_code, staff_id),
            kind="worker",
            local_id=staff_id,
            staff_id=staff_id,
            team=found.team,
            purpose=purpose,
            authority=who.authority_code,
        )

    return await _run(read)


async def _list_page(
    info: Info, kind: str, team: str | None, first: int, after: str | None
) -> tuple[list[compliance_model.CaseRow], bool]:
    """A page of the authority's children or workers (an authority report: managers and
    quality assurance), and whether there is more."""
    who = info.context.who()
    service = info.context.service
    size = _bounded(first)
    start = _case_after(after)

    def read() -> list[compliance_model.CaseRow]:
        service.open_reports(who, team)
        return compliance_model.case_list(
            service.engine, who.authority_code, team=team, first=size + 1, after=start, kind=kind
        )

    rows = await _run(read)
    return rows[:size], len(rows) > size


# -- retention (ADR 0012) -------------------------------------------------------------------------


@strawberry.type(
    description="One record on the purge schedule: what will be destroyed, when and why."
)
class PurgeScheduleEntry:
    subject_kind: str = strawberry.field(description="worker or child.")
    local_id: str = strawberry.field(description="The staff id or the child's id.")
    record_class: str = strawberry.field(
        description="personal_supervision, direct_observation, worker_file or child_record."
    )
    record_id: str = strawberry.field(description="The session, observation, staff or child id.")
    rule_id: str | None = strawberry.field(
        description="The retention rule, e.g. DUR-4.9 (null: the pack states no period)."
    )
    trigger: str | None = strawberry.field(description="What starts the period.")
    trigger_date: date | None = strawberry.field(description="When it started (null: not yet).")
    due_on: date | None = strawberry.field(description="When it falls due for destruction.")
    held_by: str | None = strawberry.field(description="The legal holds that stop its purge.")
    events: int = strawberry.field(description="How many stored events the record holds.")
    purged_on: date | None = strawberry.field(description="When it was destroyed.")
    authorised_by: str | None = strawberry.field(description="Who authorised its destruction.")
    status: str = strawberry.field(
        description="On asOf: purged, held, due, scheduled, waiting (period not started) "
        "or no_rule."
    )


@strawberry.type(description="A page of the purge schedule, and the same page as CSV.")
class PurgeSchedule:
    as_of: date = strawberry.field(description="The day each entry's status is given for.")
    entries: list[PurgeScheduleEntry] = strawberry.field(
        description="Records in due-date order; those with no due date last."
    )
    csv: str = strawberry.field(description="These entries as CSV, one line per record.")
    end_cursor: str | None = strawberry.field(description="Pass as after for the next page.")


@strawberry.type(description="What a purge run destroyed (or, dry, would destroy) and refused.")
class PurgeRunResult:
    as_of: date = strawberry.field(description="What was due by this day was taken.")
    dry_run: bool = strawberry.field(description="True: nothing was destroyed.")
    destroyed: list[PurgeScheduleEntry] = strawberry.field(
        description="The records destroyed (a dry run: those a real run would destroy)."
    )
    refused: list[ValidationProblem] = strawberry.field(
        description="Records the schedule proposed that the store's own check refused."
    )


def _entry(row: purge_model.ScheduleRow, as_of: date) -> PurgeScheduleEntry:
    return PurgeScheduleEntry(
        subject_kind=row.subject_kind,
        local_id=row.local_id,
        record_class=row.record_class,
        record_id=row.record_id,
        rule_id=row.rule_id,
        trigger=row.trigger,
        trigger_date=row.trigger_date,
        due_on=row.due_on,
        held_by=row.held_by,
        events=row.events,
        purged_on=row.purged_on,
        authorised_by=row.authorised_by,
        status=row.status_on(as_of),
    )


def _offset(cursor: str | None) -> int:
    value = _after("purge", cursor) or "0"
    if not value.isdigit():
        raise client_error("not a cursor this list issued", INPUT, field="after")
    return int(value)


def _purge_cursor(offset: int) -> str:
    return _cursor("purge", str(offset))


@strawberry.type(description="Read the records the caller may see.")
class Query:
    @strawberry.field(
        description="The authority's workers (or one team's), for managers and quality "
        "assurance: team, line manager and open obligations on asOf."
    )
    async def workers(
        self,
        info: Info,
        as_of: AsOfDay,
        team: Team = None,
        first: First = 50,
        after: After = None,
    ) -> StaffConnection:
        page, more = await _list_page(info, "worker", team, first, after)
        edges = [
            StaffEdge(
                cursor=_case_cursor(r.local_id),
                node=StaffMember(
                    staff_id=r.local_id,
                    team=r.team,
                    line_manager=r.allocated_worker,
                    subject=r.subject_id,
                    as_of=as_of,
                ),
            )
            for r in page
        ]
        return StaffConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(
        description="The authority's cases (or one team's), for managers and quality "
        "assurance: who holds each, and its open work on asOf."
    )
    async def cases(
        self,
        info: Info,
        as_of: AsOfDay,
        team: Team = None,
        first: First = 50,
        after: After = None,
    ) -> CaseConnection:
        page, more = await _list_page(info, "child", team, first, after)
        edges = [
            CaseEdge(
                cursor=_case_cursor(r.local_id),
                node=Case(
                    child_id=r.local_id,
                    team=r.team,
                    allocated_worker=r.allocated_worker,
                    subject=r.subject_id,
                    as_of=as_of,
                ),
            )
            for r in page
        ]
        return CaseConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(
        description="A child or worker by global id (Relay): the same read, authorised and "
        "logged, as child or worker."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
        purpose: Annotated[str, strawberry.argument(description=PURPOSE)] = "case work",
    ) -> Node | None:
        kind, authority, local_id = parse_global_id(str(id))
        who = info.context.who()
        if authority != who.authority_code or kind not in ("Child", "Worker"):
            raise client_error("no such record in this authority", "NOT_FOUND", field="id")
        if kind == "Child":
            return await _open_child(info, local_id, purpose)
        return await _open_worker(info, local_id, purpose)

    @strawberry.field(description="Who is signed in.")
    def viewer(self, info: Info) -> Viewer:
        who = info.context.who()
        return Viewer(staff_id=who.staff_id, role=who.role.value, authority=who.authority_code)

    @strawberry.field(description="A child, if the caller may read their file (logged).")
    async def child(
        self,
        info: Info,
        child_id: ChildId,
        purpose: Annotated[str, strawberry.argument(description=PURPOSE)] = "case work",
        consistent_with: ConsistentWith = None,
    ) -> Child | None:
        return await _open_child(info, child_id, purpose, consistent_with)

    @strawberry.field(description="A worker's personal file, if the caller may read it (logged).")
    async def worker(
        self,
        info: Info,
        staff_id: StaffId,
        purpose: Annotated[str, strawberry.argument(description=PURPOSE)] = "supervision",
        consistent_with: ConsistentWith = None,
    ) -> Worker | None:
        return await _open_worker(info, staff_id, purpose, consistent_with)

    @strawberry.field(description="Compliance rates by rule and team [POR-7, SHR-5.8].")
    async def compliance_summary(
        self, info: Info, as_of: AsOfDay, since: Since = None, team: Team = None
    ) -> ComplianceSummary:
        who = info.context.who()
        service = info.context.service

        def read() -> ComplianceSummary:
            service.open_reports(who, team)
            result = compliance_model.summary(
                service.engine,
                service.library,
                who.authority_code,
                as_of=as_of,
                since=since,
                team=team,
            )
            return ComplianceSummary(
                pack=result.pack_id,
                as_of=result.as_of,
                since=result.since,
                by_rule=_rows(result.by_rule()),
                by_team=_rows(result.by_team()),
            )

        return await _run(read)

    @strawberry.field(
        description="The purge schedule: every record with the rule it is kept under, its "
        "due date and what holds it (ADR 0012). For the data protection officer, quality "
        "assurance, inspectors and senior managers."
    )
    async def purge_schedule(
        self,
        info: Info,
        as_of: Annotated[
            date | None, strawberry.argument(description="Status on this day (default today).")
        ] = None,
        due_from: Annotated[
            date | None, strawberry.argument(description="Due on or after.")
        ] = None,
        due_to: Annotated[date | None, strawberry.argument(description="Due on or before.")] = None,
        months: Annotated[
            int | None, strawberry.argument(description="Due within this many months of asOf.")
        ] = None,
        record_class: Annotated[
            str | None, strawberry.argument(description="Only this record class.")
        ] = None,
        include_purged: Annotated[
            bool, strawberry.argument(description="Destroyed records' tombstones too.")
        ] = False,
        first: First = 50,
        after: After = None,
    ) -> PurgeSchedule:
        who = info.context.who()
        service = info.context.service
        size = _bounded(first)
        start = _offset(after)
        day = as_of or datetime.now(UTC).date()
        if months is not None and not 1 <= months <= 1200:
            raise client_error("months must be between 1 and 1200", INPUT, field="months")
        until = Period.parse(f"P{months}M").after(day) if months is not None else due_to

        def read() -> PurgeSchedule:
            if who.role is not AccessRole.DATA_PROTECTION_OFFICER:
                service.open_reports(who, None)
            rows = purge_model.purge_schedule(
                service.engine,
                authority_code=who.authority_code,
                due_from=due_from,
                due_to=until,
                record_class=record_class,
                include_purged=include_purged,
                limit=start + size + 1,
            )
            page = rows[start : start + size]
            more = len(rows) > start + size
            return PurgeSchedule(
                as_of=day,
                entries=[_entry(r, day) for r in page],
                csv=purge_model.schedule_csv(page, day),
                end_cursor=_purge_cursor(start + size) if more else None,
            )

        return await _run(read)

    @strawberry.field(
        description="Purge certificates, in the order issued: each destroyed record, the rule "
        "cited, the checks made, the counts, and who ran the purge (ADR 0018). No personal "
        "data. For the data protection officer and quality assurance."
    )
    async def purge_certificates(
        self, info: Info, first: First = 50, after: After = None
    ) -> purge_api.PurgeCertificateConnection:
        who = info.context.who()
        service = info.context.service
        size = _bounded(first)
        key = purge_api.certificate_key(_after("certificate", after))
        return await _run(
            lambda: purge_api.certificate_page(
                service, who, size, key, lambda value: _cursor("certificate", value)
            )
        )

    @strawberry.field(description="A queue or register as it stood on asOf.")
    async def register(
        self,
        info: Info,
        kind: Annotated[RegisterKind, strawberry.argument(description="Which register.")],
        as_of: AsOfDay,
        team: Team = None,
        open_only: OpenOnly = True,
        first: First = 50,
    ) -> list[RegisterItem]:
        who = info.context.who()
        service = info.context.service
        size = _bounded(first)

        def read() -> list[RegisterItem]:
            service.open_reports(who, team)
            rows = compliance_model.register_items(
                service.engine,
                who.authority_code,
                kind.value,
                as_of=as_of,
                open_only=open_only,
                team=team,
                limit=size,
            )
            return [
                RegisterItem(
                    subject_kind=r.subject_kind,
                    local_id=r.local_id,
                    team=r.team,
                    item_id=r.item_id,
                    owner=r.owner,
                    opened_on=r.opened_on,
                    due_on=r.due_on,
                    closed_on=r.closed_on,
                    rule_id=r.rule_id,
                    age_days=r.age_days,
                    overdue_days=r.overdue_days,
                    detail=JSON(dict(r.detail)),
                )
                for r in rows
            ]

        return await _run(read)


POLL_SECONDS = 0.5


@strawberry.type(description="A subject whose compliance changed: recomputed from new events.")
class ComplianceChange:
    subject_kind: str = strawberry.field(description="worker or child.")
    local_id: str = strawberry.field(description="The worker's or child's id.")
    team: str | None = strawberry.field(description="Their team.")
    through_position: strawberry.ID = strawberry.field(
        description="The last event the new findings rest on."
    )
    overdue: int = strawberry.field(description="Findings overdue on the day of the change.")
    due_soon: int = strawberry.field(description="Findings due soon on that day.")


@strawberry.type(description="Live updates (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="A subject's audit trail: the entries after `after`, then each new "
        "one as it is recorded. Opening it is a read of the record (logged)."
    )
    async def audit_trail(
        self,
        info: Info,
        child_id: Annotated[
            str | None, strawberry.argument(description="The child (or give staffId).")
        ] = None,
        staff_id: Annotated[
            str | None, strawberry.argument(description="The worker (or give childId).")
        ] = None,
        after: After = None,
        purpose: Annotated[str, strawberry.argument(description=PURPOSE)] = "live view",
    ) -> AsyncGenerator[AuditEntry, None]:
        who = info.context.who()
        service = info.context.service
        if (child_id is None) == (staff_id is None):
            raise client_error("give exactly one of childId or staffId", INPUT, field="childId")
        kind, local_id = ("child", child_id) if child_id else ("worker", staff_id)
        assert local_id is not None

        def open_record() -> None:
            if kind == "child":
                service.open_child(who, local_id, what="audit trail (live)", purpose=purpose)
            else:
                service.open_worker(who, local_id, what="audit trail (live)", purpose=purpose)

        await _run(open_record)
        cursor = after

        def page_after(position: str | None) -> Any:
            return subject_trail(
                service.engine,
                authority_code=who.authority_code,
                subject_kind=kind,
                local_id=local_id,
                first=MAX_PAGE,
                after=position,
            )

        while True:
            page = await _run(functools.partial(page_after, cursor))
            for edge in _trail_page(page).edges:
                cursor = edge.cursor
                yield edge.node
            if page.next_cursor is None:
                await asyncio.sleep(POLL_SECONDS)

    @strawberry.subscription(
        description="Compliance changes for a team: each subject as it is recomputed."
    )
    async def compliance_changes(
        self,
        info: Info,
        team: Annotated[str, strawberry.argument(description="The team to watch.")],
        as_of: Annotated[
            date | None, strawberry.argument(description="Day to count findings on (today).")
        ] = None,
    ) -> AsyncGenerator[ComplianceChange, None]:
        who = info.context.who()
        service = info.context.service
        await _run(lambda: service.open_reports(who, team))
        seen: dict[str, int] = await _run(
            lambda: compliance_model.team_positions(service.engine, who.authority_code, team)
        )
        while True:
            current = await _run(
                lambda: compliance_model.team_positions(service.engine, who.authority_code, team)
            )
            changed = [s for s, position in current.items() if seen.get(s, -1) < position]
            day = as_of or datetime.now(UTC).date()
            for subject_id in sorted(changed, key=lambda s: current[s]):
                found = await _run(
                    functools.partial(
                        compliance_model.evaluate,
                        service.engine,
                        service.library,
                        subject_id,
                        as_of=day,
                    )
                )
                seen[subject_id] = current[subject_id]
                if found is None:
                    continue
                statuses = [f.status.value for f in found.findings]
                yield ComplianceChange(
                    subject_kind=found.profile.subject,
                    local_id=found.profile.local_id,
                    team=found.profile.team,
                    through_position=strawberry.ID(str(current[subject_id])),
                    overdue=statuses.count("overdue"),
                    due_soon=statuses.count("due_soon"),
                )
            await asyncio.sleep(POLL_SECONDS)


def _wait(service: Service, position: strawberry.ID | None) -> None:
    if position is None:
        return
    try:
        wanted = int(position)
        if len(position) > 19:
            raise ValueError(position)
    except ValueError:
        raise client_error(
            "consistentWith is a position a mutation returned", INPUT, field="consistentWith"
        ) from None
    service.consistent_with(wanted)


# -- mutations ------------------------------------------------------------------------------------


def _result(error: DomainError) -> Any:
    if isinstance(error, Forbidden):
        return ForbiddenProblem(message=error.message, rule=error.rule)
    if isinstance(error, NotFound):
        return NotFoundProblem(message=error.message, field=error.field and camel(error.field))
    if isinstance(error, ConcurrencyConflict | IdempotencyKeyReused):
        return ConflictProblem(message=error.message, retryable=error.retryable)
    if isinstance(error, RuleViolation):
        return RuleViolationProblem(
            message=error.message, field=error.field and camel(error.field), rule=error.rule
        )
    return ValidationProblem(
        message=error.message, field=error.field and camel(error.field), rule=error.rule
    )


def _resolver(mutation: GeneratedMutation) -> Any:
    async def resolve(
        info: Info, input: Any, idempotency_key: str, occurred_at: datetime | None = None
    ) -> Any:
        who = info.context.who()
        service = info.context.service
        when = occurred_at or datetime.now(UTC)

        def run() -> Any:
            # The command is built as given (building it checks nothing) and authorised on
            # every subject it names before any check of its input: no field's rule may
            # answer for a subject the caller may not see (issue 23).
            try:
                command = mutation.command(
                    command_id=idempotency_key,
                    actor=service.actor(who),
                    occurred_at=when,
                    **mutation.convert(input),
                )
                # A purge is the purge use case's: redacted, compacted, certified.
                execute = (
                    functools.partial(purge_api.purge_record, service)
                    if isinstance(command, c.PurgeRecord)
                    else service.execute
                )
                done = execute(who, command, checks=lambda: _instant(occurred_at, "occurredAt"))
            except DomainError as error:
                return _result(error)
            except DataError:
                return ValidationProblem(
                    message="a value cannot be stored (does it contain a NUL character?)",
                    field=None,
                    rule=None,
                )
            except Exception as error:
                unavailable.reraise(error)
            return CommandSuccess(
                idempotency_key=done.command_id,
                position=strawberry.ID(str(done.position)) if done.position else None,
                replayed=done.replayed,
            )

        return await asyncio.to_thread(run)

    resolve.__annotations__ = {
        "info": Info,
        "input": Annotated[mutation.input_type, strawberry.argument(description="What happened.")],
        "idempotency_key": Annotated[
            str,
            strawberry.argument(
                description="Unique per command: a retry with the same key returns the "
                "first result and writes nothing again."
            ),
        ],
        "occurred_at": Annotated[
            datetime | None,
            strawberry.argument(description="Valid time: when it happened (default: now)."),
        ],
        "return": CommandResult,
    }
    return strawberry.mutation(
        resolver=resolve,
        name=mutation.field_name,
        description=mutation.input_type.__doc__ or mutation.field_name,
    )


async def _purge_due_records(
    info: Info,
    as_of: Annotated[date, strawberry.argument(description="Destroy what is due by this day.")],
    dry_run: Annotated[
        bool, strawberry.argument(description="List what would be destroyed; destroy nothing.")
    ],
) -> PurgeRunResult:
    """Destroy every record due by asOf that no legal hold covers; the data protection
    officer's alone (ADR 0012). Each is checked again from the event store; a dry run
    stops there and lists exactly those a real run would destroy."""
    who = info.context.who()
    service = info.context.service

    def run() -> PurgeRunResult:
        done = purge_api.purge_due(service, who, as_of, dry_run)
        return PurgeRunResult(
            as_of=as_of,
            dry_run=dry_run,
            destroyed=[_entry(o.row, as_of) for o in done.destroyed],
            refused=[
                ValidationProblem(
                    message=f"{o.row.record_class} {o.row.record_id}: {o.refused}",
                    field=None,
                    rule=o.row.rule_id,
                )
                for o in done.outcomes
                if not o.destroyed
            ],
        )

    return await _run(run)


def _mutation_type() -> type:
    fields = {m.field_name: _resolver(m) for m in generated(INTERNAL_COMMANDS)}
    fields["purge_due_records"] = strawberry.mutation(
        resolver=_purge_due_records, description=_purge_due_records.__doc__
    )
    namespace: dict[str, Any] = {"__doc__": "Record what happened: one mutation per command."}
    namespace.update(fields)
    return strawberry.type(type("Mutation", (), namespace), description=namespace["__doc__"])


Mutation = _mutation_type()


def build_schema(extensions: list[Any] | None = None) -> strawberry.Schema:
    return OversightSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Child, Worker],
        extensions=extensions or [],
    )


_ = c  # the commands are the source of the mutations
