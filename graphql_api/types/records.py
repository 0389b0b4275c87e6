"""A child's or worker's record as the caller may see it: its state at two times, its
audit trail, its findings and the checkpoint that covers its history. Every read of a
record is authorised and logged before the record is returned (the queries open it)."""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import Engine
from strawberry.types.nodes import SelectedField

from domain.errors import NotFound
from domain.identifiers import child_id, worker_id
from graphql_api import integrity as integrity_api
from graphql_api.context import (
    After,
    AsOfDay,
    AsOfTime,
    Before,
    First,
    Info,
    KnownAt,
    Last,
    instant,
    page,
)
from graphql_api.errors import run_in_thread
from graphql_api.relay import PageArgs, Paged, global_id
from graphql_api.trail import read_trail
from graphql_api.types.citations import RuleCitation, adopted_pack, citations
from graphql_api.types.common import Node, PageInfo, page_info
from graphql_api.types.compliance import Compliance, compliance_of
from graphql_api.types.entries import Entry, SubjectAttributes, attributes_of, entries_of
from graphql_api.types.enums import AuditEntryKind, member, member_or_none
from graphql_api.types.enums import Role_ as Role
from graphql_api.types.events import WITH_ITS_ROW, Event, history_events
from projections import compliance as compliance_model
from projections import history as history_model

Kinds = Annotated[
    list[AuditEntryKind] | None,  # type: ignore[valid-type]
    strawberry.argument(
        description="Only entries of these kinds (supervision, oversight, access, ...); the "
        "cursors of a trail asked with kinds are that filtered list's only."
    ),
]


@strawberry.type(
    description="A subject as of a valid time (asOf), as known at a system time (knownAt): "
    "the one fold of its events (domain/policy/timeline.py, ADR 0007)."
)
class SubjectState:
    attributes: SubjectAttributes = strawberry.field(
        description="The worker's or child's attributes, each the latest by valid time."
    )
    entries: list[Entry] = strawberry.field(
        description="Every entry (sessions, records, triggers, plans...) by kind, its "
        "corrections applied, in the order first recorded."
    )
    events: list[Event] = strawberry.field(
        description="The events the answer rests on, each typed by its kind, in valid-time order."
    )


@strawberry.type(
    description="One entry of a subject's audit trail: what happened, who recorded it in "
    "which role, and the clauses of the authority's pack it concerns."
)
class AuditEntry(Node):
    position: strawberry.ID = strawberry.field(
        description="Its position in the event log (a cursor's key, and a finding's evidence)."
    )
    kind: AuditEntryKind = strawberry.field(  # type: ignore[valid-type]
        description="The heading it is filed under (supervision, access, oversight...)."
    )
    summary: str = strawberry.field(description="What happened, in plain words.")
    occurred_at: datetime = strawberry.field(
        description="Valid time: when it happened in the world."
    )
    recorded_at: datetime = strawberry.field(
        description="System time: when it was written to the event log."
    )
    actor_id: str = strawberry.field(
        description="The staff id of whoever recorded it (from their token)."
    )
    actor_role: Role | None = strawberry.field(  # type: ignore[valid-type]
        description="The capacity they recorded it in, from their token and relationship; "
        "null on the line a purge leaves, which keeps no actor's role."
    )
    related: list[strawberry.ID] = strawberry.field(
        description="Positions of linked entries (a trigger and its answer, say)."
    )
    cited: strawberry.Private[str | None]

    @strawberry.field(
        description="The clauses of the subject's authority's pack the entry concerns, "
        "each with its words and source; empty when the pack cites none for it.",
        metadata=WITH_ITS_ROW,  # one read of the pack per request
    )
    async def rule_ids(self, info: Info) -> list[RuleCitation]:
        if not self.cited:
            return []
        library = info.context.service.library
        pack_id = await adopted_pack(info)
        return citations(library, pack_id, self.cited)


