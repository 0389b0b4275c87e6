"""The Query root: read the records the caller may see (ADR 0011).

Each resolver reads its arguments, asks the service (authorisation and the access log
are the service's) or a read model, and turns rows into types; it runs the synchronous
service in a worker thread (``run_in_thread``), where domain errors become typed errors.
"""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import select

from domain.authorization import ChildRelations, Principal, WorkerRelations
from domain.policy.calendar import Period
from graphql_api import purge as purge_api
from graphql_api.context import (
    PURPOSE,
    After,
    AsOfDay,
    Before,
    ChildId,
    ConsistentWith,
    First,
    Info,
    KnownAt,
    Last,
    OpenOnly,
    Since,
    StaffId,
    Team,
    bounded,
    global_id,
    page,
)
from graphql_api.errors import INPUT, client_error, run_in_thread
from graphql_api.exports import ExportQueries, decision_node
from graphql_api.relay import (
    Cursors,
    Key,
    ListSource,
    NodeReader,
    PageArgs,
    Paged,
    SqlSource,
    no_such_record,
    paginate,
    position_in,
    read_node,
)
from graphql_api.service import Service
from graphql_api.types import (
    Case,
    CaseConnection,
    CaseEdge,
    Child,
    ComplianceSummary,
    Node,
    PurgeSchedule,
    RegisterItem,
    RegisterKind,
    StaffConnection,
    StaffEdge,
    StaffMember,
    Viewer,
    Worker,
    register_item,
    schedule_entry,
    summary_rows,
)
from graphql_api.types import viewer as viewer_types
from graphql_api.types.common import page_info
from graphql_api.types.enums import Role_, member
from graphql_api.types.quality import (
    AuditQuotaWindow,
    QualityAudit,
    audit_quota_window,
    quality_audit,
)
from graphql_api.types.records import (
    AuditEntry,
    Instants,
    SubjectState,
    asked_state,
    audit_entry,
    fetch_state,
    state_from,
)
from graphql_api.types.register_connection import RegisterItemConnection, RegisterItemEdge
from graphql_api.types.teams import TeamCompliance, team_compliance_of
from projections import compliance as compliance_model
from projections import purge_schedule as purge_model
from projections.audit_trail import encode_cursor, subject_trail

#: A register is read whole to be paged (its open items on a day: a queue, not a log).
REGISTER_READ = 1_000_000
#: The most ids one ``nodes`` reads: each record among them is an authorised, logged read.
MAX_NODES = 100


def _schedule_key(row: purge_model.ScheduleRow) -> Key:
    """A record's place on the purge schedule: due date (none last), then the record."""
    due = row.due_on.isoformat() if row.due_on is not None else ""
    return (
        int(row.due_on is None),
        due,
        row.subject_kind,
        row.local_id,
        row.record_class,
        row.record_id,
    )


def _register_key(row: compliance_model.RegisterRow) -> Key:
    """An item's place in its register: due date (none last), opened, then the item."""
    due = row.due_on.isoformat() if row.due_on is not None else ""
    return (int(row.due_on is None), due, row.opened_on.isoformat(), row.item_id, row.subject_id)


def _wait(service: Service, position: strawberry.ID | None) -> None:
    """Read-your-writes: wait until the read models hold the position a mutation gave."""
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


async def _open_child(
    info: Info, child_id: str, purpose: str, consistent_with: strawberry.ID | None = None
) -> Child:
    who, found, read_beside = await _open_record(info, "child", child_id, purpose, consistent_with)
    assert isinstance(found, ChildRelations)
    return Child(
        id=global_id("Child", who.authority_code, child_id),
        kind="child",
        local_id=child_id,
        child_id=child_id,
        team=found.team,
        allocated_worker=found.allocated_worker,
        purpose=purpose,
        authority=who.authority_code,
        read_beside=read_beside,
    )


async def _open_worker(
    info: Info, staff_id: str, purpose: str, consistent_with: strawberry.ID | None = None
) -> Worker:
    who, found, read_beside = await _open_record(info, "worker", staff_id, purpose, consistent_with)
    return Worker(
        id=global_id("Worker", who.authority_code, staff_id),
        kind="worker",
        local_id=staff_id,
        staff_id=staff_id,
        team=found.team,
        purpose=purpose,
        authority=who.authority_code,
        read_beside=read_beside,
    )


