"""The event catalogue: every event a Worker, Child, Authority or access log records.

Each event is a class with typed fields. The aggregates trigger these classes (the
``eventsourcing`` library stores each under its aggregate's topic); projections, policy,
registers and history identify events by these classes, never by a string.

Use ``kind_of(event)`` for the catalogue class of a decoded event (the aggregates
subclass these), and ``named(name)`` for the class a stored or configured name denotes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
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


# -- Every subject (worker, child, authority) ----------------------------------


class ContentPurged(SubjectEvent):
    """ContentPurged."""

    record_class: str
    record_id: str
    authority_code: str


class EntrySignaturesVoided(SubjectEvent):
    """EntrySignaturesVoided."""

    provenance: Provenance
    entry_id: str
    voided: list[str]


class EntryCorrected(SubjectEvent):
    """EntryCorrected."""

    provenance: Provenance
    entry_id: str
    changes: dict[str, Any]
    reason: str


class DisagreementRaised(SubjectEvent):
    """DisagreementRaised."""

    provenance: Provenance
    disagreement_id: str
    subject: str
    about: str


class DisagreementEscalated(SubjectEvent):
    """DisagreementEscalated."""

    provenance: Provenance
    disagreement_id: str
    level: str
    reason: str


class DisagreementResolved(SubjectEvent):
    """DisagreementResolved."""

    provenance: Provenance
    disagreement_id: str
    resolution: str


class LegalHoldPlaced(SubjectEvent):
    """LegalHoldPlaced."""

    provenance: Provenance
    hold_id: str
    kind: str
    reference: str


class LegalHoldLifted(SubjectEvent):
    """LegalHoldLifted."""

    provenance: Provenance
    hold_id: str
    reason: str


class RecordPurged(SubjectEvent):
    """RecordPurged."""

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
    """AuthorityRegistered."""

    provenance: Provenance
    authority_code: str
    name: str
    policy_pack: str


class PolicyPackAdopted(AuthorityEvent):
    """PolicyPackAdopted."""

    provenance: Provenance
    policy_pack: str


class ClosureDayAdded(AuthorityEvent):
    """ClosureDayAdded."""

    provenance: Provenance
    day: date
    reason: str


# -- A worker ------------------------------------------------------------------


class WorkerRegistered(Registration):
    """WorkerRegistered."""

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
    """WorkerRoleChanged."""

    provenance: Provenance
    role: str


class WorkerTeamChanged(WorkerEvent):
    """WorkerTeamChanged."""

    provenance: Provenance
    team: str


class LineManagerChanged(WorkerEvent):
    """LineManagerChanged."""

    provenance: Provenance
    line_manager_id: str


class WorkingPatternChanged(WorkerEvent):
    """WorkingPatternChanged."""

    provenance: Provenance
    employment_pattern: str
    fte: Decimal
    weekly_hours: Decimal | None


class WorkerLeftEmployment(WorkerEvent):
    """WorkerLeftEmployment."""

    provenance: Provenance
    last_day: date
    reason: str


class SupervisionAgreementSignedByOneParty(WorkerEvent):
    """SupervisionAgreementSignedByOneParty."""

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
    """SupervisionAgreementSigned."""

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
    """SupervisionAgreementReviewed."""

    provenance: Provenance
    agreement_id: str
    next_review_due_on: date
    supervisee_feedback: str | None


class SupervisionFrequencyExceptionApproved(WorkerEvent):
    """SupervisionFrequencyExceptionApproved."""

    provenance: Provenance
    frequency: str
    reason: str
    agreement_id: str


class SupervisionSessionScheduled(WorkerEvent):
    """SupervisionSessionScheduled."""

    provenance: Provenance
    session_id: str
    supervisor_id: str
    scheduled_for: datetime


class SupervisionSessionCancelled(WorkerEvent):
    """SupervisionSessionCancelled."""

    provenance: Provenance
    session_id: str
    reason: str
    cancelled_by: str


class SupervisionSessionRescheduled(WorkerEvent):
    """SupervisionSessionRescheduled."""

    provenance: Provenance
    session_id: str
    new_scheduled_for: datetime
    reason: str


class SupervisionSessionHeld(WorkerEvent):
    """SupervisionSessionHeld."""

    provenance: Provenance
    session_id: str
    supervisor_id: str
    duration_minutes: int
    functions_covered: list[str]
    wellbeing_discussed: bool
    equality_and_diversity_discussed: bool
    children_discussed: list[str]


class PersonalSupervisionRecordWritten(WorkerEvent):
    """PersonalSupervisionRecordWritten."""

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
    """PersonalSupervisionRecordSigned."""

    provenance: Provenance
    record_id: str
    signatory: str
    confirmed: bool
    differing_view: str | None


class PersonalRecordCommentRemoved(WorkerEvent):
    """PersonalRecordCommentRemoved."""

    provenance: Provenance
    record_id: str
    field_name: str
    reason: str


class AbsenceStarted(WorkerEvent):
    """AbsenceStarted."""

    provenance: Provenance
    absence_id: str
    kind: str
    started_on: date


class AbsenceEnded(WorkerEvent):
    """AbsenceEnded."""

    provenance: Provenance
    absence_id: str
    returned_on: date


class GroupSupervisionAttended(WorkerEvent):
    """GroupSupervisionAttended."""

    provenance: Provenance
    group_session_id: str
    facilitator_id: str
    topic: str


class DirectObservationRecorded(WorkerEvent):
    """DirectObservationRecorded."""

    provenance: Provenance
    observation_id: str
    observer_id: str
    summary: str


class DirectObservationSigned(WorkerEvent):
    """DirectObservationSigned."""

    provenance: Provenance
    observation_id: str
    signatory: str


class AppraisalHeld(WorkerEvent):
    """AppraisalHeld."""

    provenance: Provenance
    appraisal_id: str
    kind: str


class ChildAddedToCaseload(WorkerEvent):
    """ChildAddedToCaseload."""

    provenance: Provenance
    child_id: str


class ChildRemovedFromCaseload(WorkerEvent):
    """ChildRemovedFromCaseload."""

    provenance: Provenance
    child_id: str


# -- A child -------------------------------------------------------------------


class ChildRegistered(Registration):
    """ChildRegistered."""

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
    """WorkerAllocated."""

    provenance: Provenance
    worker_id: str
    reason: str
    team: str


class TeamAllocated(ChildEvent):
    """TeamAllocated."""

    provenance: Provenance
    team: str


class CaseTypeChanged(ChildEvent):
    """CaseTypeChanged."""

    provenance: Provenance
    case_type: str


class ThresholdChanged(ChildEvent):
    """ThresholdChanged."""

    provenance: Provenance
    threshold: str


class RiskLevelChanged(ChildEvent):
    """RiskLevelChanged."""

    provenance: Provenance
    risk_level: str
    rag: str | None


class LegalStatusChanged(ChildEvent):
    """LegalStatusChanged."""

    provenance: Provenance
    legal_status: str


class ChildCameIntoCare(ChildEvent):
    """ChildCameIntoCare."""

    provenance: Provenance
    legal_status: str
    placement: str


class PlacementChanged(ChildEvent):
    """PlacementChanged."""

    provenance: Provenance
    placement: str
    reason: str


class ChildReturnedHome(ChildEvent):
    """ChildReturnedHome."""

    provenance: Provenance
    reason: str


class PeriodOfCareEnded(ChildEvent):
    """PeriodOfCareEnded."""

    provenance: Provenance
    reason_code: str


class LookedAfterReviewHeld(ChildEvent):
    """LookedAfterReviewHeld."""

    provenance: Provenance
    review_on: date
    review_code: str


class CaseClosed(ChildEvent):
    """CaseClosed."""

    provenance: Provenance
    kind: str
    reason: str


class AdoptionOrderRecorded(ChildEvent):
    """AdoptionOrderRecorded."""

    provenance: Provenance
    order_made_on: date


class ChildDeathRecorded(ChildEvent):
    """ChildDeathRecorded."""

    provenance: Provenance
    died_on: date


class CaseSupervisionRecorded(ChildEvent):
    """CaseSupervisionRecorded."""

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
    """OversightTriggered."""

    provenance: Provenance
    trigger_id: str
    kind: str
    automatic: bool
    detail: str | None
    incident_dates: list[date]


class ManagementOversightRecorded(ChildEvent):
    """ManagementOversightRecorded."""

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
    """ManagementDecisionRecorded."""

    provenance: Provenance
    entry_id: str
    decision: str
    rationale: str
    consulted_by: str
    recorded_by_instruction_of: str


class ActionSet(ChildEvent):
    """ActionSet."""

    provenance: Provenance
    action: SmartAction


class ActionCompleted(ChildEvent):
    """ActionCompleted."""

    provenance: Provenance
    action_id: str
    note: str


class ActionCarriedForward(ChildEvent):
    """ActionCarriedForward."""

    provenance: Provenance
    action_id: str
    rationale: str
    new_due_on: date


class GroupSupervisionDiscussionRecorded(ChildEvent):
    """GroupSupervisionDiscussionRecorded."""

    provenance: Provenance
    entry_id: str
    group_session_id: str
    facilitator_id: str
    summary: str


# -- A subject's access log ----------------------------------------------------


class AccessLogOpened(Registration):
    """AccessLogOpened."""

    subject_id: UUID
    authority_code: str
    provenance: Provenance


class RecordAccessed(AccessEvent):
    """RecordAccessed."""

    provenance: Provenance
    subject_id: UUID
    kind: str
    what: str
    purpose: str


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
