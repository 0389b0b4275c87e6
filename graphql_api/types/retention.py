"""Retention as types (ADR 0012): the purge schedule and what a purge run did. The purge
certificates are ``graphql_api.purge``'s."""

# mypy: disallow-untyped-decorators=False
# (strawberry's field decorator is typed Any when given only a description: ``rule``.)

from __future__ import annotations

from datetime import date

import strawberry

from graphql_api.context import Info
from graphql_api.types.citations import RuleCitation, cite
from graphql_api.types.common import PageInfo
from graphql_api.types.enums import PurgeStatus, RecordClass, SubjectKind, member
from graphql_api.types.results import ValidationProblem
from projections import purge_schedule as purge_model


@strawberry.type(
    description="One record on the purge schedule: what will be destroyed, when and why."
)
class PurgeScheduleEntry:
    subject_kind: SubjectKind = strawberry.field(  # type: ignore[valid-type]
        description="Whose record it is: a worker's or a child's."
    )
    local_id: str = strawberry.field(
        description="The worker's staff id or the child's id in the authority."
    )
    record_class: RecordClass = strawberry.field(  # type: ignore[valid-type]
        description="The class of record a retention rule keeps, which sets its period."
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
    purged_on: date | None = strawberry.field(
        description="The day the purge destroyed it (null: still held)."
    )
    authorised_by: str | None = strawberry.field(
        description="The data protection officer who ran the purge, and their role."
    )
    status: PurgeStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the record stands on the schedule on asOf."
    )

    @strawberry.field(
        description="The rule ID cited from the authority's own pack: whose it is, its "
        "words and their source (null when no rule applies)."
    )
    async def rule(self, info: Info) -> RuleCitation | None:
        return await cite(info, self.rule_id)


@strawberry.type(description="A page of the purge schedule, and the same page as CSV.")
class PurgeSchedule:
    as_of: date = strawberry.field(description="The day each entry's status is given for.")
    entries: list[PurgeScheduleEntry] = strawberry.field(
        description="Records in due-date order; those with no due date last."
    )
    csv: str = strawberry.field(description="These entries as CSV, one line per record.")
    end_cursor: str | None = strawberry.field(
        description="The last entry's cursor, when the schedule has more after it: pass as "
        "after for the next page (pageInfo.endCursor, which is given on the last page too)."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether the schedule has records before or after this page, and the "
        "cursors to ask for them (Relay): bound to the filters asked with."
    )
    total_count: int = strawberry.field(
        description="How many records the whole schedule holds under these filters."
    )


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


def schedule_entry(row: purge_model.ScheduleRow, as_of: date) -> PurgeScheduleEntry:
    """A schedule row as an entry, with its status on ``as_of``."""
    return PurgeScheduleEntry(
        subject_kind=member(SubjectKind, row.subject_kind),
        local_id=row.local_id,
        record_class=member(RecordClass, row.record_class),
        record_id=row.record_id,
        rule_id=row.rule_id,
        trigger=row.trigger,
        trigger_date=row.trigger_date,
        due_on=row.due_on,
        held_by=row.held_by,
        events=row.events,
        purged_on=row.purged_on,
        authorised_by=row.authorised_by,
        status=member(PurgeStatus, row.status_on(as_of)),
    )
