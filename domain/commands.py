"""Commands: what a caller asks for, as plain data. Each carries its idempotency key.

Adapters (GraphQL, CLI, importers) build these from primitives; the application runs
them. A ``WorkerCommand`` or ``ChildCommand`` names the aggregate method it invokes, and
its own fields (beyond the common ones) are that method's arguments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from domain.provenance import Actor, Provenance


@dataclass(frozen=True, kw_only=True)
class Command:
    """Common to every command: the idempotency key, the actor and the valid time."""

    command_id: str
    actor: Actor
    occurred_at: datetime
    #: Declared historic import: may predate the subject [OccurredAtIsNotBeforeTheSubjectExisted].
    imported: bool = False

    COMMON: ClassVar[frozenset[str]] = frozenset({"command_id", "actor", "occurred_at", "imported"})

    def provenance(self) -> Provenance:
        return Provenance(
            occurred_at=self.occurred_at,
            actor_id=self.actor.id,
            actor_role=self.actor.role.value,
            command_id=self.command_id,
            imported=self.imported,
        )

    def fingerprint(self, **instead: Any) -> str:
        """Stable hash of the whole command, to tell a retry from a reused key.
        ``instead``: the hash of this command with those fields' values in place of its
        own, without making that command (``application.receipts.fingerprint``)."""
        payload = {"command": type(self).__name__, **_fields_of(self), **instead}
        return hashlib.sha256(_canonical_bytes(payload)).hexdigest()

    def values(self) -> dict[str, Any]:
        """Every field's value, by name."""
        return _fields_of(self)

    def arguments(self, *exclude: str) -> dict[str, Any]:
        """This command's own fields, as keyword arguments for its aggregate method."""
        key = (type(self), exclude)
        names = _ARGUMENT_NAMES.get(key)
        if names is None:
            skip = self.COMMON | set(exclude)
            names = _ARGUMENT_NAMES[key] = tuple(f.name for f in fields(self) if f.name not in skip)
        return {name: getattr(self, name) for name in names}


