"""What auditors and learning reviews take away, over GraphQL (issue 24, ADR 0030): a
child's chronology and a learning-review pack as documents (format, filename, media type
and the content in base64), and the decisions across an authority's children as a
connection. Authorised and access-logged like any read: through the service, as the
token's person, per child."""

# strawberry's field decorator is typed Any when given only a description.

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry

from application.exports.chronology import Request, Sources, chronology
from application.exports.decisions import (
    Decision,
    Filters,
    decision,
    decisions,
    log_children,
)
from application.exports.render import Document, Format, chronology_document, review_document
from application.exports.review import review_pack
from domain.authorization import Principal
from domain.errors import DomainError
from graphql_api.context import (
    PURPOSE,
    After,
    AsOfTime,
    Before,
    ChildId,
    First,
    Info,
    KnownAt,
    Last,
    instant,
    page,
)
from graphql_api.errors import run_in_thread
from graphql_api.relay import (
    Cursors,
    Key,
    ListSource,
    Node,
    global_id,
    no_such_record,
    paginate,
    position_in,
)
from graphql_api.service import Service
from graphql_api.types.citations import RuleCitation, adopted_pack, citations
from graphql_api.types.common import PageInfo, page_info
from graphql_api.types.enums import Role_ as Role
from graphql_api.types.enums import member, member_or_none, stored_value


@dataclass
class ServiceReader:
    """The token's person, reading through the service: authorised, then logged."""

    service: Service
    principal: Principal
    purpose: str

    @property
    def authority_code(self) -> str:
        return self.principal.authority_code

    def open_child(self, child_id: str, *, what: str) -> None:
        self.service.open_child(self.principal, child_id, what=what, purpose=self.purpose)

    def may_read_child(self, child_id: str) -> bool:
        try:
            self.service.still_readable(self.principal, "child", child_id)
        except DomainError:
            return False
        return True

    def open_personal_file(self, staff_id: str, *, what: str) -> bool:
        try:
            self.service.open_worker(self.principal, staff_id, what=what, purpose=self.purpose)
        except DomainError:
            return False
        return True

    def open_reports(self, team: str | None) -> None:
        self.service.open_reports(self.principal, team)


@strawberry.enum(description="The form a document is rendered in.")
class ExportFormat(Enum):
    PDF = strawberry.enum_value(
        "pdf", description="A PDF to print, file or send: the same text on every render."
    )
    CSV = strawberry.enum_value(
        "csv", description="CSV, one row per line of the document, for a spreadsheet."
    )
    JSON = strawberry.enum_value(
        "json", description="JSON, the document's structure for another system to read."
    )


@strawberry.enum(description="The kinds of decision a thematic audit reads across children.")
class DecisionKind(Enum):
    MANAGEMENT_DECISION = strawberry.enum_value(
        "management_decision",
        description="A decision recorded on the child's record by a manager, on its own.",
    )
    MANAGEMENT_OVERSIGHT = strawberry.enum_value(
        "management_oversight",
        description="A management oversight: the decision and rationale answering triggers.",
    )
    CASE_SUPERVISION = strawberry.enum_value(
        "case_supervision",
        description="A case discussed in a worker's supervision, with what was decided.",
    )
    DISAGREEMENT_OUTCOME = strawberry.enum_value(
        "disagreement_outcome",
        description="How a professional disagreement about the child was resolved.",
    )


@strawberry.type(description="A document to take away: its bytes in base64, and what it is.")
class ExportDocument:
    format: ExportFormat = strawberry.field(description="The form it is rendered in.")
    filename: str = strawberry.field(description="A name to save it under.")
    media_type: str = strawberry.field(description="Its media type (application/pdf, ...).")
    byte_length: int = strawberry.field(description="Its length in bytes, once decoded.")
    content_base64: str = strawberry.field(description="The document itself, base64-encoded.")


def _document(document: Document) -> ExportDocument:
    return ExportDocument(
        format=member(ExportFormat, document.format),
        filename=document.filename,
        media_type=document.media_type,
        byte_length=len(document.content),
        content_base64=base64.b64encode(document.content).decode(),
    )


