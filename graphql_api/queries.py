"""The Query root: read the records the caller may see (ADR 0011).

Each resolver reads its arguments, asks the service (authorisation and the access log
are the service's) or a read model, and turns rows into types; it runs the synchronous
service in a worker thread (``run_in_thread``), where domain errors become typed errors.
"""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from domain.policy.calendar import Period
from graphql_api import purge as purge_api
from graphql_api.context import (
    PURPOSE,
    After,
    AsOfDay,
    ChildId,
    ConsistentWith,
    First,
    Info,
    KnownAt,
    OpenOnly,
    Since,
    StaffId,
    Team,
    bounded,
    cursor,
    cursor_value,
    global_id,
    parse_global_id,
)
from graphql_api.errors import INPUT, client_error, run_in_thread
from graphql_api.exports import ExportQueries
from graphql_api.service import Service
from graphql_api.types import (
    Case,
    CaseConnection,
    CaseEdge,
    Child,
    ComplianceSummary,
    Node,
    PageInfo,
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
from graphql_api.types.quality import (
    AuditQuotaWindow,
    QualityAudit,
    audit_quota_window,
    quality_audit,
)
from graphql_api.types.teams import TeamCompliance, team_compliance_of
from projections import compliance as compliance_model
from projections import purge_schedule as purge_model


def _case_cursor(local_id: str) -> str:
    return cursor("case", local_id)


def _case_after(given: str | None) -> str | None:
    return cursor_value("case", given)


def _offset(given: str | None) -> int:
    value = cursor_value("purge", given) or "0"
    if not value.isdigit():
        raise client_error("not a cursor this list issued", INPUT, field="after")
    return int(value)


def _purge_cursor(offset: int) -> str:
    return cursor("purge", str(offset))


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

    return await run_in_thread(read)


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

    return await run_in_thread(read)


async def _list_page(
    info: Info, kind: str, team: str | None, first: int, after: str | None
) -> tuple[list[compliance_model.CaseRow], bool]:
    """A page of the authority's children or workers (an authority report: managers and
    quality assurance), and whether there is more."""
    who = info.context.who()
    service = info.context.service
    size = bounded(first)
    start = _case_after(after)

    def read() -> list[compliance_model.CaseRow]:
        service.open_reports(who, team)
        return compliance_model.case_list(
            service.engine, who.authority_code, team=team, first=size + 1, after=start, kind=kind
        )

    rows = await run_in_thread(read)
    return rows[:size], len(rows) > size


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
        size = bounded(first)
        start = _offset(after)
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
                limit=start + size + 1,
            )
            page = rows[start : start + size]
            more = len(rows) > start + size
            return PurgeSchedule(
                as_of=day,
                entries=[schedule_entry(r, day) for r in page],
                csv=purge_model.schedule_csv(page, day),
                end_cursor=_purge_cursor(start + size) if more else None,
            )

        return await run_in_thread(read)

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
        size = bounded(first)
        given = cursor_value("certificate", after)

        def read() -> purge_api.PurgeCertificateConnection:
            # In the thread: a cursor it cannot read is a typed error, not an unexpected one.
            key = purge_api.certificate_key(given)
            return purge_api.certificate_page(
                service, who, size, key, lambda value: cursor("certificate", value)
            )

        return await run_in_thread(read)

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
        size = bounded(first)

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
            return [register_item(r) for r in rows]

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
            return [quality_audit(r) for r in rows if team is None or r.team == team]

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
