"""The event catalogue: every event a Worker, Child, Authority or access log records.

Each event is a class with typed fields, a schema version and, from version 2, an upcaster
path. The aggregates trigger these classes: an aggregate names the class as its own
attribute and decorates a method with ``@event(SupervisionSessionHeld)``, and the
``eventsourcing`` library subclasses it as ``Worker.SupervisionSessionHeld`` (with the
aggregate's event base) and stores it under that topic. Projections, policy, registers and
history identify events by these classes, never by a string. Use ``kind_of(event)`` for
the catalogue class of a decoded event, and ``named(name)`` for the class a stored or
configured name denotes.

How to change an event
----------------------
A stored event is never rewritten, so its shape is fixed once an event of it is stored.
Never edit the fields of a class in place (add, remove, rename or retype one). Instead:

1. bump ``class_version`` (``1`` -> ``2``) and give the class its new fields;
2. add a static method ``upcast_v1_v2(state: dict[str, Any]) -> None`` that turns the
   stored state of version 1 into version 2 in place (default a new field, rename a key);
   the library's ``Mapper.to_domain_event`` runs ``upcast_v1_v2``, ``upcast_v2_v3``...
   in turn on every older stored event before it decodes it, and stores new events with
   their ``class_version``;
3. add a stored event of the old version to the test of the upcaster path
   (``tests/domain/test_events.py``), and keep ``tests/test_stored_events.py`` green.

Never rename a class (its name is in every stored topic) or move one off its aggregate;
a new meaning is a new class. Every class states ``class_version`` explicitly, so a reader
sees at once which shape is current.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.provenance import Provenance
from domain.values import SmartAction

#: A catalogue class (what ``named`` and ``kind_of`` return).
EventType = type[Aggregate.Event]


class UnknownEvent(LookupError):
    """A name that is not in the catalogue (e.g. a policy pack's misspelt event)."""


class OversightEvent(Aggregate.Event):
    """An event recorded on an aggregate after its registration."""

    #: The version of its stored shape; older stored events are upcast to it on decoding.
    class_version: ClassVar[int] = 1


class SubjectEvent(OversightEvent):
    """An event any subject (worker, child, authority) may record."""


class AuthorityEvent(OversightEvent):
    """An event on an authority."""


class WorkerEvent(OversightEvent):
    """An event on a worker."""


class ChildEvent(OversightEvent):
    """An event on a child."""


class AccessEvent(OversightEvent):
    """An event on a subject's access log."""


class Registration(Aggregate.Created):
    """The event that registers an aggregate."""

    #: The version of its stored shape; older stored events are upcast to it on decoding.
    class_version: ClassVar[int] = 1


# -- Every subject (worker, child, authority) ----------------------------------


class ContentPurged(SubjectEvent):
    """What an event of a purged record reads as: the record, nothing of the event [DUR-4.9]."""

    class_version = 1

    record_class: str
    record_id: str
    authority_code: str


class EntrySignaturesVoided(SubjectEvent):
    """A correction voided a signed entry's signatures until each party re-signs [DUR-4.7a]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    voided: list[str]


class EntryCorrected(SubjectEvent):
    """An entry's fields superseded with a reason; the original stays on record [DUR-4.7b]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    changes: dict[str, Any]
    reason: str


class DisagreementRaised(SubjectEvent):
    """A worker disagrees with a decision or a record [DUR-4.10, SHR-APP1d, POR-3.1a]."""

    class_version = 1

    provenance: Provenance
    disagreement_id: str
    subject: str
    about: str


class DisagreementEscalated(SubjectEvent):
    """A disagreement moved to the next level of its escalation chain [DUR-4.10, SHR-APP1d]."""

    class_version = 1

    provenance: Provenance
    disagreement_id: str
    level: str
    reason: str


class DisagreementResolved(SubjectEvent):
    """The level holding a disagreement resolved it [DUR-4.10, SHR-APP1d]."""

    class_version = 1

    provenance: Provenance
    disagreement_id: str
    resolution: str


class LegalHoldPlaced(SubjectEvent):
    """A legal hold (litigation, inquiry, review) blocks purging the subject's records."""

    class_version = 1

    provenance: Provenance
    hold_id: str
    kind: str
    reference: str


class LegalHoldLifted(SubjectEvent):
    """A legal hold ended: the subject's records fall due again [DUR-4.9]."""

    class_version = 1

    provenance: Provenance
    hold_id: str
    reason: str


class RecordPurged(SubjectEvent):
    """A record past its retention period was destroyed, under which rule [DUR-4.9, POR-6.2d]."""

    class_version = 1

    provenance: Provenance
    record_class: str
    record_id: str
    rule_id: str
    due_on: date
    positions: list[int]
    authorised_by: str
    authority_code: str


# -- An authority --------------------------------------------------------------


class AuthorityRegistered(Registration):
    """A local authority became a tenant, holding its records against a policy pack."""

    class_version = 1

    provenance: Provenance
    authority_code: str
    name: str
    policy_pack: str


class PolicyPackAdopted(AuthorityEvent):
    """The authority now holds its records against another policy pack."""

    class_version = 1

    provenance: Provenance
    policy_pack: str


class ClosureDayAdded(AuthorityEvent):
    """A day the authority is closed, which does not count as a working day for its deadlines."""

    class_version = 1

    provenance: Provenance
    day: date
    reason: str


# -- A worker ------------------------------------------------------------------


class WorkerRegistered(Registration):
    """A worker joined: role, team, line manager, working pattern [DEV-4.1b, SHR-3.6c]."""

    class_version = 1

    provenance: Provenance
    authority_code: str
    staff_id: str
    display_name: str
    role: str
    team: str
    line_manager_id: str | None
    employment_pattern: str
    fte: Decimal
    weekly_hours: Decimal | None
    engagement: str
    start_date: date
    case_holding: bool
    nqsw_asye_start: date | None


class WorkerRoleChanged(WorkerEvent):
    """A worker took a new role, which may change the supervision due [SHR-3.6c]."""

    class_version = 1

    provenance: Provenance
    role: str


class WorkerTeamChanged(WorkerEvent):
    """A worker moved to another team."""

    class_version = 1

    provenance: Provenance
    team: str


class LineManagerChanged(WorkerEvent):
    """A worker's line manager changed (where disagreements escalate) [DUR-4.10]."""

    class_version = 1

    provenance: Provenance
    line_manager_id: str


class WorkingPatternChanged(WorkerEvent):
    """A worker's hours changed, which sets their supervision frequency [DEV-4.1b, DUR-4.2]."""

    class_version = 1

    provenance: Provenance
    employment_pattern: str
    fte: Decimal
    weekly_hours: Decimal | None


class WorkerLeftEmployment(WorkerEvent):
    """A worker left: their file's retention runs from the last day [POR-6.2d, SHR-5.7]."""

    class_version = 1

    provenance: Provenance
    last_day: date
    reason: str


class SupervisionAgreementSignedByOneParty(WorkerEvent):
    """One party signed a supervision agreement's terms [POR-5.1, SHR-APP1]."""

    class_version = 1

    provenance: Provenance
    agreement_id: str
    signatory: str
    signed_on: date
    supervisor_id: str
    frequency: str
    supervision_format: str
    review_due_on: date
    escalation_manager_id: str


class SupervisionAgreementSigned(WorkerEvent):
    """Supervisor and supervisee both signed a supervision agreement [POR-5.1, DUR-4.1]."""

    class_version = 1

    provenance: Provenance
    agreement_id: str
    supervisor_id: str
    frequency: str
    supervision_format: str
    review_due_on: date
    escalation_manager_id: str
    supervisor_signed_on: date
    supervisee_signed_on: date


class SupervisionAgreementReviewed(WorkerEvent):
    """A supervision agreement was reviewed and its next review set [DUR-4.11, BUR-SA]."""

    class_version = 1

    provenance: Provenance
    agreement_id: str
    next_review_due_on: date
    supervisee_feedback: str | None


class SupervisionFrequencyExceptionApproved(WorkerEvent):
    """A Head of Service approved supervision less often than the standard frequency [POR-3.1a]."""

    class_version = 1

    provenance: Provenance
    frequency: str
    reason: str
    agreement_id: str


class SupervisionSessionScheduled(WorkerEvent):
    """A personal supervision session was booked with a supervisor [DUR-4.2]."""

    class_version = 1

    provenance: Provenance
    session_id: str
    supervisor_id: str
    scheduled_for: datetime


class SupervisionSessionCancelled(WorkerEvent):
    """A booked supervision session was cancelled, by whom and why [DUR-4.4]."""

    class_version = 1

    provenance: Provenance
    session_id: str
    reason: str
    cancelled_by: str


class SupervisionSessionRescheduled(WorkerEvent):
    """A booked supervision session was moved to a new time [DUR-4.4]."""

    class_version = 1

    provenance: Provenance
    session_id: str
    new_scheduled_for: datetime
    reason: str


class SupervisionSessionHeld(WorkerEvent):
    """Personal supervision took place: functions, wellbeing, children [DUR-4.2, DUR-4.3]."""

    class_version = 1

    provenance: Provenance
    session_id: str
    supervisor_id: str
    duration_minutes: int
    functions_covered: list[str]
    wellbeing_discussed: bool
    equality_and_diversity_discussed: bool
    children_discussed: list[str]


class PersonalSupervisionRecordWritten(WorkerEvent):
    """The supervisor wrote a held session's personal record [POR-6.2b, DUR-4.7a]."""

    class_version = 1

    provenance: Provenance
    record_id: str
    session_id: str
    supervisor_id: str
    actions_reviewed: str
    wellbeing: str
    workload: str
    development: str
    disagreements: str | None
    agreed_actions: list[SmartAction]


class PersonalSupervisionRecordSigned(WorkerEvent):
    """A party signed a personal record, or stated a differing view [POR-6.2a, DUR-4.7a]."""

    class_version = 1

    provenance: Provenance
    record_id: str
    signatory: str
    confirmed: bool
    differing_view: str | None


class PersonalRecordCommentRemoved(WorkerEvent):
    """The supervisor's manager removed a comment from a personal record [DUR-4.8b]."""

    class_version = 1

    provenance: Provenance
    record_id: str
    field_name: str
    reason: str


class AbsenceStarted(WorkerEvent):
    """A worker's absence began, changing the supervision due [POR-3.1e, DUR-4.4, DUR-4.5]."""

    class_version = 1

    provenance: Provenance
    absence_id: str
    kind: str
    started_on: date


class AbsenceEnded(WorkerEvent):
    """A worker returned from absence (a return supervision may fall due) [DUR-4.5]."""

    class_version = 1

    provenance: Provenance
    absence_id: str
    returned_on: date


class GroupSupervisionAttended(WorkerEvent):
    """A worker attended a team's group session, of ``session_kind`` [DEV-7, DUR-5, POR-3.3]."""

    class_version = 2

    provenance: Provenance
    group_session_id: str
    facilitator_id: str
    topic: str
    session_kind: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Before version 2 every group session recorded was group supervision."""
        state["session_kind"] = "group_supervision"


class DirectObservationRecorded(WorkerEvent):
    """An observer recorded a direct observation of the worker's practice [DUR-6]."""

    class_version = 1

    provenance: Provenance
    observation_id: str
    observer_id: str
    summary: str


class DirectObservationSigned(WorkerEvent):
    """A party signed a direct observation [DUR-6]."""

    class_version = 1

    provenance: Provenance
    observation_id: str
    signatory: str


class AppraisalHeld(WorkerEvent):
    """A worker's appraisal or review was held [DEV-8, DUR-7, POR-4, BUR-ER]."""

    class_version = 1

    provenance: Provenance
    appraisal_id: str
    kind: str


class ChildAddedToCaseload(WorkerEvent):
    """A child's case came onto the worker's caseload (kept in step with the child's allocation)."""

    class_version = 1

    provenance: Provenance
    child_id: str


class ChildRemovedFromCaseload(WorkerEvent):
    """A child's case left the worker's caseload (reallocated or closed)."""

    class_version = 1

    provenance: Provenance
    child_id: str


# -- A child -------------------------------------------------------------------


class ChildRegistered(Registration):
    """A child became known: case type, risk level and RAG rating [DEV-5.1b, DEV-5.1c]."""

    class_version = 1

    provenance: Provenance
    authority_code: str
    local_child_id: str
    date_of_birth: date | None
    expected_date_of_birth: date | None
    case_type: str
    risk_level: str
    rag: str | None
    name: str | None


class WorkerAllocated(ChildEvent):
    """A child was allocated to a practitioner, with the SSDA903 change reason [DEV-6 (1)]."""

    class_version = 1

    provenance: Provenance
    worker_id: str
    reason: str
    team: str


class TeamAllocated(ChildEvent):
    """A child's case was allocated to a team."""

    class_version = 1

    provenance: Provenance
    team: str


class CaseTypeChanged(ChildEvent):
    """A child's case type changed, which sets its case-supervision frequency [DEV-5.1b]."""

    class_version = 1

    provenance: Provenance
    case_type: str


class ThresholdChanged(ChildEvent):
    """A child's threshold of need changed [DEV-6 (9)]."""

    class_version = 1

    provenance: Provenance
    threshold: str


class RiskLevelChanged(ChildEvent):
    """A child's risk level or RAG rating changed [DEV-5.1b, DEV-5.1c, DUR-4.6a]."""

    class_version = 1

    provenance: Provenance
    risk_level: str
    rag: str | None


class LegalStatusChanged(ChildEvent):
    """A looked-after child's legal status changed (SSDA903 legal status)."""

    class_version = 1

    provenance: Provenance
    legal_status: str


class ChildCameIntoCare(ChildEvent):
    """A child came into care, with legal status and placement [DEV-6 (4)]."""

    class_version = 1

    provenance: Provenance
    legal_status: str
    placement: str


class PlacementChanged(ChildEvent):
    """A looked-after child's placement changed (SSDA903 placement)."""

    class_version = 1

    provenance: Provenance
    placement: str
    reason: str


class ChildReturnedHome(ChildEvent):
    """A looked-after child returned home [DEV-6 (7)]."""

    class_version = 1

    provenance: Provenance
    reason: str


class PeriodOfCareEnded(ChildEvent):
    """A period of care ended other than by returning home (SSDA903 reason code)."""

    class_version = 1

    provenance: Provenance
    reason_code: str


class LookedAfterReviewHeld(ChildEvent):
    """A looked-after child's review was held (SSDA903 reviews)."""

    class_version = 1

    provenance: Provenance
    review_on: date
    review_code: str


class CaseClosed(ChildEvent):
    """A child's case closed, transferred or stepped across to early help [DEV-6 (13), RET-CIN]."""

    class_version = 1

    provenance: Provenance
    kind: str
    reason: str


class AdoptionOrderRecorded(ChildEvent):
    """An adoption order was made: the record is kept 100 years from it [AAR-42]."""

    class_version = 1

    provenance: Provenance
    order_made_on: date


class ChildDeathRecorded(ChildEvent):
    """The child died: retention runs from the death if under 18 [CPPCR-50]."""

    class_version = 1

    provenance: Provenance
    died_on: date


class CaseSupervisionRecorded(ChildEvent):
    """Case supervision of a child: views, analysis, decision, actions [DEV-5.3, POR-6.1]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    worker_id: str
    supervisor_id: str
    session_id: str | None
    current_situation: str
    child_last_seen_on: date
    childs_views: str
    reflection: str
    analysis: str
    decision: str
    rationale: str
    actions: list[SmartAction]
    previous_actions_reviewed: str | None


class OversightTriggered(ChildEvent):
    """A key point needing a manager's oversight record arose [DEV-6]."""

    class_version = 1

    provenance: Provenance
    trigger_id: str
    kind: str
    automatic: bool
    detail: str | None
    incident_dates: list[date]


class ManagementOversightRecorded(ChildEvent):
    """A manager's oversight record answering one or more triggers [DEV-6g]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    answers_trigger_ids: list[str]
    reason: str
    current_situation: str
    decision: str
    rationale: str
    actions: list[SmartAction]
    decision_maker_id: str
    decision_maker_role: str


class ManagementDecisionRecorded(ChildEvent):
    """A management decision recorded on a manager's instruction [POR-3.3, BUR-AH]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    decision: str
    rationale: str
    consulted_by: str
    recorded_by_instruction_of: str


class ActionSet(ChildEvent):
    """A SMART action was set on a child's plan [POR-6.1, DEV-5.3]."""

    class_version = 1

    provenance: Provenance
    action: SmartAction


class ActionCompleted(ChildEvent):
    """An action on a child's plan was completed [POR-6.1]."""

    class_version = 1

    provenance: Provenance
    action_id: str
    note: str


class ActionCarriedForward(ChildEvent):
    """An action on a child's plan was carried to a new due date, with why [POR-6.1]."""

    class_version = 1

    provenance: Provenance
    action_id: str
    rationale: str
    new_due_on: date


class GroupSupervisionDiscussionRecorded(ChildEvent):
    """A child's case was discussed in group supervision [DEV-7, DUR-5]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    group_session_id: str
    facilitator_id: str
    summary: str


# -- A child in need: the DfE CIN census (ADR 0026) -----------------------------------
# Each census module is an entry on the child (``entry_id``: the importer makes it from
# the child and the module's own dates), which a corrected census corrects in place.


class ReferralReceived(ChildEvent):
    """A referral opened a child-in-need episode: its date, source and primary need."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    referral_on: date
    referral_source: str
    primary_need: str
    no_further_action: bool


class AssessmentCompleted(ChildEvent):
    """An assessment in the episode was authorised, with the factors it identified."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    episode_id: str
    started_on: date
    authorised_on: date
    factors: list[str]


class Section47EnquiryStarted(ChildEvent):
    """A section 47 enquiry began, and whether it needs an initial conference."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    episode_id: str
    started_on: date
    conference_required: bool


class InitialChildProtectionConferenceHeld(ChildEvent):
    """An initial child protection conference was held (``DateOfInitialCPC``)."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    episode_id: str
    held_on: date


class ChildProtectionPlanStarted(ChildEvent):
    """A child protection plan began: the case is child protection [DEV-5.1b, BUR-SD]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    episode_id: str
    started_on: date
    category_of_abuse: str


class ChildProtectionPlanReviewed(ChildEvent):
    """A review conference of a child protection plan (``CPPreviewDate``), numbered from 1."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    reviewed_on: date
    review_number: int


class ChildProtectionPlanEnded(ChildEvent):
    """A child protection plan ended, at its review conference ``at_review`` [DEV-6 (11)]."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    ended_on: date
    at_review: int | None


class ChildInNeedPlanStarted(ChildEvent):
    """A child-in-need plan began (``CINPlanStartDate``)."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    episode_id: str
    started_on: date


class ChildInNeedEpisodeClosed(ChildEvent):
    """A child-in-need episode closed (``CINclosureDate``, ``ReasonForClosure`` RC1-RC8)."""

    class_version = 1

    provenance: Provenance
    entry_id: str
    closed_on: date
    reason_for_closure: str


# -- end of the CIN census events --------------------------------------------------------


# -- A child looked after, as the SSDA903 return gives it (issue 21, ADR 0025) -----------


class CareBeganBeforeRecord(ChildEvent):
    """Already looked after when an imported record begins (SSDA903 first RNE not S)."""

    class_version = 1

    provenance: Provenance


class MissingFromCareRecorded(ChildEvent):
    """A looked-after child was missing (M) or away without authorisation (A) (SSDA903 missing)."""

    class_version = 1

    provenance: Provenance
    missing: str
    started_on: date
    ended_on: date | None


class CareEpisodeCorrected(ChildEvent):
    """An imported episode of care corrected by a later return of it; the original stays."""

    class_version = 1

    provenance: Provenance
    episode_started_on: date
    corrects: str
    changes: dict[str, str]
    current: bool


# -- A subject's access log ----------------------------------------------------


class AccessLogOpened(Registration):
    """A subject's access log began, at its first read [DUR-4.8a, DUR-4.8c, POR-6.2c]."""

    class_version = 1

    subject_id: UUID
    authority_code: str
    provenance: Provenance


class RecordAccessed(AccessEvent):
    """Someone read a child's record or a worker's file, what and why [DUR-4.8a, POR-6.2c]."""

    class_version = 1

    provenance: Provenance
    subject_id: UUID
    kind: str
    what: str
    purpose: str


# -- quality assurance: audits of supervision and case files [SHR-5.8, POR-7, DUR-7] ------


class SupervisionFileAudited(WorkerEvent):
    """A supervision file audited with the authority's tool, and graded [SHR-5.8, DUR-7]."""

    class_version = 1

    provenance: Provenance
    audit_id: str
    #: The caller who audited (the actor, never a request field).
    auditor_id: str
    supervisor_id: str | None
    file_role: str
    period_from: date
    period_to: date
    answers: dict[str, bool]
    judgement: str
    comment: str


class CaseFileAudited(ChildEvent):
    """A child's case supervision records audited: a dip-sample [POR-7, SHR-5.8]."""

    class_version = 1

    provenance: Provenance
    audit_id: str
    #: The caller who audited (the actor, never a request field).
    auditor_id: str
    worker_id: str | None
    supervisor_id: str | None
    period_from: date
    period_to: date
    answers: dict[str, bool]
    judgement: str
    comment: str


class QualityAuditDisputed(SubjectEvent):
    """The audited worker or their supervisor disputed an audit, with reasons [SHR-5.8]."""

    class_version = 1

    provenance: Provenance
    audit_id: str
    disputed_by: str
    reasons: str


class QualityAuditModerated(SubjectEvent):
    """A moderator confirmed or changed an audit's overall judgement, with why [SHR-5.8]."""

    class_version = 1

    provenance: Provenance
    audit_id: str
    moderator_id: str
    judgement: str
    confirmed: bool
    rationale: str


def _catalogue() -> dict[str, EventType]:
    bases = {OversightEvent, SubjectEvent, AuthorityEvent, WorkerEvent, ChildEvent, AccessEvent}
    return {
        name: value
        for name, value in globals().items()
        if isinstance(value, type)
        and issubclass(value, (OversightEvent, Registration))
        and value not in bases
        and value is not Registration
    }


#: Every event, by its name.
CATALOGUE: Mapping[str, EventType] = _catalogue()

#: Events no aggregate method triggers: the purge writes them in place of the stored
#: events of a purged record (the application's purge, ``application/purge_plan.py``, ADR 0012).
STORED_ONLY: frozenset[EventType] = frozenset({ContentPurged})


def named(name: str) -> EventType:
    """The catalogue class a stored or configured event name denotes."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownEvent(f"{name!r} is not an event in the catalogue") from None


@cache
def _kind_of_type(event_type: type) -> EventType:
    for cls in event_type.__mro__:
        if CATALOGUE.get(cls.__name__) is cls:
            return cls
    return named(event_type.__name__)


def kind_of(event: object) -> EventType:
    """The catalogue class of a decoded event (or of an event class)."""
    return _kind_of_type(event if isinstance(event, type) else type(event))