@strawberry.type(
    description="An entry of a subject's audit trail with its cursor: a page's edge, and "
    "each payload of the auditTrail subscription."
)
class AuditEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this entry, or as "
        "after to resume the auditTrail subscription with no gap and no repeat; only this "
        "subject's trail (with the same kinds) accepts it."
    )
    node: AuditEntry = strawberry.field(description="The audit trail entry.")


@strawberry.type(
    description="A page of a subject's audit trail, oldest first: Relay keyset pagination "
    "on log position, forwards or backwards."
)
class AuditConnection:
    edges: list[AuditEdge] = strawberry.field(
        description="This page's entries, oldest first, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are entries before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many entries the whole trail holds (of the kinds asked), as read now."
    )


def audit_entry_id(authority: str, kind: str, local_id: str, position: int) -> strawberry.ID:
    """An audit trail entry's global id: its subject and its log position."""
    return global_id("AuditEntry", authority, f"{kind}/{local_id}/{position}")


def audit_entry(authority: str, kind: str, local_id: str, e: Any) -> AuditEntry:
    """An entry of a subject's trail (the read model's row) as the API gives it."""
    return AuditEntry(
        id=audit_entry_id(authority, kind, local_id, e.position),
        position=strawberry.ID(str(e.position)),
        kind=member(AuditEntryKind, e.kind),
        summary=e.summary,
        occurred_at=e.occurred_at,
        recorded_at=e.recorded_at,
        actor_id=e.actor_id,
        actor_role=member_or_none(Role, e.actor_role),
        cited=e.rule_ids,
        related=[strawberry.ID(str(p)) for p in e.related],
    )


def trail_page(page: Paged[Any], authority: str, kind: str, local_id: str) -> AuditConnection:
    """A page of a subject's audit trail read model (``read_trail``) as a connection."""
    return AuditConnection(
        edges=[
            AuditEdge(cursor=cursor, node=audit_entry(authority, kind, local_id, e))
            for cursor, e in page.items
        ],
        page_info=page_info(page),
        total_count=page.total_count,
    )


#: The instants a state is read at: ``asOf`` (valid time) and ``knownAt`` (system time).
Instants = tuple[datetime | None, datetime | None]


@strawberry.interface(
    description="A child's or worker's record, as the caller may see it. Reading it is "
    "logged on its access log."
)
class SubjectRecord(Node):
    kind: strawberry.Private[str]  # child | worker
    local_id: strawberry.Private[str]
    purpose: strawberry.Private[str]
    authority: strawberry.Private[str]
    #: The state the request asked for, fetched while the read's access-log entry was
    #: being written and decoded once it was committed (``queries._open_record``, ADRs
    #: 0035 and 0036), by the instants it was read at.
    read_beside: strawberry.Private[dict[Instants, SubjectState] | None] = None

    @strawberry.field(description="State as of a valid time and as known at a system time.")
    async def state(
        self, info: Info, as_of: AsOfTime = None, known_at: KnownAt = None
    ) -> SubjectState:
        if self.read_beside:
            read = self.read_beside.get((instant(as_of, "asOf"), instant(known_at, "knownAt")))
            if read is not None:
                return read
        return await _state(info, self.kind, self.authority, self.local_id, as_of, known_at)

    @strawberry.field(description="The audit trail, oldest first.")
    async def audit_trail(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        kinds: Kinds = None,
        last: Last = None,
        before: Before = None,
    ) -> AuditConnection:
        asked = page(first, after, last, before)
        return await _trail(info, self.kind, self.local_id, asked, kinds)

    @strawberry.field(description="Findings under the authority's pack on asOf.")
    async def compliance(self, info: Info, as_of: AsOfDay, known_at: KnownAt = None) -> Compliance:
        return await _evaluate(info, self.kind, self.authority, self.local_id, as_of, known_at)

    @strawberry.field(
        description="The signed checkpoint of the event log that covers this record's "
        "stored history, to check offline with the public key "
        "(docs/verifying-a-history.md); null until one covers it."
    )
    async def integrity(self, info: Info) -> integrity_api.HistoryIntegrity | None:
        subject = subject_uuid(self.kind, self.authority, self.local_id)
        engine = info.context.service.engine
        return await run_in_thread(lambda: integrity_api.history_integrity(engine, subject))