async def _open_record(
    info: Info,
    kind: str,
    local_id: str,
    purpose: str,
    consistent_with: strawberry.ID | None,
) -> tuple[Principal, ChildRelations | WorkerRelations, dict[Instants, SubjectState] | None]:
    """A child's record or a worker's file, authorised, then its read logged, and the one
    ``state`` the request asks of it read meanwhile (ADR 0035, ADR 0036): who asks, the
    subject's relations, the state read beside the log (None when the request asks for
    no state, for more than one, or the read failed: the ``state`` field then reads for
    itself and answers its own error).

    One job in a worker thread authorises, then writes the log entry. The moment the
    caller is authorised, it hands the state's query to another thread (``BESIDE``);
    once the log entry is committed, it decodes and folds the rows that query fetched.
    The query waits on the database while the log does; the decoding, which is Python's
    work, waits for the log rather than take the interpreter from it. Nothing is read
    for a caller who may not read the record, and this returns once the log entry is
    committed, raising what writing it raised: nothing of the record is returned unless
    its read is logged."""
    who = info.context.who()
    service = info.context.service
    asked = asked_state(info)
    subject = {"child_id": local_id} if kind == "child" else {"staff_id": local_id}
    what = "child record" if kind == "child" else "personal file"

    def open_and_log() -> tuple[ChildRelations | WorkerRelations, SubjectState | None]:
        _wait(service, consistent_with)
        found: ChildRelations | WorkerRelations = (
            service.authorise_child(who, local_id)
            if kind == "child"
            else service.authorise_worker(who, local_id, purpose)
        )
        fetching = None
        if asked is not None:
            engine, authority = service.engine, who.authority_code
            try:
                fetching = BESIDE.submit(
                    contextvars.copy_context().run,
                    lambda: fetch_state(engine, kind, authority, local_id),
                )
            except RuntimeError:  # the pool is shut (the process is ending): the field reads
                fetching = None
        service.log_read(who, what=what, purpose=purpose, **subject)
        if fetching is None or asked is None:
            return found, None
        try:
            return found, state_from(kind, fetching.result(), asked)
        except Exception:  # the state field reads again, and answers its own error
            return found, None

    found, state = await run_in_thread(open_and_log)
    return who, found, None if state is None or asked is None else {asked: state}


#: The threads that fetch a record's state while its read is being logged (ADRs 0035 and
#: 0036): as many as asyncio's default pool, in which the log is written.
BESIDE = ThreadPoolExecutor(
    max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="graphql-read-beside"
)


def _list_source(service: Service, authority: str, kind: str, team: str | None) -> SqlSource:
    """The authority's (or a team's) children or workers, as the compliance read model
    holds them, keyed by local id; for a worker, ``allocated_worker`` is their manager."""
    subject = compliance_model.view("compliance_subject")
    holder = subject.c.worker_id if kind == "child" else subject.c.manager_id
    query = select(subject.c.subject_id, subject.c.local_id, subject.c.team, holder).where(
        subject.c.authority_code == authority, subject.c.subject_kind == kind
    )
    if team is not None:
        query = query.where(subject.c.team == team)
    return SqlSource(service.engine, query, [subject.c.local_id], lambda r: (str(r[1]),))


def _case_row(row: Any) -> compliance_model.CaseRow:
    return compliance_model.CaseRow(str(row[0]), str(row[1]), row[2], row[3])


async def _list_page(
    info: Info, kind: str, name: str, as_of: date, team: str | None, asked: PageArgs
) -> Paged[compliance_model.CaseRow]:
    """A page of the authority's children or workers (an authority report: managers and
    quality assurance)."""
    who = info.context.who()
    service = info.context.service
    cursors = Cursors(name, {"asOf": as_of, "team": team})

    def read() -> Paged[compliance_model.CaseRow]:
        service.open_reports(who, team)
        source = _list_source(service, who.authority_code, kind, team)
        found = paginate(source, asked, cursors)
        rows = [(c, _case_row(r)) for c, r in found.items]
        return Paged(rows, found.has_next_page, found.has_previous_page, found.total_count)

    return await run_in_thread(read)


