"""Audit trail: one entry per event per subject, in plain words, with links.

Tables (each a view over the active generation, see ``projections.engine``):

- ``audit_trail``: what happened, ``occurred_at`` and ``recorded_at``, the actor and role,
  the rule or trigger involved, and the entry it concerns;
- ``audit_refs``: the other entries an audit row points at (its own entry id is its
  ``entry_ref``). Rows that share a ref, their own or one they point at, on one subject
  are linked: a trigger and the oversight that answered it, a disagreement and
  its escalations and resolution, a record and its sign-offs and corrections;
- ``audit_subjects``: each subject's kind, authority and local id (for tenancy filters).

Reads of a child's record or a worker's personal file (``RecordAccessed``) appear on the
subject's trail beside the changes.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, NamedTuple

from eventsourcing.persistence import Notification
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    select,
)

from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    AccessLogOpened,
    ActionCarriedForward,
    ActionCompleted,
    ActionSet,
    AdoptionOrderRecorded,
    AppraisalHeld,
    AssessmentCompleted,
    AuthorityRegistered,
    CareBeganBeforeRecord,
    CareEpisodeCorrected,
    CaseClosed,
    CaseFileAudited,
    CaseSupervisionRecorded,
    CaseTypeChanged,
    ChildAddedToCaseload,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    ChildRemovedFromCaseload,
    ChildReturnedHome,
    ClosureDayAdded,
    ContentPurged,
    DirectObservationRecorded,
    DirectObservationSigned,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
    EntrySignaturesVoided,
    EventType,
    GroupSupervisionAttended,
    GroupSupervisionDiscussionRecorded,
    InitialChildProtectionConferenceHeld,
    LegalHoldLifted,
    LegalHoldPlaced,
    LegalStatusChanged,
    LineManagerChanged,
    LookedAfterReviewHeld,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    MissingFromCareRecorded,
    OversightTriggered,
    PeriodOfCareEnded,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    PlacementChanged,
    PolicyPackAdopted,
    QualityAuditDisputed,
    QualityAuditModerated,
    RecordAccessed,
    RecordPurged,
    ReferralReceived,
    RiskLevelChanged,
    Section47EnquiryStarted,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionAgreementSignedByOneParty,
    SupervisionFileAudited,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionCancelled,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    TeamAllocated,
    ThresholdChanged,
    UnknownEvent,
    WorkerAllocated,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
    kind_of,
)
from domain.policy.citations import Citations
from domain.policy.packs import PackLibrary
from projections.compliance.context import authority_context
from projections.compliance.tables import VIEWS
from projections.engine import (
    Delete,
    Insert,
    Operation,
    SameAs,
    Update,
    generation_table_name,
    utc,
)


class Described(NamedTuple):
    """What an event means on the trail. (A named tuple: made once per event in a
    rebuild, where a frozen dataclass costs several times as much.)"""

    kind: str
    summary: str
    entry_ref: str | None = None
    refs: tuple[str, ...] = ()
    subject_id: str | None = None  # when the subject is not the event's aggregate


def _words(value: str) -> str:
    return value.replace("_", " ")


def _functions(e: Any) -> str:
    return ", ".join(e.functions_covered) or "none recorded"


def _trigger(e: Any) -> Described:
    how = "automatically" if e.automatic else "by hand"
    text = f"Management oversight triggered {how}: {_words(e.kind)}"
    if e.incident_dates:
        text += "; incident dates " + ", ".join(d.isoformat() for d in e.incident_dates)
    return Described("oversight_trigger", text, e.trigger_id)


def _signed(e: Any) -> Described:
    if e.signatory == "supervisee" and not e.confirmed:
        text = f"Personal record {e.record_id} disputed by the supervisee: {e.differing_view}"
    elif e.signatory == "supervisee":
        text = f"Personal record {e.record_id} confirmed by the supervisee"
    else:
        text = f"Personal record {e.record_id} signed by the {e.signatory}"
    return Described("sign_off", text, e.record_id)


DESCRIBERS: dict[EventType, Callable[[Any], Described]] = {
    AuthorityRegistered: lambda e: Described(
        "registration", f"Authority {e.authority_code} registered on the {e.policy_pack} pack"
    ),
    PolicyPackAdopted: lambda e: Described("policy", f"Policy pack {e.policy_pack} adopted"),
    ClosureDayAdded: lambda e: Described(
        "policy", f"Closure day {e.day.isoformat()} added: {e.reason}"
    ),
    WorkerRegistered: lambda e: Described(
        "registration",
        f"Worker {e.staff_id} registered: {_words(e.role)} in {e.team}, "
        f"{_words(e.employment_pattern)} (FTE {e.fte}), {e.engagement}, "
        f"{'case-holding' if e.case_holding else 'not case-holding'}",
    ),
    WorkerRoleChanged: lambda e: Described("employment", f"Role changed to {_words(e.role)}"),
    WorkerTeamChanged: lambda e: Described("employment", f"Team changed to {e.team}"),
    LineManagerChanged: lambda e: Described(
        "employment", f"Line manager changed to {e.line_manager_id}"
    ),
    WorkingPatternChanged: lambda e: Described(
        "employment", f"Working pattern changed to {_words(e.employment_pattern)} (FTE {e.fte})"
    ),
    WorkerLeftEmployment: lambda e: Described(
        "employment", f"Left employment on {e.last_day.isoformat()}: {e.reason}"
    ),
    SupervisionAgreementSignedByOneParty: lambda e: Described(
        "supervision_agreement",
        f"Supervision agreement {e.agreement_id} signed by the {_words(e.signatory)} on "
        f"{e.signed_on.isoformat()}: awaiting the other party's signature",
        e.agreement_id,
    ),
    SupervisionAgreementSigned: lambda e: Described(
        "supervision_agreement",
        f"Supervision agreement {e.agreement_id} signed by both with {e.supervisor_id}: "
        f"{e.frequency}, {_words(e.supervision_format)}, review due "
        f"{e.review_due_on.isoformat()}, escalation to {e.escalation_manager_id}",
        e.agreement_id,
    ),
    SupervisionAgreementReviewed: lambda e: Described(
        "supervision_agreement",
        f"Supervision agreement {e.agreement_id} reviewed; next review "
        f"{e.next_review_due_on.isoformat()}",
        e.agreement_id,
    ),
    SupervisionFrequencyExceptionApproved: lambda e: Described(
        "supervision_agreement",
        f"Supervision every {e.frequency} approved by the Head of Service: {e.reason}",
        e.agreement_id,
    ),
    SupervisionSessionScheduled: lambda e: Described(
        "supervision_session",
        f"Supervision session {e.session_id} scheduled with {e.supervisor_id} for "
        f"{e.scheduled_for.isoformat()}",
        e.session_id,
    ),
    SupervisionSessionCancelled: lambda e: Described(
        "supervision_session",
        f"Supervision session {e.session_id} cancelled by the {e.cancelled_by}: {e.reason}",
        e.session_id,
    ),
    SupervisionSessionRescheduled: lambda e: Described(
        "supervision_session",
        f"Supervision session {e.session_id} rescheduled to "
        f"{e.new_scheduled_for.isoformat()}: {e.reason}",
        e.session_id,
    ),
    SupervisionSessionHeld: lambda e: Described(
        "supervision_session",
        f"Supervision session {e.session_id} held with {e.supervisor_id} for "
        f"{e.duration_minutes} minutes; functions: {_functions(e)}; wellbeing "
        f"{'discussed' if e.wellbeing_discussed else 'not discussed'}; equality and "
        f"diversity {'discussed' if e.equality_and_diversity_discussed else 'not discussed'}"
        + (f"; children discussed: {len(e.children_discussed)}" if e.children_discussed else ""),
        e.session_id,
    ),
    PersonalSupervisionRecordWritten: lambda e: Described(
        "personal_record",
        f"Personal supervision record {e.record_id} written for session {e.session_id} "
        f"with {len(e.agreed_actions)} agreed action(s)",
        e.record_id,
        (e.session_id,),
    ),
    PersonalSupervisionRecordSigned: _signed,
    PersonalRecordCommentRemoved: lambda e: Described(
        "correction",
        f"Comment removed from {_words(e.field_name)} of personal record {e.record_id}: {e.reason}",
        e.record_id,
    ),
    AbsenceStarted: lambda e: Described(
        "absence",
        f"{_words(e.kind).capitalize()} absence started on {e.started_on.isoformat()}",
        e.absence_id,
    ),
    AbsenceEnded: lambda e: Described(
        "absence", f"Absence ended; returned on {e.returned_on.isoformat()}", e.absence_id
    ),
    GroupSupervisionAttended: lambda e: Described(
        "group_supervision",
        f"Attended {_words(e.session_kind)} {e.group_session_id}: {e.topic}",
        e.group_session_id,
    ),
    DirectObservationRecorded: lambda e: Described(
        "direct_observation",
        f"Direct observation {e.observation_id} by {e.observer_id}",
        e.observation_id,
    ),
    DirectObservationSigned: lambda e: Described(
        "sign_off",
        f"Direct observation {e.observation_id} signed by the {_words(e.signatory)}",
        e.observation_id,
    ),
    AppraisalHeld: lambda e: Described(
        "appraisal", f"{_words(e.kind).capitalize()} {e.appraisal_id} held", e.appraisal_id
    ),
    ChildAddedToCaseload: lambda e: Described(
        "caseload", f"Child {e.child_id} added to the caseload", e.child_id
    ),
    ChildRemovedFromCaseload: lambda e: Described(
        "caseload", f"Child {e.child_id} removed from the caseload", e.child_id
    ),
    ChildRegistered: lambda e: Described(
        "registration",
        f"Child {e.local_child_id} registered: {_words(e.case_type)}, {e.risk_level} risk"
        + (", unborn" if e.expected_date_of_birth else ""),
    ),
    WorkerAllocated: lambda e: Described(
        "allocation", f"Allocated to {e.worker_id} in {e.team} (reason {e.reason})"
    ),
    TeamAllocated: lambda e: Described("allocation", f"Team allocated: {e.team}"),
    CaseTypeChanged: lambda e: Described(
        "case_change", f"Case type changed to {_words(e.case_type)}"
    ),
    ThresholdChanged: lambda e: Described("case_change", f"Threshold changed to {e.threshold}"),
    RiskLevelChanged: lambda e: Described(
        "case_change", f"Risk level changed to {e.risk_level}" + (f", RAG {e.rag}" if e.rag else "")
    ),
    LegalStatusChanged: lambda e: Described(
        "case_change", f"Legal status changed to {e.legal_status}"
    ),
    ChildCameIntoCare: lambda e: Described(
        "care", f"Came into care: legal status {e.legal_status}, placement {e.placement}"
    ),
    PlacementChanged: lambda e: Described(
        "care", f"Placement changed to {e.placement}: {e.reason}"
    ),
    ChildReturnedHome: lambda e: Described("care", f"Returned home: {e.reason}"),
    CaseClosed: lambda e: Described("closure", f"Case {_words(e.kind)}: {e.reason}"),
    PeriodOfCareEnded: lambda e: Described(
        "care", f"Period of care ended (SSDA903 reason {e.reason_code})"
    ),
    LookedAfterReviewHeld: lambda e: Described(
        "care", f"Looked-after review held on {e.review_on.isoformat()} ({e.review_code})"
    ),
    # ADR 0025: a child looked after, as the SSDA903 return gives it.
    # A child in need, as the CIN census records it (ADR 0026).
    ReferralReceived: lambda e: Described(
        "child_in_need",
        f"Referral received on {e.referral_on.isoformat()} (source {e.referral_source}, "
        f"primary need {e.primary_need})" + (": no further action" if e.no_further_action else ""),
        e.entry_id,
    ),
    AssessmentCompleted: lambda e: Described(
        "child_in_need",
        f"Assessment from {e.started_on.isoformat()} authorised on {e.authorised_on.isoformat()}"
        + (f" (factors {', '.join(e.factors)})" if e.factors else ""),
        e.entry_id,
    ),
    Section47EnquiryStarted: lambda e: Described(
        "child_in_need",
        f"Section 47 enquiry started on {e.started_on.isoformat()}"
        + (": an initial child protection conference is needed" if e.conference_required else ""),
        e.entry_id,
    ),
    InitialChildProtectionConferenceHeld: lambda e: Described(
        "child_in_need",
        f"Initial child protection conference held on {e.held_on.isoformat()}",
        e.entry_id,
    ),
    ChildProtectionPlanStarted: lambda e: Described(
        "child_in_need",
        f"Child protection plan started on {e.started_on.isoformat()} "
        f"(category {_words(e.category_of_abuse)})",
        e.entry_id,
    ),
    ChildProtectionPlanReviewed: lambda e: Described(
        "child_in_need",
        f"Child protection plan review conference {e.review_number} on {e.reviewed_on.isoformat()}",
        e.entry_id,
    ),
    ChildProtectionPlanEnded: lambda e: Described(
        "child_in_need",
        f"Child protection plan ended on {e.ended_on.isoformat()}"
        + (f", at review conference {e.at_review}" if e.at_review else ""),
        e.entry_id,
    ),
    ChildInNeedPlanStarted: lambda e: Described(
        "child_in_need", f"Child in need plan started on {e.started_on.isoformat()}", e.entry_id
    ),
    ChildInNeedEpisodeClosed: lambda e: Described(
        "child_in_need",
        f"Child in need episode closed on {e.closed_on.isoformat()} "
        f"(reason {e.reason_for_closure})",
        e.entry_id,
    ),
    CareBeganBeforeRecord: lambda e: Described(
        "care", "Already looked after when the imported record begins"
    ),
    MissingFromCareRecorded: lambda e: Described(
        "care",
        ("Missing from care" if e.missing == "M" else "Away from placement without authorisation")
        + f" from {e.started_on.isoformat()}"
        + (f" to {e.ended_on.isoformat()}" if e.ended_on else ", not yet back"),
    ),
    CareEpisodeCorrected: lambda e: Described(
        "care",
        f"Episode from {e.episode_started_on.isoformat()} corrected ({_words(e.corrects)}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(e.changes.items())),
    ),
    AdoptionOrderRecorded: lambda e: Described(
        "retention", f"Adoption order made on {e.order_made_on.isoformat()} [AAR-42]"
    ),
    ChildDeathRecorded: lambda e: Described(
        "retention", f"Death recorded: {e.died_on.isoformat()} [CPPCR-50]"
    ),
    CaseSupervisionRecorded: lambda e: Described(
        "case_supervision",
        f"Case supervision {e.entry_id} by {e.supervisor_id} with {e.worker_id}: decision "
        f"'{e.decision}'; child last seen {e.child_last_seen_on.isoformat()}; "
        f"{len(e.actions)} action(s)",
        e.entry_id,
        ((e.session_id,) if e.session_id else ()) + tuple(a.action_id for a in e.actions),
    ),
    OversightTriggered: _trigger,
    ManagementOversightRecorded: lambda e: Described(
        "management_oversight",
        f"Management oversight {e.entry_id} by {e.decision_maker_id} "
        f"({_words(e.decision_maker_role)}): decision '{e.decision}'; answers "
        f"{', '.join(e.answers_trigger_ids)}",
        e.entry_id,
        tuple(e.answers_trigger_ids) + tuple(a.action_id for a in e.actions),
    ),
    ManagementDecisionRecorded: lambda e: Described(
        "management_decision", f"Management decision {e.entry_id}: '{e.decision}'", e.entry_id
    ),
    ActionSet: lambda e: Described(
        "action",
        f"Action {e.action.action_id} set for {e.action.owner}, due {e.action.due_on.isoformat()}",
        e.action.action_id,
    ),
    ActionCompleted: lambda e: Described(
        "action", f"Action {e.action_id} completed: {e.note}", e.action_id
    ),
    ActionCarriedForward: lambda e: Described(
        "action",
        f"Action {e.action_id} carried forward to {e.new_due_on.isoformat()}: {e.rationale}",
        e.action_id,
    ),
    GroupSupervisionDiscussionRecorded: lambda e: Described(
        "group_supervision",
        f"Discussed in group supervision {e.group_session_id}",
        e.entry_id,
        (e.group_session_id,),
    ),
    EntrySignaturesVoided: lambda e: Described(
        "correction",
        f"Signatures on {e.entry_id} voided by its correction: the "
        f"{' and the '.join(_words(p) for p in e.voided)} must sign it again",
        e.entry_id,
    ),
    EntryCorrected: lambda e: Described(
        "correction",
        f"Entry {e.entry_id} corrected ({', '.join(sorted(e.changes))}): {e.reason}",
        e.entry_id,
    ),
    DisagreementRaised: lambda e: Described(
        "disagreement",
        f"Disagreement {e.disagreement_id} raised about {_words(e.subject)}: {e.about}",
        e.disagreement_id,
    ),
    DisagreementEscalated: lambda e: Described(
        "disagreement",
        f"Disagreement {e.disagreement_id} escalated to the {_words(e.level)}: {e.reason}",
        e.disagreement_id,
    ),
    DisagreementResolved: lambda e: Described(
        "disagreement",
        f"Disagreement {e.disagreement_id} resolved: {e.resolution}",
        e.disagreement_id,
    ),
    LegalHoldPlaced: lambda e: Described(
        "legal_hold", f"Legal hold {e.hold_id} placed ({_words(e.kind)}): {e.reference}", e.hold_id
    ),
    LegalHoldLifted: lambda e: Described(
        "legal_hold", f"Legal hold {e.hold_id} lifted: {e.reason}", e.hold_id
    ),
    RecordPurged: lambda e: Described(
        "purge", purged_summary(e), f"{e.record_class}:{e.record_id}"
    ),
    RecordAccessed: lambda e: Described(
        "access",
        f"{_words(e.kind).capitalize()} read: {e.what} (purpose: {e.purpose})",
        subject_id=str(e.subject_id),
    ),
    # Quality assurance (ADR 0023).
    SupervisionFileAudited: lambda e: Described(
        "quality_audit",
        f"Supervision file audited by {e.auditor_id} ({e.period_from.isoformat()} to "
        f"{e.period_to.isoformat()}): {e.judgement}",
        e.audit_id,
    ),
    CaseFileAudited: lambda e: Described(
        "quality_audit",
        f"Case supervision records audited by {e.auditor_id} ({e.period_from.isoformat()} to "
        f"{e.period_to.isoformat()}): {e.judgement}",
        e.audit_id,
    ),
    QualityAuditDisputed: lambda e: Described(
        "quality_audit", f"Audit {e.audit_id} disputed by {e.disputed_by}: {e.reasons}", e.audit_id
    ),
    QualityAuditModerated: lambda e: Described(
        "quality_audit",
        f"Audit {e.audit_id} moderated by {e.moderator_id}: "
        f"{'confirmed' if e.confirmed else 'changed to'} {e.judgement} ({e.rationale})",
        e.audit_id,
    ),
}

#: Events that carry no information for the trail (bookkeeping only).
IGNORED: frozenset[EventType] = frozenset({AccessLogOpened})

#: The rows whose rule is stored with them: a purge's, naming its retention rule (the
#: authority's own). Every other row cites what the subject's authority's pack cites for
#: its event class, looked up as it is read (``[citations]``, issue 19 item 3), so a
#: council's trail never cites another council's clause, and a pack's change shows.
STORED_RULES: frozenset[str] = frozenset({RecordPurged.__name__, ContentPurged.__name__})

#: A registration's ``audit_subjects`` row: the subject's kind, authority and local id
#: (for tenancy filters), by the registering event's class.
SUBJECT_ROWS: dict[EventType, Callable[[Any], dict[str, str]]] = {
    WorkerRegistered: lambda e: {
        "subject_kind": "worker",
        "authority_code": e.authority_code,
        "local_id": e.staff_id,
    },
    ChildRegistered: lambda e: {
        "subject_kind": "child",
        "authority_code": e.authority_code,
        "local_id": e.local_child_id,
    },
    AuthorityRegistered: lambda e: {
        "subject_kind": "authority",
        "authority_code": e.authority_code,
        "local_id": e.authority_code,
    },
}

#: What a purged event's row says until its ``RecordPurged`` (later in the log) names the
#: rule and the purge; only a rebuild between the two could show it.
PURGED_PENDING = "Content purged"


RECORD_WORDS = {
    "personal_supervision": "Personal supervision record",
    "direct_observation": "Direct observation record",
    "worker_file": "Personal file",
    "child_record": "Child's record",
    "access_log": "Access log",
}


def purged_summary(e: Any) -> str:
    """The tombstone's words: what was destroyed, under which rule, when and on whose
    authority; nothing of the content (ADR 0012)."""
    what = RECORD_WORDS.get(e.record_class, _words(e.record_class).capitalize())
    return (
        f"{what} {e.record_id} purged under "
        f"{e.rule_id} on {e.provenance.occurred_at.date().isoformat()} (due "
        f"{e.due_on.isoformat()}), authorised by {e.authorised_by}"
    )


def _purged_row_values(e: Any) -> dict[str, Any]:
    """Every column of a purged event's row that could hold its content, as the row
    reads once purged: a rebuild (from the tombstone) and the live runner (updating the
    original row) agree on each."""
    return {
        "event_type": ContentPurged.__name__,
        "kind": "purged",
        "summary": f"Content purged: {purged_summary(e)}",
        "actor_id": "",
        "actor_role": "",
        "command_id": "",
        "rule_ids": e.rule_id,
        "entry_ref": None,
        "imported": False,
    }


#: A subject's first event is its registration, in its whole record's class.
_REGISTRATIONS = {"worker_file": "worker", "child_record": "child"}


@dataclass
class AuditTrail:
    """The audit trail projection."""

    name: ClassVar[str] = "audit_trail"
    table_names: ClassVar[tuple[str, ...]] = ("audit_trail", "audit_refs", "audit_subjects")
    _defined: dict[int, dict[str, Table]] = field(default_factory=dict)

    def define_tables(self, metadata: MetaData, generation: int) -> dict[str, Table]:
        trail_name = generation_table_name("audit_trail", generation)
        refs_name = generation_table_name("audit_refs", generation)
        subjects_name = generation_table_name("audit_subjects", generation)
        trail = Table(
            trail_name,
            metadata,
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("subject_id", String(36), nullable=False),
            Column("event_type", String(80), nullable=False),
            Column("kind", String(40), nullable=False),
            Column("summary", Text, nullable=False),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("recorded_at", DateTime(timezone=True), nullable=False),
            Column("actor_id", String(200), nullable=False),
            Column("actor_role", String(50), nullable=False),
            Column("command_id", String(200), nullable=False),
            Column("rule_ids", String(200), nullable=True),
            Column("entry_ref", String(200), nullable=True),
            Column("imported", Boolean, nullable=False),
            Index(f"{trail_name}_subject", "subject_id", "position"),
            Index(f"{trail_name}_subject_ref", "subject_id", "entry_ref"),
        )
        refs = Table(
            refs_name,
            metadata,
            # Keyed by position first: appends stay cheap, and the subject lookup has
            # its own index (built after a bulk rebuild, ADR 0006).
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("ref", String(200), primary_key=True),
            Column("subject_id", String(36), nullable=False),
            Index(f"{refs_name}_subject_ref", "subject_id", "ref"),
        )
        subjects = Table(
            subjects_name,
            metadata,
            Column("subject_id", String(36), primary_key=True),
            Column("subject_kind", String(20), nullable=False),
            Column("authority_code", String(32), nullable=False),
            Column("local_id", String(64), nullable=False),
            Index(f"{subjects_name}_local", "authority_code", "subject_kind", "local_id"),
        )
        return {"audit_trail": trail, "audit_refs": refs, "audit_subjects": subjects}

    def handle(self, event: Any, notification: Notification) -> Sequence[Operation]:
        """An event's trail row, its subject's row if it registers one, and its refs:
        all chosen by its catalogue class, looked up once."""
        try:
            kind = kind_of(event)
        except UnknownEvent:  # outside the catalogue: on the trail as "other", by its name
            kind = type(event)
        if kind in IGNORED:
            return []
        if kind is ContentPurged:
            return self._tombstone(event, notification)
        name = kind.__name__
        describe = DESCRIBERS.get(kind)
        described = Described("other", _words(name)) if describe is None else describe(event)
        subject_id = described.subject_id or str(event.originator_id)
        provenance = event.provenance
        operations: list[Operation] = []
        subject_row = SUBJECT_ROWS.get(kind)
        if subject_row is not None:
            operations.append(
                Insert("audit_subjects", {"subject_id": subject_id, **subject_row(event)})
            )
        # A tuple in the table's column order (see define_tables): the rebuild's
        # hottest row, and COPY takes it as it is.
        operations.append(
            Insert(
                "audit_trail",
                (
                    notification.id,
                    subject_id,
                    name,
                    described.kind,
                    described.summary,
                    utc(provenance.occurred_at),
                    utc(event.timestamp),
                    provenance.actor_id,
                    provenance.actor_role,
                    provenance.command_id,
                    event.rule_id if kind is RecordPurged else None,
                    described.entry_ref,
                    provenance.imported,
                ),
            )
        )
        # The entry's own ref is on its trail row; only the entries it points at get
        # ``audit_refs`` rows (measured: a third fewer rows per rebuild, ADR 0006).
        if kind is RecordPurged:
            # The record's rows keep their place and times; what could hold content goes.
            positions = list(event.positions)
            values = {**_purged_row_values(event), "occurred_at": SameAs("recorded_at")}
            where = {"subject_id": subject_id, "position": positions}
            operations.append(Update("audit_trail", where, values))
            operations.append(Delete("audit_refs", where))
        entry_ref = described.entry_ref
        refs = dict.fromkeys(r for r in described.refs if r and r != entry_ref)
        for ref in refs:
            operations.append(
                Insert(
                    "audit_refs",
                    {"subject_id": subject_id, "ref": ref, "position": notification.id},
                )
            )
        return operations

    def _tombstone(self, event: Any, notification: Notification) -> list[Operation]:
        """A purged event (a rebuild after the purge): its row as the live runner left
        it, but for the words its ``RecordPurged`` fills in."""
        read = getattr(event, "subject_id", None)
        if read is not None and event.originator_version == 1:
            return []  # the access log's opening, which is not on the trail
        # A read's tombstone names the subject whose trail the read was on.
        subject_id = str(read or event.originator_id)
        operations: list[Operation] = []
        kind = _REGISTRATIONS.get(event.record_class) if event.originator_version == 1 else None
        if kind is not None:  # the registration: the subject stays findable by its id
            operations.append(
                Insert(
                    "audit_subjects",
                    {
                        "subject_id": subject_id,
                        "subject_kind": kind,
                        "authority_code": event.authority_code,
                        "local_id": event.record_id,
                    },
                )
            )
        recorded = utc(event.timestamp)
        operations.append(
            Insert(
                "audit_trail",
                (
                    notification.id,
                    subject_id,
                    ContentPurged.__name__,
                    "purged",
                    PURGED_PENDING,
                    recorded,
                    recorded,
                    "",
                    "",
                    "",
                    None,
                    None,
                    False,
                ),
            )
        )
        return operations


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    position: int
    subject_id: str
    event_type: str
    kind: str
    summary: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str
    actor_role: str
    command_id: str
    rule_ids: str | None
    entry_ref: str | None
    imported: bool
    related: tuple[int, ...] = ()


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """A pagination cursor that this API did not issue."""

    field = "after"


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, value = raw.split(":", 1)
        if prefix != "audit":
            raise ValueError(prefix)
        position = int(value)
        if position < 0:
            raise ValueError(value)
        return position
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("not a valid audit trail cursor") from error


_views = MetaData()
trail_view = Table(
    "audit_trail",
    _views,
    *[
        Column(c.name, c.type)
        for c in AuditTrail().define_tables(MetaData(), 0)["audit_trail"].columns
    ],
)
refs_view = Table(
    "audit_refs",
    _views,
    Column("subject_id", String(36)),
    Column("ref", String(200)),
    Column("position", BigInteger),
)
subjects_view = Table(
    "audit_subjects",
    _views,
    Column("subject_id", String(36)),
    Column("subject_kind", String(20)),
    Column("authority_code", String(32)),
    Column("local_id", String(64)),
)


def subject_trail(
    engine: Engine,
    *,
    authority_code: str,
    subject_kind: str,
    local_id: str,
    first: int = 50,
    after: str | None = None,
    kinds: Sequence[str] = (),
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    actor_id: str | None = None,
    library: PackLibrary | None = None,
) -> Page:
    """A subject's trail, oldest first, by keyset pagination on position. Each entry
    cites what the subject's authority's pack cites for its event (``library``: the
    packs it may have adopted; by default those the configured directories hold)."""
    if not 1 <= first <= 500:
        raise ValueError("first must be between 1 and 500")
    after_position = decode_cursor(after) if after is not None else None
    with engine.connect() as conn:
        citations = authority_citations(conn, authority_code, library)
        subject_id = conn.execute(
            select(subjects_view.c.subject_id).where(
                subjects_view.c.authority_code == authority_code,
                subjects_view.c.subject_kind == subject_kind,
                subjects_view.c.local_id == local_id,
            )
        ).scalar_one_or_none()
        if subject_id is None:
            return Page([], None)
        conditions = [trail_view.c.subject_id == subject_id]
        if after_position is not None:
            conditions.append(trail_view.c.position > after_position)
        if kinds:
            conditions.append(trail_view.c.kind.in_(list(kinds)))
        if occurred_from is not None:
            conditions.append(trail_view.c.occurred_at >= utc(occurred_from))
        if occurred_to is not None:
            conditions.append(trail_view.c.occurred_at < utc(occurred_to))
        if actor_id is not None:
            conditions.append(trail_view.c.actor_id == actor_id)
        rows = (
            conn.execute(
                select(trail_view)
                .where(and_(*conditions))
                .order_by(trail_view.c.position)
                .limit(first + 1)
            )
            .mappings()
            .all()
        )
        page = rows[:first]
        related = _related(conn, str(subject_id), [int(r["position"]) for r in page])
    entries = [_entry(r, related.get(int(r["position"]), ()), citations) for r in page]
    return Page(entries, encode_cursor(entries[-1].position) if len(rows) > first else None)


def trail_positions(
    *, authority_code: str, subject_kind: str, local_id: str, kinds: Sequence[str] = ()
) -> Select[Any]:
    """The positions of a subject's trail (of ``kinds``, if given), as a query a keyset
    pages over: an API cursor names a position in it, and ``subject_trail`` reads the
    entries of a page. A subject not in the authority has none."""
    subject = (
        select(subjects_view.c.subject_id)
        .where(
            subjects_view.c.authority_code == authority_code,
            subjects_view.c.subject_kind == subject_kind,
            subjects_view.c.local_id == local_id,
        )
        .scalar_subquery()
    )
    query = select(trail_view.c.position).where(trail_view.c.subject_id == subject)
    if kinds:
        query = query.where(trail_view.c.kind.in_(list(kinds)))
    return query


@cache
def _configured_packs(directories: str) -> PackLibrary:
    """The packs in the configured directories (built in, and OVERSIGHT_POLICY_PACKS),
    loaded once for each setting."""
    return PackLibrary.load()


def authority_citations(
    conn: Any, authority_code: str, library: PackLibrary | None = None
) -> Citations:
    """The citations of the pack ``authority_code`` has adopted (none: not known)."""
    packs = (
        library
        if library is not None
        else _configured_packs(os.environ.get("OVERSIGHT_POLICY_PACKS", ""))
    )
    pack = authority_context(conn, VIEWS, authority_code, packs).pack
    return pack.authority.citations if pack is not None else {}


def _entry(row: Any, related: tuple[int, ...], citations: Citations) -> AuditEntry:
    event_type = str(row["event_type"])
    rule_ids = (
        row["rule_ids"]
        if event_type in STORED_RULES
        else " ".join(citations.get(event_type, ())) or None
    )
    return AuditEntry(
        position=int(row["position"]),
        subject_id=str(row["subject_id"]),
        event_type=event_type,
        kind=str(row["kind"]),
        summary=str(row["summary"]),
        occurred_at=utc(row["occurred_at"]),
        recorded_at=utc(row["recorded_at"]),
        actor_id=str(row["actor_id"]),
        actor_role=str(row["actor_role"]),
        command_id=str(row["command_id"]),
        rule_ids=rule_ids,
        entry_ref=row["entry_ref"],
        imported=bool(row["imported"]),
        related=related,
    )


def _related(conn: Any, subject_id: str, positions: list[int]) -> dict[int, tuple[int, ...]]:
    """For each position, the other positions on this subject that share a ref with it.

    An entry's refs are its own ``entry_ref`` (on its trail row) and its ``audit_refs``
    rows (the entries it points at)."""
    if not positions:
        return {}
    refs = (
        select(trail_view.c.position, trail_view.c.entry_ref.label("ref"))
        .where(trail_view.c.subject_id == subject_id, trail_view.c.entry_ref.is_not(None))
        .union(
            select(refs_view.c.position, refs_view.c.ref).where(
                refs_view.c.subject_id == subject_id
            )
        )
        .subquery()
    )
    mine = refs.alias("mine")
    theirs = refs.alias("theirs")
    rows = conn.execute(
        select(mine.c.position, theirs.c.position)
        .join(
            theirs,
            and_(theirs.c.ref == mine.c.ref, theirs.c.position != mine.c.position),
        )
        .where(mine.c.position.in_(positions))
    ).all()
    linked: dict[int, set[int]] = {}
    for own, other in rows:
        linked.setdefault(int(own), set()).add(int(other))
    return {k: tuple(sorted(v)) for k, v in linked.items()}


def subject_entries(
    engine: Engine,
    subject_id: str,
    authority_code: str,
    *,
    library: PackLibrary | None = None,
) -> list[AuditEntry]:
    """Every entry of one subject's trail, oldest first, each citing its authority's pack
    (as ``subject_trail``), without the links between entries: what a chronology reads
    (issue 24), in one statement rather than a page at a time."""
    with engine.connect() as conn:
        citations = authority_citations(conn, authority_code, library)
        rows = (
            conn.execute(
                select(trail_view)
                .where(trail_view.c.subject_id == subject_id)
                .order_by(trail_view.c.position)
            )
            .mappings()
            .all()
        )
    return [_entry(r, (), citations) for r in rows]


def subjects_of(engine: Engine, authority_code: str, subject_kind: str) -> list[str]:
    """The local ids of an authority's subjects of one kind (children, workers) that the
    trail knows, sorted: what a read across children starts from (issue 24)."""
    with engine.connect() as conn:
        found = conn.execute(
            select(subjects_view.c.local_id).where(
                subjects_view.c.authority_code == authority_code,
                subjects_view.c.subject_kind == subject_kind,
            )
        ).scalars()
        return sorted({str(local_id) for local_id in found})