@strawberry.type(
    description="A decision on a child's record, as known at the knownAt asked (as "
    "recorded, when none), linked to the child's chronology by childId."
)
class DecisionItem(Node):
    child_id: str = strawberry.field(description="The child: pass it to chronology.")
    kind: DecisionKind = strawberry.field(
        description="Where on the record it was made: a management decision or oversight, "
        "case supervision, or a disagreement's outcome."
    )
    entry_id: str | None = strawberry.field(description="The record's entry id.")
    occurred_at: datetime = strawberry.field(description="When it was decided (valid time).")
    recorded_at: datetime = strawberry.field(description="When it was recorded (system time).")
    decider: str = strawberry.field(description="Who recorded the decision (the actor).")
    decider_role: Role | None = strawberry.field(  # type: ignore[valid-type]
        description="The capacity they recorded it in (their role then, as recorded)."
    )
    decision: str = strawberry.field(description="What was decided, as first recorded.")
    corrected_to: str | None = strawberry.field(
        description="What a correction known by knownAt made of it (null: never corrected)."
    )
    cited: strawberry.Private[tuple[str, ...]]
    team: str | None = strawberry.field(description="The child's team when it was decided.")
    worker: str | None = strawberry.field(description="The child's worker when it was decided.")

    @strawberry.field(
        description="The clauses of the authority's own pack its record cites, each with "
        "its words and source; empty when it cites none."
    )
    async def rule_ids(self, info: Info) -> list[RuleCitation]:
        if not self.cited:
            return []
        pack_id = await adopted_pack(info)
        return citations(info.context.service.library, pack_id, self.cited)


@strawberry.type(
    description="A decision in the thematic-audit list, with the cursor to page on from it."
)
class DecisionEdge:
    cursor: str = strawberry.field(
        description="Opaque: pass as after (or before) to page on from this decision; only "
        "this list asked with the same filters accepts it."
    )
    node: DecisionItem = strawberry.field(description="The decision at this edge.")


@strawberry.type(
    description="Decisions across children, oldest first (by when they were made): a "
    "Relay connection, paged forwards or backwards."
)
class DecisionConnection:
    edges: list[DecisionEdge] = strawberry.field(
        description="This page's decisions, oldest first, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether there are decisions before or after this page, and its cursors."
    )
    total_count: int = strawberry.field(
        description="How many decisions match the filters in all, as read now."
    )


def _decision_key(found: Decision) -> Key:
    """A decision's place in the list: when it was made, the child, its log position."""
    return (found.occurred_at.isoformat(), found.child, found.position)


def _item(authority: str, found: Decision) -> DecisionItem:
    return DecisionItem(
        id=global_id("Decision", authority, f"{found.child}/{found.position}"),
        child_id=found.child,
        kind=member(DecisionKind, found.kind),
        entry_id=found.entry,
        occurred_at=found.occurred_at,
        recorded_at=found.recorded_at,
        decider=found.decider,
        decider_role=member_or_none(Role, found.role),
        decision=found.decision,
        corrected_to=found.corrected_to,
        cited=tuple(found.rules),
        team=found.team,
        worker=found.worker,
    )


Purpose = Annotated[str, strawberry.argument(description=PURPOSE)]
Format_ = Annotated[ExportFormat, strawberry.argument(description="pdf, csv or json.")]
From = Annotated[
    date | None,
    strawberry.argument(name="from", description="The period's first day (inclusive)."),
]
To = Annotated[date | None, strawberry.argument(description="The period's last day (inclusive).")]


def _sources(service: Service) -> Sources:
    return Sources(service.engine, service.library)