def _case(authority: str, row: compliance_model.CaseRow, as_of: date) -> Case:
    return Case(
        id=global_id("Case", authority, row.local_id),
        child_id=row.local_id,
        team=row.team,
        allocated_worker=row.allocated_worker,
        subject=row.subject_id,
        as_of=as_of,
    )


def _staff_member(authority: str, row: compliance_model.CaseRow, as_of: date) -> StaffMember:
    return StaffMember(
        id=global_id("StaffMember", authority, row.local_id),
        staff_id=row.local_id,
        team=row.team,
        line_manager=row.allocated_worker,
        subject=row.subject_id,
        as_of=as_of,
    )


async def _listed(info: Info, kind: str, local_id: str) -> tuple[compliance_model.CaseRow, date]:
    """A child or worker of a manager's list by its id, read as the list is: an authority
    report, for the team it is in. One the caller may not list answers as the list does
    (FORBIDDEN), whether it is there or not; one not there to a reader of every team, as
    missing. Its open work is given for today."""
    who = info.context.who()
    service = info.context.service

    def read() -> tuple[compliance_model.CaseRow, date]:
        source = _list_source(service, who.authority_code, kind, None)
        found = source.fetch((local_id,), (local_id,), 1, inclusive=True)
        row = _case_row(found[0][1]) if found else None
        listed = _report_item(service, who, row, row.team if row is not None else None)
        return listed, service.clock().date()

    return await run_in_thread(read)


async def _case_node(info: Info, local_id: str, purpose: str) -> Case:
    row, day = await _listed(info, "child", local_id)
    return _case(info.context.who().authority_code, row, day)


async def _staff_node(info: Info, local_id: str, purpose: str) -> StaffMember:
    row, day = await _listed(info, "worker", local_id)
    return _staff_member(info.context.who().authority_code, row, day)


async def _certificate_node(info: Info, local_id: str, purpose: str) -> Any:
    who = info.context.who()
    service = info.context.service
    return await run_in_thread(lambda: purge_api.certificate(service, who, local_id))


T = TypeVar("T")


def _report_item(service: Service, who: Principal, found: T | None, team: str | None) -> T:
    """An item of an authority report read by its id, authorised as the report is (a
    team manager, their own team's): one the caller may not read is refused as the
    report would be (FORBIDDEN), whether it is there or not; then one not there is
    missing."""
    service.open_reports(who, team if found is not None else None)
    if found is None:
        raise no_such_record()
    return found


async def _audit_entry_node(info: Info, local: str, purpose: str) -> AuditEntry:
    """An entry of a child's or worker's trail, read as the trail is: the record opened
    (authorised, and logged with the purpose), then the entry at its log position."""
    kind, _, rest = local.partition("/")
    local_id, _, position_text = rest.rpartition("/")
    position = position_in(position_text)
    if kind not in ("child", "worker") or not local_id or position is None:
        raise no_such_record()
    who = info.context.who()
    service = info.context.service

    def read() -> AuditEntry:
        if kind == "child":
            service.open_child(who, local_id, what="audit trail entry", purpose=purpose)
        else:
            service.open_worker(who, local_id, what="audit trail entry", purpose=purpose)
        found = subject_trail(
            service.engine,
            authority_code=who.authority_code,
            subject_kind=kind,
            local_id=local_id,
            first=1,
            after=encode_cursor(position - 1) if position > 0 else None,
        ).entries
        if not found or found[0].position != position:
            raise no_such_record()
        return audit_entry(who.authority_code, kind, local_id, found[0])

    return await run_in_thread(read)


async def _register_item_node(info: Info, local: str, purpose: str) -> RegisterItem:
    """An item of a queue or register as it stands today, read as the register is: an
    authority report (a team manager, their own team's). One the caller may not list
    answers as the register does (FORBIDDEN), whether it is there or not."""
    register, _, rest = local.partition("/")
    subject_id, _, item_id = rest.partition("/")
    who = info.context.who()
    service = info.context.service

    def read() -> RegisterItem:
        rows = (
            compliance_model.register_items(
                service.engine,
                who.authority_code,
                register,
                as_of=service.clock().date(),
                open_only=False,
                subject_id=subject_id,
                item_id=item_id,
                limit=1,
            )
            if register and subject_id and item_id
            else []
        )
        row = _report_item(service, who, rows[0] if rows else None, rows[0].team if rows else None)
        return register_item(who.authority_code, row)

    return await run_in_thread(read)


