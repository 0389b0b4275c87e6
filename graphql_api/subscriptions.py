"""Live updates over graphql-transport-ws: a subject's audit trail as it grows, and a
team's compliance as it is recomputed. Both poll the read models (``POLL_SECONDS``).

Every payload is an edge: a cursor and the item (ADR 0029). A client that lost its
connection (or whose server died) subscribes again with ``after`` set to the last cursor
it received and gets every item after it, in order, once: the cursor names a place in
the read model, not in a server's memory, so any server resumes it.
"""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from domain.authorization import Principal
from graphql_api.codes import UNAUTHENTICATED
from graphql_api.context import PURPOSE, After, Info
from graphql_api.errors import INPUT, client_error, run_in_thread
from graphql_api.limits import MAX_PAGE
from graphql_api.relay import Cursors, Key, PageArgs
from graphql_api.trail import read_trail, trail_cursors
from graphql_api.types import AuditEdge, ComplianceChange, trail_page
from projections import compliance as compliance_model

#: How often a subscription looks at the read models again when it has nothing new.
POLL_SECONDS = 0.5


@strawberry.type(
    description="A team member's compliance, recomputed, with the cursor to resume the "
    "complianceChanges subscription from it."
)
class ComplianceChangeEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after to complianceChanges for the same team to get "
        "every change after this one, once and in order (after a lost connection, say)."
    )
    node: ComplianceChange = strawberry.field(
        description="The subject whose findings changed, with its counts on the day asked."
    )


def _still_signed_in(who: Principal, now: datetime) -> None:
    """A live view lasts as long as its token: past its expiry it ends, as a new request
    with that token would be refused (sign in again, and resume from the last cursor)."""
    if who.expires_at is not None and now >= who.expires_at:
        raise client_error(
            "the token has expired: sign in again and resubscribe with after", UNAUTHENTICATED
        )


def _change_cursors(authority: str, team: str) -> Cursors:
    """A team's changes are keyed by the position each subject was recomputed through."""
    return Cursors("complianceChanges", {"authority": authority, "team": team})


def _change_mark(given: Key | None) -> tuple[int, str] | None:
    if given is None:
        return None
    if len(given) != 2 or not isinstance(given[0], int) or not isinstance(given[1], str):
        raise client_error("after is not a cursor this subscription issued", INPUT, field="after")
    return given[0], given[1]


@strawberry.type(
    description="Live updates over graphql-transport-ws, each payload an edge whose cursor "
    "resumes the subscription on any server."
)
class Subscription:
    @strawberry.subscription(
        description="A subject's audit trail: the entries after `after` (a cursor of this "
        "subscription or of the record's auditTrail without kinds), then each new one as it "
        "is recorded, each with its cursor. Opening it is a read of the record (logged)."
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
    ) -> AsyncGenerator[AuditEdge, None]:
        who = info.context.who()
        service = info.context.service
        if (child_id is None) == (staff_id is None):
            raise client_error("give exactly one of childId or staffId", INPUT, field="childId")
        kind, local_id = ("child", child_id) if child_id else ("worker", staff_id)
        assert local_id is not None
        # A cursor of another list is refused before the record is opened (and logged).
        trail_cursors(who.authority_code, kind, local_id).decode(after, "after")

        def open_record() -> None:
            if kind == "child":
                service.open_child(who, local_id, what="audit trail (live)", purpose=purpose)
            else:
                service.open_worker(who, local_id, what="audit trail (live)", purpose=purpose)

        await run_in_thread(open_record)
        mark = after
        while True:
            _still_signed_in(who, datetime.now(UTC))
            found = await run_in_thread(
                functools.partial(
                    read_trail,
                    service.engine,
                    who.authority_code,
                    kind,
                    local_id,
                    PageArgs(first=MAX_PAGE, after=mark),
                )
            )
            if found.items:
                # Sent only while the caller may still read the record: a reallocation or
                # a team move since it was opened ends the view, as a new read would fail.
                await run_in_thread(functools.partial(service.still_readable, who, kind, local_id))
            for edge in trail_page(found, who.authority_code, kind, local_id).edges:
                mark = edge.cursor
                yield edge
            if not found.has_next_page:
                await asyncio.sleep(POLL_SECONDS)

    @strawberry.subscription(
        description="Compliance changes for a team: each subject as it is recomputed, in "
        "the order recomputed, each with its cursor; with `after`, every change after that "
        "cursor first."
    )
    async def compliance_changes(
        self,
        info: Info,
        team: Annotated[
            str,
            strawberry.argument(
                description="The team whose workers' and children's compliance changes to "
                "send (a team manager may watch only their own team)."
            ),
        ],
        as_of: Annotated[
            date | None, strawberry.argument(description="Day to count findings on (today).")
        ] = None,
        after: After = None,
    ) -> AsyncGenerator[ComplianceChangeEdge, None]:
        who = info.context.who()
        service = info.context.service
        cursors = _change_cursors(who.authority_code, team)
        mark = _change_mark(cursors.decode(after, "after"))
        await run_in_thread(lambda: service.open_reports(who, team))

        def positions() -> dict[str, int]:
            return compliance_model.team_positions(service.engine, who.authority_code, team)

        if mark is None:  # from now on: past the latest change already made
            current = await run_in_thread(positions)
            mark = max(((p, s) for s, p in current.items()), default=(0, ""))
        while True:
            _still_signed_in(who, datetime.now(UTC))
            current = await run_in_thread(positions)
            changed = sorted((p, s) for s, p in current.items() if (p, s) > mark)
            if changed:  # sent only while the caller may still read the team's reports
                await run_in_thread(lambda: service.open_reports(who, team))
            day = as_of or datetime.now(UTC).date()
            for position, subject_id in changed:
                found = await run_in_thread(
                    functools.partial(
                        compliance_model.evaluate,
                        service.engine,
                        service.library,
                        subject_id,
                        as_of=day,
                    )
                )
                mark = (position, subject_id)
                if found is None:
                    continue
                statuses = [f.status.value for f in found.findings]
                yield ComplianceChangeEdge(
                    cursor=cursors.encode(mark),
                    node=ComplianceChange(
                        subject_kind=found.profile.subject,
                        local_id=found.profile.local_id,
                        team=found.profile.team,
                        through_position=strawberry.ID(str(position)),
                        overdue=statuses.count("overdue"),
                        due_soon=statuses.count("due_soon"),
                    ),
                )
            await asyncio.sleep(POLL_SECONDS)
