"""Compliance as types: findings under a pack, the summary for dip sampling, and the
change a subscription reports."""

# mypy: disallow-untyped-decorators=False
# (strawberry's field decorator is typed Any when given only a description: ``rule``.)

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from graphql_api.context import Info
from graphql_api.types.citations import RuleCitation, cite
from graphql_api.types.enums import FindingStatus, SubjectKind, member
from projections import compliance as compliance_model


@strawberry.type(description="What a policy rule required, and whether it was done.")
class Finding:
    rule_id: str = strawberry.field(description="The rule ID, e.g. POR-3.1b.")
    rule_key: str = strawberry.field(
        description="The clause with the variant the pack keys it by (e.g. DUR-4.2/annual)."
    )
    status: FindingStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the finding stands on the day asked about (asOf)."
    )
    due_on: date | None = strawberry.field(
        description="The day the act is or was due under the pack (null: no deadline)."
    )
    evidence: list[strawberry.ID] = strawberry.field(
        description="Log positions of the events it rests on."
    )
    sentence: str = strawberry.field(description="The finding in words, citing the rule.")
    window_start: date = strawberry.field(description="The day its window opened.")
    window_end: date | None = strawberry.field(
        description="The last day of its window (its due day); null: not applicable."
    )

    @strawberry.field(
        description="The rule ID cited from the authority's own pack: whose it is, its "
        "words and their source (null when no rule applies)."
    )
    async def rule(self, info: Info) -> RuleCitation | None:
        return await cite(info, self.rule_id)


@strawberry.type(description="A worker's or child's compliance on a day.")
class Compliance:
    pack: str | None = strawberry.field(
        description="The id of the policy pack the subject's authority holds them to (e.g. DUR)."
    )
    as_of: date = strawberry.field(description="The valid day asked about.")
    known_at: datetime | None = strawberry.field(description="The system time asked about.")
    findings: list[Finding] = strawberry.field(description="Every finding arisen by asOf.")


def compliance_of(result: compliance_model.SubjectCompliance) -> Compliance:
    """The read model's findings as the API's type."""
    return Compliance(
        pack=result.pack_id,
        as_of=result.as_of,
        known_at=result.known_at,
        findings=[
            Finding(
                rule_id=f.rule_id,
                rule_key=f.rule_key,
                status=member(FindingStatus, f.status),
                due_on=f.due_on,
                evidence=[strawberry.ID(str(p)) for p in f.evidence],
                sentence=f.sentence,
                window_start=f.window_start,
                window_end=f.window_end,
            )
            for f in result.findings
        ],
    )


@strawberry.type(description="One rule's (or team's) tally for a compliance summary.")
class SummaryRow:
    key: str = strawberry.field(description="The rule ID, or the team.")
    fell_due: int = strawberry.field(description="Obligations that fell due in the window.")
    on_time: int = strawberry.field(description="Of those, done by their due day.")
    late: int = strawberry.field(description="Done, but after their due day.")
    missed: int = strawberry.field(description="Not done by asOf, and still open (deadlines).")
    breached: int = strawberry.field(
        description="Windows of recurring and annual rules that closed without the act, "
        "due in the period: each missed window counts once."
    )
    due_soon: int = strawberry.field(description="Open, and due within the pack's warning.")
    rate: float | None = strawberry.field(description="onTime / fellDue; null when none.")


@strawberry.type(description="Compliance rates for quality-assurance dip sampling [POR-7].")
class ComplianceSummary:
    pack: str | None = strawberry.field(description="The authority's pack.")
    as_of: date = strawberry.field(description="The last day of the window.")
    since: date = strawberry.field(description="The first day of the window.")
    by_rule: list[SummaryRow] = strawberry.field(description="Tallies by rule ID.")
    by_team: list[SummaryRow] = strawberry.field(
        description="The same tallies, one row per team of the authority."
    )


def summary_rows(groups: dict[Any, compliance_model.Tally]) -> list[SummaryRow]:
    """The read model's tallies, keyed by rule or team, as rows."""
    return [
        SummaryRow(
            key=str(key),
            fell_due=t.fell_due,
            on_time=t.on_time,
            late=t.late,
            missed=t.missed,
            breached=t.breached,
            due_soon=t.due_soon,
            rate=t.rate,
        )
        for key, t in groups.items()
    ]


@strawberry.type(description="A subject whose compliance changed: recomputed from new events.")
class ComplianceChange:
    subject_kind: SubjectKind = strawberry.field(  # type: ignore[valid-type]
        description="Whose record changed: a worker's or a child's."
    )
    local_id: str = strawberry.field(description="The worker's or child's id.")
    team: str | None = strawberry.field(
        description="The subject's team when its findings were recomputed."
    )
    through_position: strawberry.ID = strawberry.field(
        description="The last event the new findings rest on."
    )
    overdue: int = strawberry.field(description="Findings overdue on the day of the change.")
    due_soon: int = strawberry.field(description="Findings due soon on that day.")

    def __post_init__(self) -> None:
        # The subscription names the subject's kind as the read model does (text).
        self.subject_kind = member(SubjectKind, self.subject_kind)
