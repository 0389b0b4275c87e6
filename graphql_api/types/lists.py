"""The managers' lists of cases and workers: who holds what, and the open work on asOf
(batched per request). Not the records themselves: reading those is logged."""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

from datetime import date

import strawberry

from graphql_api.context import Info
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