@strawberry.type(description="A child's case, as the caller may see it. Reading it is logged.")
class Child(SubjectRecord):
    child_id: str = strawberry.field(description="The child's id in the authority.")
    team: str | None = strawberry.field(description="The team holding the case.")
    allocated_worker: str | None = strawberry.field(
        description="The staff id of the practitioner the case is allocated to."
    )


@strawberry.type(description="A worker's personal supervision file. Reading it is logged.")
class Worker(SubjectRecord):
    staff_id: str = strawberry.field(description="The worker's staff id.")
    team: str | None = strawberry.field(
        description="The team the worker belongs to, as their employment record says now."
    )


def subject_uuid(kind: str, authority: str, local_id: str) -> uuid.UUID:
    """The aggregate id of a child or worker named by their id in the authority."""
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
    valid, system = instant(as_of, "asOf"), instant(known_at, "knownAt")
    return await run_in_thread(
        lambda: read_state(engine, kind, authority, local_id, (valid, system))
    )


def read_state(
    engine: Engine, kind: str, authority: str, local_id: str, at: Instants
) -> SubjectState:
    """A subject's state and history at ``at``, from the history read model."""
    return state_from(kind, fetch_state(engine, kind, authority, local_id), at)


def fetch_state(engine: Engine, kind: str, authority: str, local_id: str) -> Sequence[Any]:
    """A subject's stored history rows, not yet decoded (``state_from`` reads them): the
    part of ``read_state`` that waits on the database."""
    return history_model.fetched(engine, subject_uuid(kind, authority, local_id))


def state_from(kind: str, stored: Sequence[Any], at: Instants) -> SubjectState:
    """A subject's state and history at ``at`` from its ``fetch_state`` rows: the part
    of ``read_state`` that is Python's work (decoding, the fold, the API's types)."""
    answer, rows = history_model.answer(history_model.decoded(stored), as_of=at[0], known_at=at[1])
    return SubjectState(
        attributes=attributes_of(kind, answer.attributes),
        entries=entries_of(answer.entries, rows),
        events=history_events(rows),
    )


def asked_state(info: Info) -> Instants | None:
    """The instants of the one ``state`` the request asks of the record this field opens
    (through fragments too), if it asks for exactly one and they are given as a request's
    variables or left out; else None (the ``state`` field then reads for itself)."""
    found: list[dict[str, Any]] = []

    def walk(selections: Sequence[Any]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == "state":
                    found.append(selection.arguments)
            else:  # a fragment, inline or named
                walk(selection.selections)

    for selected in info.selected_fields:
        walk(selected.selections)
    if len(found) != 1:
        return None
    as_of, known_at = found[0].get("asOf"), found[0].get("knownAt")
    if not all(value is None or isinstance(value, datetime) for value in (as_of, known_at)):
        return None  # a literal in the document: the field's own reading parses it
    try:
        return instant(as_of, "asOf"), instant(known_at, "knownAt")
    except GraphQLError:
        return None  # refused by the field itself, at its own path


async def _trail(
    info: Info, kind: str, local_id: str, asked: PageArgs, kinds: list[str] | None
) -> AuditConnection:
    principal = info.context.who()
    engine = info.context.service.engine

    def read() -> AuditConnection:
        authority = principal.authority_code
        return trail_page(
            read_trail(engine, authority, kind, local_id, asked, kinds or ()),
            authority,
            kind,
            local_id,
        )

    return await run_in_thread(read)


async def _evaluate(
    info: Info, kind: str, authority: str, local_id: str, as_of: date, known_at: datetime | None
) -> Compliance:
    service = info.context.service
    subject = str(subject_uuid(kind, authority, local_id))
    system = instant(known_at, "knownAt")

    def read() -> Compliance:
        result = compliance_model.evaluate(
            service.engine, service.library, subject, as_of=as_of, known_at=system
        )
        if result is None:
            raise NotFound("not known at that time", field="knownAt")
        return compliance_of(result)

    return await run_in_thread(read)
