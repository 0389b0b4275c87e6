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

from domain.errors import DomainError
from domain.identifiers import worker_id
from graphql_api import viewer as viewer_model
from graphql_api.context import After, First, Info, bounded, cursor, cursor_value
from graphql_api.errors import run_in_thread
from graphql_api.types.common import PageInfo


def _text(attributes: dict[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return None if value is None else str(value)


@strawberry.type(description="The caller's local authority, as it registered.")
class LocalAuthority:
    code: str = strawberry.field(description="Its code (the token's authority).")
    name: str = strawberry.field(description="Its name.")
    pack: str = strawberry.field(description="The policy pack it has adopted (its rules).")


@strawberry.type(description="The caller as their worker record names them.")
class ViewerPerson:
    display_name: str | None = strawberry.field(description="Their name as recorded.")
    post: str | None = strawberry.field(
        description="Their recorded role (social_worker, team_manager, ...): their post, "
        "which may differ from the role their token carries."
    )


@strawberry.type(description="A team the caller belongs to or manages.")
class ViewerTeam:
    name: str = strawberry.field(description="The team.")
    member: bool = strawberry.field(description="True when it is the caller's own team.")
    manages: bool = strawberry.field(
        description="True when a worker the caller line manages is in it."
    )


@strawberry.type(description="The caller's line manager.")
class ViewerLineManager:
    staff_id: str = strawberry.field(description="Their staff id.")
    display_name: str | None = strawberry.field(description="Their name as recorded.")


@strawberry.type(
    description="A child allocated to the caller: the case facts, not the child's record "
    "(query child for that: it is a logged read)."
)
class AllocatedChild:
    child_id: str = strawberry.field(description="The child's id in the authority.")
    team: str | None = strawberry.field(description="The team holding the case.")
    case_type: str | None = strawberry.field(
        description="The case type (cin, cp, cla, care_leaver, ...)."
    )
    risk_level: str | None = strawberry.field(description="low, medium or high.")
    closed: str | None = strawberry.field(
        description=(
            "How the case left the allocated team, once it has (closed, transferred or "
            "stepped across to early help; DEV-6 (13)): null while the case is open. A "
            "closed case stays allocated until it is reallocated, so it is listed."
        )
    )


@strawberry.type(description="An edge of the caller's caseload.")
class CaseloadEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: AllocatedChild = strawberry.field(description="The child.")


@strawberry.type(description="A page of the children allocated to the caller, by child id.")
class CaseloadConnection:
    edges: list[CaseloadEdge] = strawberry.field(description="This page's children.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.type(
    description="A worker the caller line manages. Not their personal file (query worker "
    "for that: it is a logged read)."
)
class Supervisee:
    staff_id: str = strawberry.field(description="Their staff id.")
    display_name: str | None = strawberry.field(description="Their name as recorded.")
    role: str | None = strawberry.field(description="Their recorded role (their post).")
    team: str | None = strawberry.field(description="Their team.")


@strawberry.type(description="An edge of the caller's supervisees.")
class SuperviseeEdge:
    cursor: str = strawberry.field(description="Opaque: pass as after for the next page.")
    node: Supervisee = strawberry.field(description="The worker.")


@strawberry.type(description="A page of the workers the caller line manages, by staff id.")
class SuperviseeConnection:
    edges: list[SuperviseeEdge] = strawberry.field(description="This page's workers.")
    page_info: PageInfo = strawberry.field(description="Whether there is more.")


@strawberry.type(description="Who is signed in.")
class Viewer:
    staff_id: str = strawberry.field(description="Their staff id in their authority.")
    role: str = strawberry.field(description="The role their token carries.")
    authority: str = strawberry.field(description="Their authority's code.")

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
                display_name=_text(found, "display_name"), post=_text(found, "role")
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

    @strawberry.field(description="The children allocated to them, by child id.")
    async def caseload(
        self, info: Info, first: First = 50, after: After = None
    ) -> CaseloadConnection:
        who = info.context.who()
        engine = info.context.service.engine
        size = bounded(first)
        start = cursor_value("caseload", after)

        def read() -> CaseloadConnection:
            rows = viewer_model.caseload(engine, who.authority_code, who.staff_id, size + 1, start)
            edges = []
            for row in rows[:size]:
                found = viewer_model.attributes(engine, row.subject_id)
                child = AllocatedChild(
                    child_id=row.local_id,
                    team=row.team,
                    case_type=_text(found, "case_type"),
                    risk_level=_text(found, "risk_level"),
                    closed=_text(found, "closed"),
                )
                edges.append(CaseloadEdge(cursor=cursor("caseload", row.local_id), node=child))
            return CaseloadConnection(
                edges=edges,
                page_info=PageInfo(
                    has_next_page=len(rows) > size,
                    end_cursor=edges[-1].cursor if edges else None,
                ),
            )

        return await run_in_thread(read)

    @strawberry.field(description="The workers they line manage, by staff id.")
    async def supervisees(
        self, info: Info, first: First = 50, after: After = None
    ) -> SuperviseeConnection:
        who = info.context.who()
        engine = info.context.service.engine
        size = bounded(first)
        start = cursor_value("supervisee", after)

        def read() -> SuperviseeConnection:
            rows = viewer_model.supervisees(
                engine, who.authority_code, who.staff_id, size + 1, start
            )
            edges = []
            for row in rows[:size]:
                found = viewer_model.attributes(engine, row.subject_id)
                worker = Supervisee(
                    staff_id=row.local_id,
                    display_name=_text(found, "display_name"),
                    role=_text(found, "role"),
                    team=row.team,
                )
                edges.append(SuperviseeEdge(cursor=cursor("supervisee", row.local_id), node=worker))
            return SuperviseeConnection(
                edges=edges,
                page_info=PageInfo(
                    has_next_page=len(rows) > size,
                    end_cursor=edges[-1].cursor if edges else None,
                ),
            )

        return await run_in_thread(read)
