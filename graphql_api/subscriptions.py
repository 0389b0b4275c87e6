"""Live updates over graphql-transport-ws: a subject's audit trail as it grows, and a
team's compliance as it is recomputed. Both poll the read models (``POLL_SECONDS``)."""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime
from typing import Annotated, Any

import strawberry

from graphql_api.context import PURPOSE, After, Info
from graphql_api.errors import INPUT, client_error, run_in_thread
from graphql_api.limits import MAX_PAGE
from graphql_api.types import AuditEntry, ComplianceChange, trail_page
from projections import compliance as compliance_model
from projections.audit_trail import subject_trail

#: How often a subscription looks at the read models again when it has nothing new.
POLL_SECONDS = 0.5


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

        await run_in_thread(open_record)
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
            page = await run_in_thread(functools.partial(page_after, cursor))
            for edge in trail_page(page).edges:
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
        await run_in_thread(lambda: service.open_reports(who, team))
        seen: dict[str, int] = await run_in_thread(
            lambda: compliance_model.team_positions(service.engine, who.authority_code, team)
        )
        while True:
            current = await run_in_thread(
                lambda: compliance_model.team_positions(service.engine, who.authority_code, team)
            )
            changed = [s for s, position in current.items() if seen.get(s, -1) < position]
            day = as_of or datetime.now(UTC).date()
            for subject_id in sorted(changed, key=lambda s: current[s]):
                found = await run_in_thread(
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
