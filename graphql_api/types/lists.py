"""The managers' lists of cases and workers: who holds what, and the open work on asOf
(batched per request). Not the records themselves: reading those is logged."""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

from datetime import date

import strawberry

from graphql_api.context import Info
from graphql_api.relay import Node
from graphql_api.types.common import PageInfo


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
    "child's record (query child for that: it is a logged read). node(id:) gives it "
    "again to whoever may read the list it is on (its team's report)."
)
class Case(Node, OpenWork):
    child_id: str = strawberry.field(
        description="The child's id in the authority: pass to child(childId:) to open their "
        "record (a logged read)."
    )
    team: str | None = strawberry.field(
        description="The team the case is allocated to (the team filter's value)."
    )
    allocated_worker: str | None = strawberry.field(
        description="The staff id of the social worker the case is allocated to."
    )


@strawberry.type(description="A case on a manager's list, with the cursor to page on from it.")
class CaseEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this case; only "
        "cases asked with the same asOf and team accept it."
    )
    node: Case = strawberry.field(description="The case: who holds it and its open work.")


@strawberry.type(
    description="A page of the authority's (or a team's) cases, by child id: Relay keyset "
    "pagination forwards or backwards."
)
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(
        description="This page's cases, by child id, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are cases before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many cases the whole list holds (every page), as read now."
    )


@strawberry.type(
    description="A worker on a manager's list: team, line manager and open obligations. "
    "Not their personal file (query worker for that: it is a logged read). node(id:) "
    "gives it again to whoever may read the list it is on (its team's report)."
)
class StaffMember(Node, OpenWork):
    staff_id: str = strawberry.field(
        description="The worker's staff id in the authority: pass to worker(staffId:) to "
        "open their personal file (a logged read)."
    )
    team: str | None = strawberry.field(description="The team the worker belongs to.")
    line_manager: str | None = strawberry.field(
        description="The staff id of the manager who line manages them (and supervises "
        "them, unless a supervision agreement names another supervisor)."
    )


@strawberry.type(description="A worker on a manager's list, with the cursor to page on from it.")
class StaffEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this worker; only "
        "workers asked with the same asOf and team accept it."
    )
    node: StaffMember = strawberry.field(
        description="The worker: team, line manager and open obligations."
    )


@strawberry.type(
    description="A page of the authority's (or a team's) workers, by staff id: Relay "
    "keyset pagination forwards or backwards."
)
class StaffConnection:
    edges: list[StaffEdge] = strawberry.field(
        description="This page's workers, by staff id, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are workers before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many workers the whole list holds (every page), as read now."
    )
