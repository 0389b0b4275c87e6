"""Use cases of quality assurance: audits of supervision and case files, their disputes
and moderation (ADR 0023) [SHR-5.8, POR-7, DUR-7].

Who audits, disputes and moderates is the subject's authority's pack (its quotas and
moderator) and the caller's relationship, read here from the aggregates as they are:
the file holder's line-management chain, and the auditor's own line manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from application.subjects import subject_of
from domain import commands as c
from domain.authorization import chain_in_store
from domain.errors import DomainError
from domain.policy.quality import QualityRules

if TYPE_CHECKING:
    from application.app import OversightApplication
    from application.handlers import Handler


def quality_rules_of(app: OversightApplication, authority_code: str) -> QualityRules:
    """The audit tools, quotas and moderator of the pack ``authority_code`` has adopted."""
    pack_id = app.get_authority(authority_code).policy_pack
    return app.policy_packs.get(pack_id).quality


def audit_supervision_file(
    app: OversightApplication, cmd: c.AuditSupervisionFile
) -> list[Aggregate]:
    """The caller audits a worker's supervision file as the auditor the pack names."""
    authority = cmd.actor.authority_id
    worker = app.get_worker(authority, cmd.staff_id)
    worker.audit_supervision_file(
        cmd.provenance(),
        **cmd.arguments("staff_id"),
        rules=quality_rules_of(app, authority),
        chain=chain_in_store(app, authority, cmd.staff_id),
    )
    return [worker]


def audit_case_file(app: OversightApplication, cmd: c.AuditCaseFile) -> list[Aggregate]:
    """The caller dip-samples a child's case supervision records as the pack's auditor."""
    authority = cmd.actor.authority_id
    child = app.get_child(authority, cmd.child_id)
    holder = child.allocated_worker_id
    child.audit_case_file(
        cmd.provenance(),
        **cmd.arguments("child_id"),
        rules=quality_rules_of(app, authority),
        chain=chain_in_store(app, authority, holder) if holder else (),
    )
    return [child]


def dispute_audit(app: OversightApplication, cmd: c.DisputeAudit) -> list[Aggregate]:
    """The audited worker or supervisor disputes an audit, with reasons."""
    subject = subject_of(app, cmd)
    subject.dispute_audit(
        cmd.provenance(),
        audit_id=cmd.audit_id,
        reasons=cmd.reasons,
        rules=quality_rules_of(app, cmd.actor.authority_id),
    )
    return [subject]


def moderate_audit(app: OversightApplication, cmd: c.ModerateAudit) -> list[Aggregate]:
    """The moderator the pack names (the auditor's line manager, read from the auditor's
    own record as it is now) confirms or changes an audit's judgement."""
    authority = cmd.actor.authority_id
    subject = subject_of(app, cmd)
    audit = subject.audits.get(cmd.audit_id)
    auditors_manager: str | None = None
    if audit is not None:
        try:
            auditors_manager = app.get_worker(authority, audit.auditor_id).line_manager_id
        except DomainError:  # the auditor is no worker here any more (purged)
            auditors_manager = None
    subject.moderate_audit(
        cmd.provenance(),
        audit_id=cmd.audit_id,
        judgement=cmd.judgement,
        rationale=cmd.rationale,
        rules=quality_rules_of(app, authority),
        auditors_line_manager_id=auditors_manager,
    )
    return [subject]


#: The commands of this group, each with its use case (registered in ``handlers``).
QUALITY_HANDLERS: dict[type[c.Command], Handler] = {
    c.AuditSupervisionFile: audit_supervision_file,
    c.AuditCaseFile: audit_case_file,
    c.DisputeAudit: dispute_audit,
    c.ModerateAudit: moderate_audit,
}

__all__ = [
    "QUALITY_HANDLERS",
    "audit_case_file",
    "audit_supervision_file",
    "dispute_audit",
    "moderate_audit",
    "quality_rules_of",
]