async def _quality_audit_node(info: Info, local: str, purpose: str) -> QualityAudit:
    """An audit by its id, read as qualityAudits reads it: an authority report (a team
    manager, their own team's); one the caller may not read answers FORBIDDEN, whether it
    is there or not."""
    kind, _, rest = local.partition("/")
    local_id, _, audit_id = rest.rpartition("/")
    who = info.context.who()
    service = info.context.service

    def read() -> QualityAudit:
        rows = []
        if local_id and audit_id:
            with service.engine.connect() as conn:
                rows = [
                    r
                    for r in compliance_model.audit_rows(
                        conn,
                        service.library,
                        who.authority_code,
                        start=date.min,
                        end=date.max,
                        local_id=local_id,
                    )
                    if r.subject_kind == kind and r.audit_id == audit_id
                ]
        row = _report_item(service, who, rows[0] if rows else None, rows[0].team if rows else None)
        return quality_audit(who.authority_code, row)

    return await run_in_thread(read)


#: How ``node`` and ``nodes`` read each kind of global id again: the same read as the
#: field that gives it (a record's is authorised and logged; a list item's is the list's).
NODE_READERS: dict[str, NodeReader] = {
    "Child": lambda info, local_id, purpose: _open_child(info, local_id, purpose),
    "Worker": lambda info, local_id, purpose: _open_worker(info, local_id, purpose),
    "Case": _case_node,
    "StaffMember": _staff_node,
    "PurgeCertificate": _certificate_node,
    "AuditEntry": _audit_entry_node,
    "RegisterItem": _register_item_node,
    "Decision": decision_node,
    "QualityAudit": _quality_audit_node,
    "AllocatedChild": viewer_types.allocated_child,
    "Supervisee": viewer_types.supervisee,
}

NodePurpose = Annotated[
    str,
    strawberry.argument(
        description=PURPOSE + " Used for the records among the ids (a child or a worker)."
    ),
]


