"""The signed-in caller (``viewer``): who they are, their authority, teams, line manager,
caseload and supervisees (issue 22, item 5).

Read from the token's staff id and authority, never from an argument: a token for someone
not registered as a worker here (an administrator, an external auditor) gets the token's
own fields and no person, teams, line manager, caseload or supervisees. The caseload lists
the children allocated to the caller (ids and case facts), not their files: no record is
opened, so nothing is written to an access log (``graphql_api.viewer``).
"""

# strawberry's field decorator is typed Any when given only a description (pyproject's
# override lists the other typed modules; this one says so inline).

from __future__ import annotations

from typing import Any

import strawberry

from application.relationships import Relationship, from_values
from domain.errors import DomainError
from domain.identifiers import worker_id
from graphql_api import viewer as viewer_model
from graphql_api.context import After, Before, First, Info, Last, page
from graphql_api.errors import client_error, run_in_thread
from graphql_api.relay import Cursors, Node, Paged, SqlSource, global_id, paginate
from graphql_api.types.common import PageInfo, page_info
from graphql_api.types.enums import Role_ as Role
from graphql_api.types.enums import member_or_none


def _text(attributes: dict[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return None if value is None else str(value)


@strawberry.type(description="The caller's local authority, as it registered.")
class LocalAuthority:
    code: str = strawberry.field(
        description="The local authority's code, as its tokens carry it and its records are keyed."
    )
    name: str = strawberry.field(
        description="The council's name as it was registered (e.g. Durham County Council)."
    )
    pack: str = strawberry.field(description="The policy pack it has adopted (its rules).")


@strawberry.type(description="The caller as their worker record names them.")
class ViewerPerson:
    display_name: str | None = strawberry.field(
        description="The caller's name as their worker record gives it."
    )
    post: Role | None = strawberry.field(  # type: ignore[valid-type]
        description="Their recorded role (social_worker, team_manager, ...): their post, "
        "which may differ from the role their token carries."
    )


@strawberry.type(description="A team the caller belongs to or manages.")
class ViewerTeam:
    name: str = strawberry.field(
        description="The team's name, as workers' records and the cases and registers' "
        "team filter give it."
    )
    member: bool = strawberry.field(description="True when it is the caller's own team.")
    manages: bool = strawberry.field(
        description="True when a worker the caller line manages is in it."
    )


@strawberry.type(description="The caller's line manager, as the caller's worker record names them.")
class ViewerLineManager:
    staff_id: str = strawberry.field(
        description="The line manager's staff id in the authority (who supervises the "
        "caller unless an agreement names another supervisor)."
    )
    display_name: str | None = strawberry.field(
        description="The line manager's name as their worker record gives it."
    )


@strawberry.type(
    description="A child allocated to the caller: the case facts, not the child's record "
    "(query child for that: it is a logged read). node(id:) gives it again while the "
    "child is still allocated to the caller."
)
class AllocatedChild(Node):
    child_id: str = strawberry.field(
        description="The child's id in the authority: pass to child(childId:) to open their "
        "record (a logged read)."
    )
    team: str | None = strawberry.field(description="The team holding the case.")
    case_type: str | None = strawberry.field(
        description="The case type (cin, cp, cla, care_leaver, ...)."
    )
    risk_level: str | None = strawberry.field(
        description="The risk level last recorded for the child: low, medium or high."
    )
    closed: str | None = strawberry.field(
        description=(
            "How the case left the allocated team, once it has (closed, transferred or "
            "stepped across to early help; DEV-6 (13)): null while the case is open. A "
            "closed case stays allocated until it is reallocated, so it is listed."
        )
    )


@strawberry.type(description="A child on the caller's caseload, with the cursor to page on.")
class CaseloadEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this child; only "
        "the caller's own caseload accepts it."
    )
    node: AllocatedChild = strawberry.field(
        description="The child allocated to the caller: the case facts."
    )


@strawberry.type(
    description="A page of the children allocated to the caller, by child id: Relay keyset "
    "pagination forwards or backwards."
)
class CaseloadConnection:
    edges: list[CaseloadEdge] = strawberry.field(
        description="This page's children, by child id, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are children before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many children are allocated to the caller (every page)."
    )


@strawberry.type(
    description="A worker the caller line manages. Not their personal file (query worker "
    "for that: it is a logged read). node(id:) gives it again while the caller still "
    "line manages them."
)
class Supervisee(Node):
    staff_id: str = strawberry.field(
        description="The supervisee's staff id in the authority: pass to worker(staffId:) "
        "to open their personal file (a logged read)."
    )
    display_name: str | None = strawberry.field(
        description="The supervisee's name as their worker record gives it."
    )
    role: Role | None = strawberry.field(  # type: ignore[valid-type]
        description="Their post as recorded (social_worker, team_manager, ...), not a token's role."
    )
    team: str | None = strawberry.field(description="The team the supervisee belongs to.")


@strawberry.type(description="A worker the caller line manages, with the cursor to page on.")
class SuperviseeEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this worker; only "
        "the caller's own supervisees accept it."
    )
    node: Supervisee = strawberry.field(
        description="The worker the caller line manages: name, post and team."
    )