@strawberry.type(description="Documents auditors and learning reviews take away.")
class ExportQueries:
    @strawberry.field(
        description="A child's chronology: every oversight act in order with both times, "
        "who acted and in what role, the trigger each answered, disagreements with their "
        "escalation, sign-offs and findings with the clause cited; corrections as "
        "corrections, purged records as certificate lines. Reading it is logged."
    )
    async def chronology(
        self,
        info: Info,
        child_id: ChildId,
        format: Format_ = ExportFormat.PDF,
        worker: Annotated[
            str | None,
            strawberry.argument(description="Only while allocated to, or by or about, them."),
        ] = None,
        from_: From = None,
        to: To = None,
        as_of: AsOfTime = None,
        known_at: KnownAt = None,
        purpose: Purpose = "audit",
    ) -> ExportDocument:
        who = info.context.who()
        service = info.context.service
        request = Request(
            who.authority_code,
            child_id,
            worker=worker,
            period_from=from_,
            period_to=to,
            as_of=instant(as_of, "asOf"),
            known_at=instant(known_at, "knownAt"),
        )

        def read() -> ExportDocument:
            reader = ServiceReader(service, who, purpose)
            found = chronology(_sources(service), reader, request)
            return _document(chronology_document(found, Format(stored_value(format))))

        return await run_in_thread(read)

    @strawberry.field(
        description="A learning-review pack for a child at an instant T: what had been "
        "decided by T, what was known at T against what is known now, oversight due and "
        "missing at T, disagreements open at T, and the worker's own supervision "
        "compliance before T. Reading it is logged."
    )
    async def review_pack(
        self,
        info: Info,
        child_id: ChildId,
        at: Annotated[datetime, strawberry.argument(description="T, with its offset.")],
        known_at: KnownAt = None,
        format: Format_ = ExportFormat.PDF,
        purpose: Purpose = "learning review",
    ) -> ExportDocument:
        who = info.context.who()
        service = info.context.service
        moment = instant(at, "at")
        assert moment is not None
        system = instant(known_at, "knownAt")

        def read() -> ExportDocument:
            reader = ServiceReader(service, who, purpose)
            pack = review_pack(
                _sources(service), reader, who.authority_code, child_id, moment, system
            )
            return _document(review_document(pack, Format(stored_value(format))))

        return await run_in_thread(read)

    @strawberry.field(
        description="Decisions across the authority's children (a thematic audit), "
        "filtered, each as known at knownAt; every child returned is logged as read."
    )
    async def decisions(
        self,
        info: Info,
        kinds: Annotated[
            list[DecisionKind] | None,
            strawberry.argument(
                description="Only decisions of these kinds (oversight, case supervision...)."
            ),
        ] = None,
        team: Annotated[str | None, strawberry.argument(description="Only this team.")] = None,
        worker: Annotated[
            str | None, strawberry.argument(description="Only children allocated to them.")
        ] = None,
        decider: Annotated[
            str | None, strawberry.argument(description="Only decisions by this staff id.")
        ] = None,
        rule: Annotated[
            str | None, strawberry.argument(description="Only decisions citing this rule ID.")
        ] = None,
        text: Annotated[
            str | None, strawberry.argument(description="Only decisions holding these words.")
        ] = None,
        from_: From = None,
        to: To = None,
        as_of: AsOfTime = None,
        known_at: KnownAt = None,
        purpose: Purpose = "thematic audit",
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> DecisionConnection:
        who = info.context.who()
        service = info.context.service
        asked = page(first, after, last, before)
        filters = Filters(
            team=team,
            worker=worker,
            decider=decider,
            kinds=tuple(stored_value(k) for k in kinds or ()),
            period_from=from_,
            period_to=to,
            rule=rule,
            text=text,
            as_of=instant(as_of, "asOf"),
            known_at=instant(known_at, "knownAt"),
        )

        cursors = Cursors(
            "decisions",
            {
                "kinds": sorted(stored_value(k) for k in kinds or ()),
                "team": team,
                "worker": worker,
                "decider": decider,
                "rule": rule,
                "text": text,
                "from": from_,
                "to": to,
                "asOf": as_of,
                "knownAt": known_at,
            },
        )

        def read() -> DecisionConnection:
            reader = ServiceReader(service, who, purpose)
            found = decisions(_sources(service), reader, who.authority_code, filters, log=False)
            listed = paginate(ListSource(found, _decision_key), asked, cursors)
            # Only the children whose decisions this page gives out are logged as read.
            log_children(reader, [d for _, d in listed.items])
            return DecisionConnection(
                edges=[
                    DecisionEdge(cursor=c, node=_item(who.authority_code, d))
                    for c, d in listed.items
                ],
                page_info=page_info(listed),
                total_count=listed.total_count,
            )

        return await run_in_thread(read)


async def decision_node(info: Info, local: str, purpose: str) -> DecisionItem:
    """A decision by its global id, read as the decisions list reads it: an authority
    report for the child's team, then the child opened and logged with the purpose."""
    child, _, position_text = local.rpartition("/")
    position = position_in(position_text)
    who = info.context.who()
    service = info.context.service

    def read() -> DecisionItem:
        reader = ServiceReader(service, who, purpose)
        if not child or position is None:
            reader.open_reports(None)  # refused as a real one would be, or not there
            found = None
        else:
            found = decision(_sources(service), reader, who.authority_code, child, position)
        if found is None:
            raise no_such_record()
        return _item(who.authority_code, found)

    return await run_in_thread(read)