@strawberry.type(description="Read the records the caller may see.")
class Query(ExportQueries):
    @strawberry.field(
        description="The authority's workers (or one team's), for managers and quality "
        "assurance: team, line manager and open obligations on asOf."
    )
    async def workers(
        self,
        info: Info,
        as_of: AsOfDay,
        team: Team = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> StaffConnection:
        asked = page(first, after, last, before)
        found = await _list_page(info, "worker", "workers", as_of, team, asked)
        authority = info.context.who().authority_code
        return StaffConnection(
            edges=[
                StaffEdge(cursor=c, node=_staff_member(authority, r, as_of)) for c, r in found.items
            ],
            page_info=page_info(found),
            total_count=found.total_count,
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
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> CaseConnection:
        asked = page(first, after, last, before)
        found = await _list_page(info, "child", "cases", as_of, team, asked)
        authority = info.context.who().authority_code
        return CaseConnection(
            edges=[CaseEdge(cursor=c, node=_case(authority, r, as_of)) for c, r in found.items],
            page_info=page_info(found),
            total_count=found.total_count,
        )

    @strawberry.field(
        description="A child or worker by global id (Relay): the same read, authorised and "
        "logged, as child or worker."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global id, as read from an object's id field."),
        ],
        purpose: NodePurpose = "case work",
    ) -> Node | None:
        return await read_node(info, str(id), purpose, NODE_READERS)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Several nodes by global id (Relay), in the order asked: each read as "
        "node(id:) reads it (records authorised and logged one by one). An id the caller "
        f"may not read, or of another authority, is null with its error at its index; at "
        f"most {MAX_NODES} ids."
    )
    def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description=f"Global ids, as read from objects' id fields: 1 to {MAX_NODES} "
                "of them, "
                "each answered in order (null with an error where not readable)."
            ),
        ],
        purpose: NodePurpose = "case work",
    ) -> list[Node | None]:
        if not 1 <= len(ids) <= MAX_NODES:
            raise client_error(f"give 1 to {MAX_NODES} ids", INPUT, field="ids")
        if any(len(given) > 512 for given in ids):
            raise client_error("not an id this API issued", INPUT, field="ids")
        # graphql-core awaits each item on its own: a refused id is null, with its error
        # at its own index, and the others are read.
        reads: list[Any] = [
            read_node(info, str(given), purpose, NODE_READERS, field="ids") for given in ids
        ]
        return reads

    @strawberry.field(
        description="The signed-in caller, read from their token: their authority, person, "
        "teams, line manager, caseload and supervisees (it opens no record: nothing is logged)."
    )
    def viewer(self, info: Info) -> Viewer:
        who = info.context.who()
        return Viewer(
            staff_id=who.staff_id, role=member(Role_, who.role), authority=who.authority_code
        )

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
                by_rule=summary_rows(result.by_rule()),
                by_team=summary_rows(result.by_team()),
            )

        return await run_in_thread(read)

    @strawberry.field(
        description="Teams' compliance with their authority's team rules [DEV-7, POR-3.3]: "
        "each window open in [since, asOf], whether a session met it, and the sessions held "
        "in it (ADR 0024)."
    )
    async def team_compliance(
        self,
        info: Info,
        as_of: AsOfDay,
        since: Since = None,
        team: Team = None,
        known_at: KnownAt = None,
    ) -> TeamCompliance:
        who = info.context.who()
        service = info.context.service

        def read() -> TeamCompliance:
            service.open_reports(who, team)
            with service.engine.connect() as conn:
                result = compliance_model.team_compliance(
                    conn,
                    service.library,
                    who.authority_code,
                    as_of=as_of,
                    since=since,
                    team=team,
                    known_at=known_at,
                )
            return team_compliance_of(result)

        return await run_in_thread(read)

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
            date | None,
            strawberry.argument(
                description="Only records falling due for destruction on or after this day."
            ),
        ] = None,
        due_to: Annotated[
            date | None,
            strawberry.argument(
                description="Only records falling due for destruction on or before this day."
            ),
        ] = None,
        months: Annotated[
            int | None, strawberry.argument(description="Due within this many months of asOf.")
        ] = None,
        record_class: Annotated[
            str | None, strawberry.argument(description="Only this record class.")
        ] = None,
        include_purged: Annotated[
            bool, strawberry.argument(description="Destroyed records' tombstones too.")
        ] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PurgeSchedule:
        who = info.context.who()
        service = info.context.service
        asked = page(first, after, last, before)
        cursors = Cursors(
            "purgeSchedule",
            {
                "asOf": as_of,
                "dueFrom": due_from,
                "dueTo": due_to,
                "months": months,
                "recordClass": record_class,
                "includePurged": include_purged,
            },
        )
        day = as_of or datetime.now(UTC).date()
        if months is not None and not 1 <= months <= 1200:
            raise client_error("months must be between 1 and 1200", INPUT, field="months")
        until = Period.parse(f"P{months}M").after(day) if months is not None else due_to

        def read() -> PurgeSchedule:
            service.open_purge_schedule(who)
            rows = purge_model.purge_schedule(
                service.engine,
                authority_code=who.authority_code,
                due_from=due_from,
                due_to=until,
                record_class=record_class,
                include_purged=include_purged,
            )
            found = paginate(ListSource(rows, _schedule_key), asked, cursors)
            chosen = [r for _, r in found.items]
            return PurgeSchedule(
                as_of=day,
                entries=[schedule_entry(r, day) for r in chosen],
                csv=purge_model.schedule_csv(chosen, day),
                end_cursor=found.end_cursor if found.has_next_page else None,
                page_info=page_info(found),
                total_count=found.total_count,
            )

        return await run_in_thread(read)

    @strawberry.field(
        description="Purge certificates, in the order issued: each destroyed record, the rule "
        "cited, the checks made, the counts, and who ran the purge (ADR 0018). No personal "
        "data. For the data protection officer and quality assurance."
    )
    async def purge_certificates(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> purge_api.PurgeCertificateConnection:
        who = info.context.who()
        service = info.context.service
        asked = page(first, after, last, before)
        return await run_in_thread(lambda: purge_api.certificate_page(service, who, asked))

    @strawberry.field(
        description="A queue or register as it stood on asOf.",
        deprecation_reason="registerItems pages it with cursors, totalCount and last/before.",
    )
    async def register(
        self,
        info: Info,
        kind: Annotated[
            RegisterKind,
            strawberry.argument(
                description="Which queue or register to read (triggers, actions...)."
            ),
        ],
        as_of: AsOfDay,
        team: Team = None,
        open_only: OpenOnly = True,
        first: Annotated[
            int, strawberry.argument(description="At most this many items, oldest due first.")
        ] = 50,
    ) -> list[RegisterItem]:
        who = info.context.who()
        service = info.context.service
        size = bounded(first)

        def read() -> list[RegisterItem]:
            service.open_reports(who, team)
            rows = compliance_model.register_items(
                service.engine,
                who.authority_code,
                str(kind.value),
                as_of=as_of,
                open_only=open_only,
                team=team,
                limit=size,
            )
            return [register_item(who.authority_code, r) for r in rows]

        return await run_in_thread(read)

    @strawberry.field(
        description="A queue or register as it stood on asOf, oldest due first (items with "
        "no due date last), as a Relay connection: the oversight triggers, actions, "
        "sign-offs or disagreements a manager works from, for managers and quality "
        "assurance (an authority report; a team manager, their own team's)."
    )
    async def register_items(
        self,
        info: Info,
        kind: Annotated[
            RegisterKind,
            strawberry.argument(
                description="Which queue or register to read: triggers, actions, sign-offs "
                "or disagreements."
            ),
        ],
        as_of: AsOfDay,
        team: Team = None,
        open_only: OpenOnly = True,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> RegisterItemConnection:
        who = info.context.who()
        service = info.context.service
        asked = page(first, after, last, before)
        cursors = Cursors(
            "registerItems",
            {"kind": kind, "asOf": as_of, "team": team, "openOnly": open_only},
        )

        def read() -> RegisterItemConnection:
            service.open_reports(who, team)
            rows = compliance_model.register_items(
                service.engine,
                who.authority_code,
                str(kind.value),
                as_of=as_of,
                open_only=open_only,
                team=team,
                limit=REGISTER_READ,
            )
            found = paginate(ListSource(rows, _register_key), asked, cursors)
            return RegisterItemConnection(
                edges=[
                    RegisterItemEdge(cursor=c, node=register_item(who.authority_code, r))
                    for c, r in found.items
                ],
                page_info=page_info(found),
                total_count=found.total_count,
            )

        return await run_in_thread(read)

    @strawberry.field(
        description="Audits done from since to asOf, graded with the authority's own tool, "
        "with their disputes and moderation [SHR-5.8, POR-7, DUR-7] (ADR 0023)."
    )
    async def quality_audits(
        self,
        info: Info,
        as_of: AsOfDay,
        since: Since = None,
        team: Team = None,
        auditor_id: Annotated[
            str | None, strawberry.argument(description="Only this auditor's audits.")
        ] = None,
    ) -> list[QualityAudit]:
        who = info.context.who()
        service = info.context.service
        start = since or Period.parse("P1Y").before(as_of)

        def read() -> list[QualityAudit]:
            service.open_reports(who, team)
            with service.engine.connect() as conn:
                rows = compliance_model.audit_rows(
                    conn,
                    service.library,
                    who.authority_code,
                    start=start,
                    end=as_of,
                    auditor_id=auditor_id,
                )
            return [
                quality_audit(who.authority_code, r) for r in rows if team is None or r.team == team
            ]

        return await run_in_thread(read)

    @strawberry.field(
        description="Each auditor's audit quota per period overlapping since to asOf: due, "
        "done, and BREACHED when a period ended short [SHR-5.8, POR-7, DUR-7] (ADR 0023)."
    )
    async def audit_quotas(
        self,
        info: Info,
        as_of: AsOfDay,
        since: Since = None,
        auditor_id: Annotated[
            str | None, strawberry.argument(description="Only this auditor's quotas.")
        ] = None,
    ) -> list[AuditQuotaWindow]:
        who = info.context.who()
        service = info.context.service
        start = since or Period.parse("P1Y").before(as_of)

        def read() -> list[AuditQuotaWindow]:
            service.open_reports(who, None)
            windows = compliance_model.quotas_for(
                service.engine,
                service.library,
                who.authority_code,
                start=start,
                end=as_of,
                auditor_id=auditor_id,
            )
            due_soon = compliance_model.due_soon_of(
                service.engine, service.library, who.authority_code
            )
            return [audit_quota_window(w, as_of, due_soon) for w in windows]

        return await run_in_thread(read)