@strawberry.type(
    description="A page of the workers the caller line manages, by staff id: Relay keyset "
    "pagination forwards or backwards."
)
class SuperviseeConnection:
    edges: list[SuperviseeEdge] = strawberry.field(
        description="This page's workers, by staff id, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are workers before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many workers the caller line manages (every page)."
    )


def _child(authority: str, row: Relationship, found: dict[str, Any]) -> AllocatedChild:
    return AllocatedChild(
        id=global_id("AllocatedChild", authority, row.local_id),
        child_id=row.local_id,
        team=row.team,
        case_type=_text(found, "case_type"),
        risk_level=_text(found, "risk_level"),
        closed=_text(found, "closed"),
    )


def _supervisee(authority: str, row: Relationship, found: dict[str, Any]) -> Supervisee:
    return Supervisee(
        id=global_id("Supervisee", authority, row.local_id),
        staff_id=row.local_id,
        display_name=_text(found, "display_name"),
        role=member_or_none(Role, _text(found, "role")),
        team=row.team,
    )


def _held_page(info: Info, source: SqlSource, name: str, asked: Any) -> Paged[Relationship]:
    """A page of one of the caller's own lists, bound to them (their cursor is theirs)."""
    who = info.context.who()
    cursors = Cursors(name, {"authority": who.authority_code, "staffId": who.staff_id})
    found = paginate(source, asked, cursors)
    rows = [(c, from_values(tuple(r))) for c, r in found.items]
    return Paged(rows, found.has_next_page, found.has_previous_page, found.total_count)


async def allocated_child(info: Info, local_id: str, purpose: str) -> AllocatedChild:
    """``node(id:)`` of a caseload item: only while the child is allocated to the caller."""
    who = info.context.who()
    engine = info.context.service.engine

    def read() -> AllocatedChild:
        source = viewer_model.caseload(engine, who.authority_code, who.staff_id)
        row = viewer_model.holds(source, local_id)
        if row is None:
            raise client_error("no such child on your caseload", "NOT_FOUND", field="id")
        return _child(who.authority_code, row, viewer_model.attributes(engine, row.subject_id))

    return await run_in_thread(read)


async def supervisee(info: Info, local_id: str, purpose: str) -> Supervisee:
    """``node(id:)`` of a supervisee: only while the caller line manages them."""
    who = info.context.who()
    engine = info.context.service.engine

    def read() -> Supervisee:
        source = viewer_model.supervisees(engine, who.authority_code, who.staff_id)
        row = viewer_model.holds(source, local_id)
        if row is None:
            raise client_error("no such worker line managed by you", "NOT_FOUND", field="id")
        found = viewer_model.attributes(engine, row.subject_id)
        return _supervisee(who.authority_code, row, found)

    return await run_in_thread(read)