#: A command type's argument names, less those excluded: worked out once per type.
_ARGUMENT_NAMES: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields_of(value: Any) -> dict[str, Any]:
    """A dataclass's fields, one level deep: the encoder comes back for what they hold."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    return {name: getattr(value, name) for name in names}


#: orjson, told to hand dates, times and dataclasses to the same fallback as ``json``.
_FAST_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _canonical_bytes(payload: dict[str, Any]) -> bytes:
    """The canonical form: ``json.dumps(payload, sort_keys=True, separators=(",", ":"))``
    with ``_canonical_or_fields`` for what JSON has no type for, as UTF-8.

    Receipts store its hash, so it must never change. orjson gives the same bytes for
    what commands hold (strings, whole numbers, booleans, lists, dataclasses, dates,
    decimals, string enums, UUIDs) in a third of the time, except where the standard
    library escapes: it writes non-ASCII text and DEL as ``\\u`` escapes, which orjson
    does not. So an answer that is not plain printable ASCII, a float (whose shortest
    form the two spell differently) or anything orjson refuses is made by ``json``
    itself. A property test holds the two equal over arbitrary values
    (tests/domain/test_fingerprint.py)."""
    try:
        fast = orjson.dumps(payload, default=_canonical_or_fields, option=_FAST_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        fast = None
    if fast is not None and fast.isascii() and b"\x7f" not in fast and not _has_float(payload):
        return fast
    return json.dumps(
        payload, sort_keys=True, default=_canonical_or_fields, separators=(",", ":")
    ).encode()


#: What ``_has_float`` does with a value of each type: nothing (a leaf), answer yes (a
#: float), or look inside (a dict's values, a collection's items, a dataclass's
#: fields). Worked out once per type (session 10: the walk was 4% of a command).
_LEAF, _FLOAT, _DICT, _ITEMS, _FIELDS = range(5)
_WALK: dict[type, int] = {
    str: _LEAF,
    bool: _LEAF,
    int: _LEAF,
    type(None): _LEAF,
    float: _FLOAT,
    dict: _DICT,
    list: _ITEMS,
    tuple: _ITEMS,
    set: _ITEMS,
    frozenset: _ITEMS,
}


def _walk_of(kind: type) -> int:
    step = _WALK.get(kind)
    if step is None:
        step = _WALK[kind] = _FIELDS if hasattr(kind, "__dataclass_fields__") else _LEAF
    return step


def _has_float(payload: dict[str, Any]) -> bool:
    """Whether a float is anywhere in ``payload`` (commands carry none of their own:
    their numbers are whole, or decimals; a free-form action's dict might)."""
    stack: list[Any] = list(payload.values())
    walk = _WALK
    while stack:
        value = stack.pop()
        kind = type(value)
        step = walk.get(kind)
        if step is None:
            step = _walk_of(kind)
        if step == _LEAF:
            continue
        if step == _FLOAT:
            return True
        if step == _DICT:
            stack.extend(value.values())
        elif step == _ITEMS:
            stack.extend(value)
        else:
            stack.extend(_fields_of(value).values())
    return False


def _canonical_or_fields(value: Any) -> Any:
    """The encoder's fallback: a nested dataclass as its fields. The canonical form is
    stored in receipts, so it must stay what ``dataclasses.asdict`` gives (a test checks
    every kind of command against it); the encoder walks the command itself instead of
    a deep copy (``asdict``: 5 times slower) or a plain copy (12 -> 10 us for a case
    supervision). Anything else as ``_canonical`` says. Which of the two, worked out
    once per type (session 10)."""
    kind = type(value)
    convert = _FALLBACKS.get(kind)
    if convert is None:
        convert = _FALLBACKS[kind] = (
            _fields_of if hasattr(kind, "__dataclass_fields__") else _canonical
        )
    return convert(value)


_FALLBACKS: dict[type, Callable[[Any], Any]] = {}


def _canonical(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


# -- authority ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterAuthority(Command):
    authority_code: str
    name: str
    policy_pack: str


@dataclass(frozen=True, kw_only=True)
class AdoptPolicyPack(Command):
    """The actor's authority holds its records to another pack from now on."""

    policy_pack: str


@dataclass(frozen=True, kw_only=True)
class AddClosureDay(Command):
    day: date
    reason: str


# -- worker ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterWorker(Command):
    staff_id: str
    display_name: str
    role: str
    team: str
    line_manager_id: str | None
    employment_pattern: str
    fte: Decimal
    engagement: str
    start_date: date
    case_holding: bool
    nqsw_asye_start: date | None = None
    weekly_hours: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class WorkerCommand(Command):
    """A command on one worker, dispatched to ``Worker.<method>``."""

    method: ClassVar[str]
    staff_id: str


@dataclass(frozen=True, kw_only=True)
class ChangeRole(WorkerCommand):
    method = "change_role"
    role: str


@dataclass(frozen=True, kw_only=True)
class ChangeTeam(WorkerCommand):
    method = "change_team"
    team: str


@dataclass(frozen=True, kw_only=True)
class ChangeLineManager(WorkerCommand):
    method = "change_line_manager"
    line_manager_id: str


@dataclass(frozen=True, kw_only=True)
class ChangeWorkingPattern(WorkerCommand):
    method = "change_working_pattern"
    employment_pattern: str
    fte: Decimal
    weekly_hours: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class LeaveEmployment(WorkerCommand):
    method = "leave_employment"
    last_day: date
    reason: str


@dataclass(frozen=True, kw_only=True)
class SignSupervisionAgreement(WorkerCommand):
    """The actor signs an agreement as the party they are (the supervisee, or the
    supervisor it names); the other party signs the same terms by their own command."""

    method = "sign_supervision_agreement"
    agreement_id: str
    supervisor_id: str
    frequency: str
    supervision_format: str
    review_due_on: date
    escalation_manager_id: str


@dataclass(frozen=True, kw_only=True)
class ReviewSupervisionAgreement(WorkerCommand):
    method = "review_supervision_agreement"
    agreement_id: str
    next_review_due_on: date
    supervisee_feedback: str | None = None


@dataclass(frozen=True, kw_only=True)
class ApproveFrequencyException(WorkerCommand):
    method = "approve_frequency_exception"
    agreement_id: str
    frequency: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ScheduleSupervisionSession(WorkerCommand):
    method = "schedule_supervision_session"
    session_id: str
    supervisor_id: str
    scheduled_for: datetime


@dataclass(frozen=True, kw_only=True)
class CancelSupervisionSession(WorkerCommand):
    method = "cancel_supervision_session"
    session_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RescheduleSupervisionSession(WorkerCommand):
    method = "reschedule_supervision_session"
    session_id: str
    new_scheduled_for: datetime | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseDiscussion:
    """One child's case supervision, recorded in the same save as the session."""

    child_id: str
    entry_id: str
    current_situation: str
    child_last_seen_on: date
    childs_views: str
    reflection: str
    analysis: str
    decision: str
    rationale: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    previous_actions_reviewed: str | None = None


@dataclass(frozen=True, kw_only=True)
class HoldSupervisionSession(WorkerCommand):
    """A held session, with the case supervision of each child discussed (atomic)."""

    method = "hold_supervision_session"
    session_id: str
    supervisor_id: str
    duration_minutes: int
    functions_covered: list[str]
    wellbeing_discussed: bool
    equality_and_diversity_discussed: bool
    case_discussions: list[CaseDiscussion] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class WritePersonalSupervisionRecord(WorkerCommand):
    method = "write_personal_supervision_record"
    record_id: str
    session_id: str
    actions_reviewed: str
    wellbeing: str
    workload: str
    development: str
    disagreements: str | None
    agreed_actions: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class SignPersonalSupervisionRecord(WorkerCommand):
    """The actor signs as the party they are on the record: its supervisor, or the
    supervisee (who confirms it or states their differing view)."""

    method = "sign_personal_supervision_record"
    record_id: str
    confirmed: bool = True
    differing_view: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemoveComment(WorkerCommand):
    method = "remove_comment"
    record_id: str
    field_name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class StartAbsence(WorkerCommand):
    method = "start_absence"
    absence_id: str
    kind: str
    started_on: date


@dataclass(frozen=True, kw_only=True)
class EndAbsence(WorkerCommand):
    method = "end_absence"
    absence_id: str
    returned_on: date


@dataclass(frozen=True, kw_only=True)
class AttendGroupSupervision(WorkerCommand):
    """Attend a team's group session: group supervision, team meeting or practice development."""

    method = "attend_group_supervision"
    group_session_id: str
    facilitator_id: str
    topic: str
    session_kind: str = "group_supervision"


@dataclass(frozen=True, kw_only=True)
class RecordDirectObservation(WorkerCommand):
    method = "record_direct_observation"
    observation_id: str
    observer_id: str
    summary: str


@dataclass(frozen=True, kw_only=True)
class SignDirectObservation(WorkerCommand):
    """The actor signs as the party they are: supervisee, observer or line manager."""

    method = "sign_direct_observation"
    observation_id: str


@dataclass(frozen=True, kw_only=True)
class HoldAppraisal(WorkerCommand):
    method = "hold_appraisal"
    appraisal_id: str
    kind: str


# -- child -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterChild(Command):
    child_id: str
    date_of_birth: date | None
    expected_date_of_birth: date | None = None
    case_type: str
    risk_level: str
    rag: str | None = None
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChildCommand(Command):
    """A command on one child, dispatched to ``Child.<method>``."""

    method: ClassVar[str]
    child_id: str


@dataclass(frozen=True, kw_only=True)
class AllocateWorker(ChildCommand):
    """Allocation or reallocation: the child and both workers' caseloads, in one save."""

    method = "allocate_worker"
    worker_id: str
    reason: str
    team: str


@dataclass(frozen=True, kw_only=True)
class AllocateTeam(ChildCommand):
    method = "allocate_team"
    team: str


@dataclass(frozen=True, kw_only=True)
class ChangeCaseType(ChildCommand):
    method = "change_case_type"
    case_type: str


@dataclass(frozen=True, kw_only=True)
class ChangeThreshold(ChildCommand):
    method = "change_threshold"
    threshold: str


@dataclass(frozen=True, kw_only=True)
class ChangeRiskLevel(ChildCommand):
    method = "change_risk_level"
    risk_level: str
    rag: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeLegalStatus(ChildCommand):
    method = "change_legal_status"
    legal_status: str


@dataclass(frozen=True, kw_only=True)
class RecordCameIntoCare(ChildCommand):
    method = "record_came_into_care"
    legal_status: str
    placement: str


@dataclass(frozen=True, kw_only=True)
class ChangePlacement(ChildCommand):
    method = "change_placement"
    placement: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordReturnedHome(ChildCommand):
    method = "record_returned_home"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CloseCase(ChildCommand):
    """Closure (DEV-6 (13) trigger): the child and its worker's caseload, in one save."""

    method = "close_case"
    kind: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordCareEnded(ChildCommand):
    """A period of care ended other than by returning home (SSDA903 REC code)."""

    method = "record_care_ended"
    reason_code: str


@dataclass(frozen=True, kw_only=True)
class RecordLookedAfterReview(ChildCommand):
    """A looked-after child's review was held (SSDA903 reviews)."""

    method = "record_looked_after_review"
    review_on: date
    review_code: str


@dataclass(frozen=True, kw_only=True)
class RecordAdoptionOrder(ChildCommand):
    """An adoption order was made: the record is kept 100 years from it [AAR-42]."""

    method = "record_adoption_order"
    order_made_on: date


@dataclass(frozen=True, kw_only=True)
class RecordChildDeath(ChildCommand):
    """The child died: retention runs from the death if under 18 [CPPCR-50]."""

    method = "record_child_death"
    died_on: date


# -- A child in need: the DfE CIN census (ADR 0026) -----------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordReferral(ChildCommand):
    """A referral, which opens a child-in-need episode unless no further action follows."""

    method = "record_referral"
    entry_id: str
    referral_on: date
    referral_source: str
    primary_need: str
    no_further_action: bool = False


@dataclass(frozen=True, kw_only=True)
class RecordAssessment(ChildCommand):
    """An assessment in a child-in-need episode was authorised (completed)."""

    method = "record_assessment"
    entry_id: str
    episode_id: str
    started_on: date
    authorised_on: date
    factors: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RecordSection47Enquiry(ChildCommand):
    """A section 47 enquiry began in a child-in-need episode."""

    method = "record_section47_enquiry"
    entry_id: str
    episode_id: str
    started_on: date
    conference_required: bool = True


@dataclass(frozen=True, kw_only=True)
class RecordInitialChildProtectionConference(ChildCommand):
    """An initial child protection conference was held in a child-in-need episode."""

    method = "record_initial_child_protection_conference"
    entry_id: str
    episode_id: str
    held_on: date


@dataclass(frozen=True, kw_only=True)
class StartChildProtectionPlan(ChildCommand):
    """A child protection plan began: the case becomes child protection."""

    method = "start_child_protection_plan"
    entry_id: str
    episode_id: str
    started_on: date
    category_of_abuse: str


@dataclass(frozen=True, kw_only=True)
class ReviewChildProtectionPlan(ChildCommand):
    """A review conference of an open child protection plan was held."""

    method = "review_child_protection_plan"
    entry_id: str
    reviewed_on: date


@dataclass(frozen=True, kw_only=True)
class EndChildProtectionPlan(ChildCommand):
    """A child protection plan ended: the case is child in need again."""

    method = "end_child_protection_plan"
    entry_id: str
    ended_on: date


@dataclass(frozen=True, kw_only=True)
class StartChildInNeedPlan(ChildCommand):
    """A child-in-need plan began in a child-in-need episode."""

    method = "start_child_in_need_plan"
    entry_id: str
    episode_id: str
    started_on: date


@dataclass(frozen=True, kw_only=True)
class CloseChildInNeedEpisode(ChildCommand):
    """A child-in-need episode closed, with the census reason for closure (RC1-RC8)."""

    method = "close_child_in_need_episode"
    entry_id: str
    closed_on: date
    reason_for_closure: str


# -- end of the CIN census commands ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordCaseSupervision(ChildCommand):
    """Case supervision outside a held session (or linked to one by ``session_id``)."""

    method = "record_case_supervision"
    entry_id: str
    worker_id: str
    supervisor_id: str
    session_id: str | None = None
    current_situation: str
    child_last_seen_on: date
    childs_views: str
    reflection: str
    analysis: str
    decision: str
    rationale: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    previous_actions_reviewed: str | None = None


@dataclass(frozen=True, kw_only=True)
class TriggerOversight(ChildCommand):
    method = "trigger_oversight"
    trigger_id: str
    kind: str
    detail: str
    incident_dates: list[date] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RecordManagementOversight(ChildCommand):
    """A manager's oversight record; the decision maker and their role are the actor."""

    method = "record_management_oversight"
    entry_id: str
    answers_trigger_ids: list[str]
    reason: str
    current_situation: str
    decision: str
    rationale: str
    actions: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class RecordManagementDecision(ChildCommand):
    """A manager's ad hoc decision, recorded by the manager who made it (the actor)."""

    method = "record_management_decision"
    entry_id: str
    decision: str
    rationale: str
    consulted_by: str


@dataclass(frozen=True, kw_only=True)
class SetAction(ChildCommand):
    method = "set_action"
    action: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class CompleteAction(ChildCommand):
    method = "complete_action"
    action_id: str
    note: str


@dataclass(frozen=True, kw_only=True)
class CarryForwardAction(ChildCommand):
    method = "carry_forward_action"
    action_id: str
    rationale: str
    new_due_on: date


@dataclass(frozen=True, kw_only=True)
class RecordGroupDiscussion(ChildCommand):
    method = "record_group_discussion"
    entry_id: str
    group_session_id: str
    facilitator_id: str
    summary: str


# -- child: a child looked after, as the SSDA903 return gives it (issue 21, ADR 0025) -----


@dataclass(frozen=True, kw_only=True)
class RecordCareBeganBeforeRecord(ChildCommand):
    """An import's child already looked after when its record begins (imports only)."""

    method = "record_care_began_before_record"


@dataclass(frozen=True, kw_only=True)
class RecordMissingFromCare(ChildCommand):
    """A looked-after child missing (M) or away without authorisation (A) (SSDA903 missing)."""

    method = "record_missing_from_care"
    missing: str
    started_on: date
    ended_on: date | None


@dataclass(frozen=True, kw_only=True)
class CorrectCareEpisode(ChildCommand):
    """An imported episode of care corrected by a later return of it (imports only)."""

    method = "correct_care_episode"
    episode_started_on: date
    corrects: str
    changes: dict[str, str]
    current: bool


# -- either subject: corrections, disagreements, legal holds --------------------------------


@dataclass(frozen=True, kw_only=True)
class SubjectCommand(Command):
    """A command on a worker (``staff_id``) or a child (``child_id``): give exactly one."""

    method: ClassVar[str]
    staff_id: str | None = None
    child_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CorrectEntry(SubjectCommand):
    method = "correct_entry"
    entry_id: str
    changes: dict[str, Any]
    reason: str


@dataclass(frozen=True, kw_only=True)
class RaiseDisagreement(SubjectCommand):
    method = "raise_disagreement"
    disagreement_id: str
    subject: str
    about: str


@dataclass(frozen=True, kw_only=True)
class EscalateDisagreement(SubjectCommand):
    method = "escalate_disagreement"
    disagreement_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResolveDisagreement(SubjectCommand):
    method = "resolve_disagreement"
    disagreement_id: str
    resolution: str


@dataclass(frozen=True, kw_only=True)
class PlaceLegalHold(SubjectCommand):
    method = "place_legal_hold"
    hold_id: str
    kind: str
    reference: str


@dataclass(frozen=True, kw_only=True)
class PurgeRecord(SubjectCommand):
    """Destroy one record whose retention period has run and that no legal hold covers
    (ADR 0012). Its stored events become tombstones; ``as_of`` is the day the purge
    run checks due dates against (today, or earlier: never later)."""

    method = "purge_record"
    record_class: str
    record_id: str
    as_of: date


@dataclass(frozen=True, kw_only=True)
class LiftLegalHold(SubjectCommand):
    method = "lift_legal_hold"
    hold_id: str
    reason: str


# -- access ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordAccess(SubjectCommand):
    """A read of a child's record or a worker's personal file, for the audit trail."""

    method = "record_access"
    what: str
    purpose: str


# -- quality assurance: audits, disputes and moderation [SHR-5.8, POR-7, DUR-7] -----------


@dataclass(frozen=True, kw_only=True)
class AuditSupervisionFile(WorkerCommand):
    """Audit a worker's supervision file with the authority's tool, as its auditor."""

    method = "audit_supervision_file"
    audit_id: str
    period_from: date
    period_to: date
    answers: dict[str, bool]
    judgement: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class AuditCaseFile(ChildCommand):
    """Audit a child's case supervision records (a dip-sample) with the authority's tool."""

    method = "audit_case_file"
    audit_id: str
    period_from: date
    period_to: date
    answers: dict[str, bool]
    judgement: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class DisputeAudit(SubjectCommand):
    """The audited worker or supervisor disputes an audit, with reasons."""

    method = "dispute_audit"
    audit_id: str
    reasons: str


@dataclass(frozen=True, kw_only=True)
class ModerateAudit(SubjectCommand):
    """The moderator the pack names confirms or changes an audit's judgement."""

    method = "moderate_audit"
    audit_id: str
    judgement: str
    rationale: str
