"""Quality assurance as types (ADR 0023): audits graded with the authority's tool, and
each auditor's quota windows [SHR-5.8, POR-7, DUR-7]."""

# mypy: disallow-untyped-decorators=False
# (strawberry's field decorator is typed Any when given only a description: ``rule``.)

from __future__ import annotations

from datetime import date

import strawberry

from domain.policy.calendar import Period
from domain.policy.quality import QuotaWindow
from graphql_api.context import Info
from graphql_api.relay import Node, global_id
from graphql_api.types.citations import RuleCitation, cite
from graphql_api.types.enums import AuditedRecord, FindingStatus, SubjectKind, member
from graphql_api.types.events import AuditAnswer, bounded
from projections.compliance import AuditRow


@strawberry.type(
    description="An audit of a supervision file or a child's case supervision records, graded "
    "with the authority's own tool; its dispute and moderation [SHR-5.8, POR-7, DUR-7]."
)
class QualityAudit(Node):
    audit_id: str = strawberry.field(
        description="The audit's id, chosen when it was recorded, unique per subject."
    )
    record: AuditedRecord = strawberry.field(  # type: ignore[valid-type]
        description="Which file was audited: a supervision file or a case file."
    )
    subject_kind: SubjectKind = strawberry.field(  # type: ignore[valid-type]
        description="Whose file it is: a worker's or a child's."
    )
    local_id: str = strawberry.field(description="The worker's staff id or the child's id.")
    team: str | None = strawberry.field(description="The subject's team.")
    auditor_id: str = strawberry.field(description="Who audited (the caller who recorded it).")
    holder_id: str | None = strawberry.field(
        description="The worker whose file it is (a child's: the allocated worker)."
    )
    supervisor_id: str | None = strawberry.field(
        description="The staff id of the supervisor whose supervision the file records."
    )
    audited_on: date = strawberry.field(description="The day of the audit.")
    period_from: date | None = strawberry.field(
        description="The first day of the records the audit read."
    )
    period_to: date | None = strawberry.field(
        description="The last day of the records the audit read (not after the audit)."
    )
    answers: list[AuditAnswer] = strawberry.field(
        description="Each item of the authority's tool and the auditor's answer, by item id.",
        metadata=bounded("answers"),
    )
    graded: str = strawberry.field(
        description="The auditor's overall judgement, on the authority's tool's own scale."
    )
    judgement: str = strawberry.field(
        description="The overall judgement now: the auditor's, or the moderator's where "
        "they changed it (the authority's own scale, so text, not an enum)."
    )
    concern: bool = strawberry.field(description="The judgement is one the tool marks a concern.")
    rule_id: str | None = strawberry.field(description="The clause of the authority's tool.")
    comment: str | None = strawberry.field(description="The auditor's comment.")
    disputed_by: str | None = strawberry.field(
        description="The staff id of the audited worker or supervisor who disputed the "
        "audit (null: undisputed) [SHR-5.8]."
    )
    dispute_reasons: str | None = strawberry.field(
        description="Why the audit was disputed, in the disputing party's words."
    )
    moderated_by: str | None = strawberry.field(
        description="The staff id of the moderator the pack names (null: not moderated)."
    )
    moderation_rationale: str | None = strawberry.field(
        description="Why the moderator kept or changed the judgement, in words."
    )

    @strawberry.field(
        description="The rule ID cited from the authority's own pack: whose it is, its "
        "words and their source (null when no rule applies)."
    )
    async def rule(self, info: Info) -> RuleCitation | None:
        return await cite(info, self.rule_id)


def quality_audit(authority: str, row: AuditRow) -> QualityAudit:
    """An audit's row; its global id names the file audited and the audit."""
    return QualityAudit(
        id=global_id(
            "QualityAudit", authority, f"{row.subject_kind}/{row.local_id}/{row.audit_id}"
        ),
        audit_id=row.audit_id,
        record=member(AuditedRecord, row.record),
        subject_kind=member(SubjectKind, row.subject_kind),
        local_id=row.local_id,
        team=row.team,
        auditor_id=row.auditor_id,
        holder_id=row.holder_id,
        supervisor_id=row.supervisor_id,
        audited_on=row.audited_on,
        period_from=row.period_from,
        period_to=row.period_to,
        answers=[AuditAnswer(item=k, yes=bool(v)) for k, v in sorted(row.answers.items())],
        graded=row.graded,
        judgement=row.judgement,
        concern=row.concern,
        rule_id=row.rule_id,
        comment=row.comment,
        disputed_by=row.disputed_by,
        dispute_reasons=row.dispute_reasons,
        moderated_by=row.moderated_by,
        moderation_rationale=row.moderation_rationale,
    )


@strawberry.type(
    description="One auditor's audit quota in one period: how many audits were due and done; "
    "BREACHED when the period ended short, a finding citing the rule [SHR-5.8, POR-7, DUR-7]."
)
class AuditQuotaWindow:
    rule_id: str = strawberry.field(
        description="The clause setting the quota, as the authority's pack numbers it "
        "(e.g. SHR-5.8)."
    )
    rule_key: str = strawberry.field(
        description="The clause with the variant the pack keys it by (e.g. DUR-7/annual)."
    )
    title: str = strawberry.field(description="The quota in words.")
    auditor_id: str = strawberry.field(description="The auditor the quota falls to.")
    record: AuditedRecord = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of file the quota counts: supervision files or case files."
    )
    starts_on: date = strawberry.field(description="The period's first day.")
    ends_on: date = strawberry.field(description="The period's last day.")
    due: int = strawberry.field(description="Audits due in the period.")
    done: int = strawberry.field(description="Audits done in the period (distinct files).")
    status: FindingStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the quota stands on asOf: BREACHED when the period ended short."
    )
    files: list[str] = strawberry.field(description="The files the quota covers.")
    audits: list[str] = strawberry.field(description="The audits done in the period.")
    sentence: str | None = strawberry.field(description="The finding, when the quota is missed.")

    @strawberry.field(
        description="The rule ID cited from the authority's own pack: whose it is, its "
        "words and their source (null when no rule applies)."
    )
    async def rule(self, info: Info) -> RuleCitation | None:
        return await cite(info, self.rule_id)


def audit_quota_window(window: QuotaWindow, as_of: date, due_soon: Period) -> AuditQuotaWindow:
    status = window.status(as_of, due_soon)
    return AuditQuotaWindow(
        rule_id=window.rule_id,
        rule_key=window.rule_key,
        title=window.title,
        auditor_id=window.auditor_id,
        record=member(AuditedRecord, window.record),
        starts_on=window.starts_on,
        ends_on=window.ends_on,
        due=window.due,
        done=window.done,
        status=member(FindingStatus, status),
        files=list(window.files),
        audits=list(window.audits),
        sentence=window.finding() if status == "breached" else None,
    )


__all__ = ["AuditQuotaWindow", "QualityAudit", "audit_quota_window", "quality_audit"]