@strawberry.type(
    description="Who is signed in, as their token says: the person every read and write "
    "of this request is authorised and recorded as."
)
class Viewer:
    staff_id: str = strawberry.field(
        description="The caller's staff id in their authority (the token's subject)."
    )
    role: Role = strawberry.field(  # type: ignore[valid-type]
        description="The role their token carries, which decides what they may read and do."
    )
    authority: str = strawberry.field(
        description="The code of the local authority whose records the token reaches (only)."
    )

    @strawberry.field(
        description="Their authority: code, name and adopted pack (null if not registered)."
    )
    async def local_authority(self, info: Info) -> LocalAuthority | None:
        app = info.context.service.app
        code = info.context.who().authority_code

        def read() -> LocalAuthority | None:
            try:
                found = app.get_authority(code)
            except DomainError:
                return None
            return LocalAuthority(code=code, name=found.name, pack=found.policy_pack)

        return await run_in_thread(read)

    @strawberry.field(
        description="Their worker record's name and post; null for someone not registered "
        "as a worker here (an administrator, an external auditor)."
    )
    async def person(self, info: Info) -> ViewerPerson | None:
        who = info.context.who()
        engine = info.context.service.engine

        def read() -> ViewerPerson | None:
            own = viewer_model.own_row(engine, who.authority_code, who.staff_id)
            if own is None:
                return None
            found = viewer_model.attributes(engine, own.subject_id)
            return ViewerPerson(
                display_name=_text(found, "display_name"),
                post=member_or_none(Role, _text(found, "role")),
            )

        return await run_in_thread(read)

    @strawberry.field(
        description="Their own team first, then the teams of the workers they line manage."
    )
    async def teams(self, info: Info) -> list[ViewerTeam]:
        who = info.context.who()
        engine = info.context.service.engine

        def read() -> list[ViewerTeam]:
            own = viewer_model.own_row(engine, who.authority_code, who.staff_id)
            found = viewer_model.teams(engine, who.authority_code, who.staff_id, own)
            return [ViewerTeam(name=t.name, member=t.member, manages=t.manages) for t in found]

        return await run_in_thread(read)

    @strawberry.field(description="Their line manager, if their record names one.")
    async def line_manager(self, info: Info) -> ViewerLineManager | None:
        who = info.context.who()
        engine = info.context.service.engine

        def read() -> ViewerLineManager | None:
            own = viewer_model.own_row(engine, who.authority_code, who.staff_id)
            if own is None or not own.line_manager_id:
                return None
            manager = own.line_manager_id
            found = viewer_model.attributes(engine, str(worker_id(who.authority_code, manager)))
            return ViewerLineManager(staff_id=manager, display_name=_text(found, "display_name"))

        return await run_in_thread(read)

    @strawberry.field(
        description="The children allocated to them, by child id, paged forwards or backwards."
    )
    async def caseload(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> CaseloadConnection:
        who = info.context.who()
        engine = info.context.service.engine
        asked = page(first, after, last, before)

        def read() -> CaseloadConnection:
            source = viewer_model.caseload(engine, who.authority_code, who.staff_id)
            found = _held_page(info, source, "caseload", asked)
            edges = [
                CaseloadEdge(
                    cursor=cursor,
                    node=_child(
                        who.authority_code, row, viewer_model.attributes(engine, row.subject_id)
                    ),
                )
                for cursor, row in found.items
            ]
            return CaseloadConnection(
                edges=edges, page_info=page_info(found), total_count=found.total_count
            )

        return await run_in_thread(read)

    @strawberry.field(
        description="The workers they line manage, by staff id, paged forwards or backwards."
    )
    async def supervisees(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SuperviseeConnection:
        who = info.context.who()
        engine = info.context.service.engine
        asked = page(first, after, last, before)

        def read() -> SuperviseeConnection:
            source = viewer_model.supervisees(engine, who.authority_code, who.staff_id)
            found = _held_page(info, source, "supervisees", asked)
            edges = [
                SuperviseeEdge(
                    cursor=cursor,
                    node=_supervisee(
                        who.authority_code, row, viewer_model.attributes(engine, row.subject_id)
                    ),
                )
                for cursor, row in found.items
            ]
            return SuperviseeConnection(
                edges=edges, page_info=page_info(found), total_count=found.total_count
            )

        return await run_in_thread(read)
