"""The Worker aggregate: a member of staff, their supervision and personal records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import NotFound, ValidationError
from domain.events import (
    AbsenceEnded,
    AbsenceStarted,
    AppraisalHeld,
    ChildAddedToCaseload,
    ChildRemovedFromCaseload,
    DirectObservationRecorded,
    DirectObservationSigned,
    GroupSupervisionAttended,
    LineManagerChanged,
    PersonalRecordCommentRemoved,
    PersonalSupervisionRecordSigned,
    PersonalSupervisionRecordWritten,
    SupervisionAgreementReviewed,
    SupervisionAgreementSigned,
    SupervisionAgreementSignedByOneParty,
    SupervisionFileAudited,
    SupervisionFrequencyExceptionApproved,
    SupervisionSessionCancelled,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
)
from domain.governance import Approval, AuthorityRules, WriteRuleKind
from domain.identifiers import check_local_id, worker_id
from domain.policy.quality import (
    Audit,
    AuditedByTheRelationshipItsPackNames,
    AuditIsGradedWithItsAuthoritysTool,
    AuditRecord,
    QualityRules,
    check_period,
)
from domain.provenance import Provenance, optional_text, require_text
from domain.rules import (
    ActionHasAnOwnerAndADueDate,
    ApprovedOnlyByTheRolesItsPackNames,
    CancellationGivesAReason,
    CommentRemovedOnlyByTheOriginalSupervisorsManager,
    DisputedSignatureStatesTheDifferingView,
    EachPartySignsOnce,
    OnlyAPartyCancelsTheSession,
    OnlyTheNamedPartiesSign,
    PersonalRecordHoldsNoServiceUserInformation,
    RescheduleAgreesANewDate,
    SignedRecordIsNeverEdited,
    SupervisorSignsBeforeSuperviseeConfirms,
    require,
)
from domain.subject import Subject
from domain.team_sessions import TeamSessionKind, team_session_kind
from domain.values import SmartAction
from domain.vocabulary import (
    POSTS,
    AbsenceKind,
    DisagreementSubject,
    EmploymentPattern,
    EngagementType,
    Role,
    Signatory,
    SupervisionFormat,
    SupervisionFunction,
    parse_enum,
    parse_role,
)

#: Free-text fields of a personal supervision record [POR-6.2b checks these].
PERSONAL_RECORD_TEXT_FIELDS = (
    "actions_reviewed",
    "wellbeing",
    "workload",
    "development",
    "disagreements",
)

#: Frequencies a supervision agreement may state, as ISO 8601-like codes (ADR 0005).
AGREEMENT_FREQUENCIES = frozenset({"P1W", "P2W", "P4W", "P1M", "P6W", "P2M", "P3M"})


@dataclass(frozen=True)
class Employment:
    role: Role
    team: str
    line_manager_id: str | None
    pattern: EmploymentPattern
    fte: Decimal
    weekly_hours: Decimal | None
    engagement: EngagementType
    start_date: date
    case_holding: bool
    nqsw_asye_start: date | None
    left_on: date | None = None


@dataclass(frozen=True)
class SupervisionSession:
    session_id: str
    supervisor_id: str
    scheduled_for: datetime | None
    status: str  # scheduled | cancelled | held
    held_on: datetime | None = None
    cancellation_reason: str | None = None
    reschedules: int = 0


@dataclass(frozen=True)
class PersonalRecord:
    record_id: str
    session_id: str
    supervisor_id: str
    signed_by: tuple[str, ...] = ()
    disputed: bool = False


@dataclass(frozen=True)
class Absence:
    absence_id: str
    kind: AbsenceKind
    started_on: date
    ended_on: date | None = None


def parse_actions(raw: list[dict[str, Any]] | None) -> list[SmartAction]:
    """Primitive action dicts to SmartActions [ActionHasAnOwnerAndADueDate]."""
    actions: list[SmartAction] = []
    for index, item in enumerate(raw or []):
        if not isinstance(item, dict):
            raise ValidationError("an action is an object", field=f"actions[{index}]")
        due = item.get("due_on")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError:
                raise ValidationError(
                    "due_on must be an ISO 8601 date", field=f"actions[{index}].due_on"
                ) from None
        ActionHasAnOwnerAndADueDate.check(index, item.get("owner"), due)
        actions.append(
            SmartAction(
                action_id=require_text(
                    item.get("action_id"), field=f"actions[{index}].action_id", max_length=200
                ),
                description=require_text(
                    item.get("description"), field=f"actions[{index}].description"
                ),
                owner=str(item["owner"]),
                due_on=due,  # type: ignore[arg-type]  # checked by the rule above
            )
        )
    ids = [a.action_id for a in actions]
    if len(ids) != len(set(ids)):
        raise ValidationError("action ids must be unique", field="actions")
    return actions


class Worker(Subject):
    """A member of staff: a supervisee, and often a supervisor of others."""

    # The catalogue events a Worker triggers. The library subclasses each one as an
    # attribute of the aggregate (``Worker.SupervisionSessionHeld``, the topic it is stored
    # under), so each must be an attribute here first.
    AbsenceEnded = AbsenceEnded
    AbsenceStarted = AbsenceStarted
    AppraisalHeld = AppraisalHeld
    ChildAddedToCaseload = ChildAddedToCaseload
    ChildRemovedFromCaseload = ChildRemovedFromCaseload
    DirectObservationRecorded = DirectObservationRecorded
    DirectObservationSigned = DirectObservationSigned
    GroupSupervisionAttended = GroupSupervisionAttended
    LineManagerChanged = LineManagerChanged
    PersonalRecordCommentRemoved = PersonalRecordCommentRemoved
    PersonalSupervisionRecordSigned = PersonalSupervisionRecordSigned
    PersonalSupervisionRecordWritten = PersonalSupervisionRecordWritten
    SupervisionAgreementReviewed = SupervisionAgreementReviewed
    SupervisionAgreementSigned = SupervisionAgreementSigned
    SupervisionAgreementSignedByOneParty = SupervisionAgreementSignedByOneParty
    SupervisionFrequencyExceptionApproved = SupervisionFrequencyExceptionApproved
    SupervisionSessionCancelled = SupervisionSessionCancelled
    SupervisionSessionHeld = SupervisionSessionHeld
    SupervisionSessionRescheduled = SupervisionSessionRescheduled
    SupervisionSessionScheduled = SupervisionSessionScheduled
    WorkerLeftEmployment = WorkerLeftEmployment
    WorkerRegistered = WorkerRegistered
    WorkerRoleChanged = WorkerRoleChanged
    WorkerTeamChanged = WorkerTeamChanged
    WorkingPatternChanged = WorkingPatternChanged

    DISAGREEMENT_SUBJECTS: ClassVar[frozenset[DisagreementSubject]] = frozenset(
        {
            DisagreementSubject.RECORD_CONTENT,
            DisagreementSubject.SUPERVISION_FREQUENCY,
            DisagreementSubject.SUPERVISION_PRACTICE,
        }
    )
    CORRECTABLE: ClassVar[dict[str, frozenset[str]]] = {
        "supervision_session": frozenset(
            {
                "held_on",
                "duration_minutes",
                "functions_covered",
                "wellbeing_discussed",
                "equality_and_diversity_discussed",
            }
        ),
        "personal_record": frozenset(PERSONAL_RECORD_TEXT_FIELDS),
        "direct_observation": frozenset({"observed_on", "summary"}),
        "group_supervision": frozenset({"attended_on", "topic"}),
        "appraisal": frozenset({"held_on", "kind"}),
    }

    @staticmethod
    def create_id(authority_code: str, staff_id: str) -> UUID:
        return worker_id(authority_code, staff_id)

    @classmethod
    def register(
        cls,
        *,
        provenance: Provenance,
        authority_code: str,
        staff_id: str,
        display_name: str,
        role: str,
        team: str,
        line_manager_id: str | None,
        employment_pattern: str,
        fte: Decimal | str | float,
        engagement: str,
        start_date: date,
        case_holding: bool,
        nqsw_asye_start: date | None = None,
        weekly_hours: Decimal | str | float | None = None,
    ) -> Worker:
        """Register a member of staff (validates everything before any event exists)."""
        from domain.rules import OccurredAtIsNotInTheFuture

        OccurredAtIsNotInTheFuture.check(provenance.occurred_at)
        check_local_id(staff_id, field="staff_id")
        require_text(display_name, field="display_name", max_length=200)
        parse_role(role, POSTS, field="role")
        require_text(team, field="team", max_length=200)
        if line_manager_id is not None:
            check_local_id(line_manager_id, field="line_manager_id")
            require(
                line_manager_id != staff_id,
                "a worker is not their own line manager",
                field="line_manager_id",
            )
        pattern = parse_enum(EmploymentPattern, employment_pattern, field="employment_pattern")
        fte_value = _parse_fte(fte, pattern)
        hours = _parse_weekly_hours(weekly_hours)
        parse_enum(EngagementType, engagement, field="engagement")
        require(isinstance(start_date, date), "start_date must be a date", field="start_date")
        require(
            isinstance(case_holding, bool),
            "case_holding must be true or false",
            field="case_holding",
        )
        if nqsw_asye_start is not None:
            require(
                nqsw_asye_start >= start_date,
                "the NQSW/ASYE start cannot precede the employment start",
                field="nqsw_asye_start",
            )
        return cls(
            provenance=provenance,
            authority_code=authority_code,
            staff_id=staff_id,
            display_name=display_name,
            role=role,
            team=team,
            line_manager_id=line_manager_id,
            employment_pattern=pattern.value,
            fte=fte_value,
            weekly_hours=hours,
            engagement=engagement,
            start_date=start_date,
            case_holding=case_holding,
            nqsw_asye_start=nqsw_asye_start,
        )

    @event(WorkerRegistered)
    def __init__(
        self,
        *,
        provenance: Provenance,
        authority_code: str,
        staff_id: str,
        display_name: str,
        role: str,
        team: str,
        line_manager_id: str | None,
        employment_pattern: str,
        fte: Decimal,
        weekly_hours: Decimal | None,
        engagement: str,
        start_date: date,
        case_holding: bool,
        nqsw_asye_start: date | None,
    ) -> None:
        self._init_subject(authority_code, provenance)
        self.staff_id = staff_id
        self.display_name = display_name
        self.employment = Employment(
            role=Role(role),
            team=team,
            line_manager_id=line_manager_id,
            pattern=EmploymentPattern(employment_pattern),
            fte=fte,
            weekly_hours=weekly_hours,
            engagement=EngagementType(engagement),
            start_date=start_date,
            case_holding=case_holding,
            nqsw_asye_start=nqsw_asye_start,
        )
        self.sessions: dict[str, SupervisionSession] = {}
        self.records: dict[str, PersonalRecord] = {}
        self.agreements: dict[str, dict[str, Any]] = {}
        #: Agreements one party has signed, awaiting the other's signature.
        self.pending_agreements: dict[str, dict[str, Any]] = {}
        self.frequency_exception: dict[str, Any] | None = None
        self.absences: dict[str, Absence] = {}
        self.observations: dict[str, tuple[str, ...]] = {}
        self.caseload: set[str] = set()
        #: Children who left the caseload (closed, or passed on), and the day each left:
        #: those within a year, for POR-6.2b's names.
        self.left_caseload: dict[str, date] = {}

    # -- employment --------------------------------------------------------------------

    def change_role(self, provenance: Provenance, role: str) -> None:
        self._check_employed(provenance)
        new = parse_role(role, POSTS, field="role")
        require(new is not self.employment.role, "the worker already holds that role", field="role")
        self._role_changed(provenance, new.value)

    @event(WorkerRoleChanged)
    def _role_changed(self, provenance: Provenance, role: str) -> None:
        self.employment = replace(self.employment, role=Role(role))

    def change_team(self, provenance: Provenance, team: str) -> None:
        self._check_employed(provenance)
        require_text(team, field="team", max_length=200)
        require(team != self.employment.team, "the worker is already in that team", field="team")
        self._team_changed(provenance, team)

    @event(WorkerTeamChanged)
    def _team_changed(self, provenance: Provenance, team: str) -> None:
        self.employment = replace(self.employment, team=team)

    def change_line_manager(self, provenance: Provenance, line_manager_id: str) -> None:
        self._check_employed(provenance)
        check_local_id(line_manager_id, field="line_manager_id")
        require(
            line_manager_id != self.staff_id,
            "a worker is not their own line manager",
            field="line_manager_id",
        )
        require(
            line_manager_id != self.employment.line_manager_id,
            "that is already the line manager",
            field="line_manager_id",
        )
        self._line_manager_changed(provenance, line_manager_id)

    @event(LineManagerChanged)
    def _line_manager_changed(self, provenance: Provenance, line_manager_id: str) -> None:
        self.employment = replace(self.employment, line_manager_id=line_manager_id)

    def change_working_pattern(
        self,
        provenance: Provenance,
        employment_pattern: str,
        fte: Decimal | str | float,
        weekly_hours: Decimal | str | float | None = None,
    ) -> None:
        """Full-time or part-time, with FTE and contracted hours [DEV-4.1b, DUR-4.2]."""
        self._check_employed(provenance)
        pattern = parse_enum(EmploymentPattern, employment_pattern, field="employment_pattern")
        value = _parse_fte(fte, pattern)
        hours = _parse_weekly_hours(weekly_hours)
        self._working_pattern_changed(provenance, pattern.value, value, hours)

    @event(WorkingPatternChanged)
    def _working_pattern_changed(
        self,
        provenance: Provenance,
        employment_pattern: str,
        fte: Decimal,
        weekly_hours: Decimal | None,
    ) -> None:
        self.employment = replace(
            self.employment,
            pattern=EmploymentPattern(employment_pattern),
            fte=fte,
            weekly_hours=weekly_hours,
        )

    def leave_employment(self, provenance: Provenance, last_day: date, reason: str) -> None:
        self._check_employed(provenance)
        require(
            last_day >= self.employment.start_date,
            "the last day cannot precede the start date",
            field="last_day",
        )
        require_text(reason, field="reason", max_length=500)
        self._left_employment(provenance, last_day, reason)

    @event(WorkerLeftEmployment)
    def _left_employment(self, provenance: Provenance, last_day: date, reason: str) -> None:
        self.employment = replace(self.employment, left_on=last_day)

    def _check_employed(self, provenance: Provenance) -> None:
        self.check_provenance(provenance)
        if self.employment.left_on is not None:
            raise ValidationError(
                f"the worker left employment on {self.employment.left_on.isoformat()}",
                field="worker_id",
            )

    # -- supervision agreement [POR-5.1, DEV-4.0, DUR-4.1, SHR-APP1, BUR-SA] --------------

    def sign_supervision_agreement(
        self,
        provenance: Provenance,
        *,
        agreement_id: str,
        supervisor_id: str,
        frequency: str,
        supervision_format: str,
        review_due_on: date,
        escalation_manager_id: str,
    ) -> None:
        """The actor signs the agreement as the party they are; once both have signed
        the same terms it is in force [SHR-APP1: signed and dated by both]."""
        self._check_employed(provenance)
        check_local_id(supervisor_id, field="supervisor_id")
        require(
            supervisor_id != self.staff_id,
            "a worker does not supervise themselves",
            field="supervisor_id",
        )
        require(
            frequency in AGREEMENT_FREQUENCIES,
            f"frequency must be one of {', '.join(sorted(AGREEMENT_FREQUENCIES))}",
            field="frequency",
        )
        parse_enum(SupervisionFormat, supervision_format, field="supervision_format")
        check_local_id(escalation_manager_id, field="escalation_manager_id")
        signed = provenance.occurred_at.date()
        terms: dict[str, Any] = {
            "supervisor_id": supervisor_id,
            "frequency": frequency,
            "supervision_format": supervision_format,
            "review_due_on": review_due_on,
            "escalation_manager_id": escalation_manager_id,
        }
        pending = self.pending_agreements.get(agreement_id)
        if pending is None:
            self.require_new_entry_id(agreement_id, field="agreement_id")
        parties: dict[Signatory, str | None] = {
            Signatory.SUPERVISEE: self.staff_id,
            Signatory.SUPERVISOR: supervisor_id,
        }
        party = OnlyTheNamedPartiesSign.party(
            provenance.actor_id, parties, [pending["signatory"]] if pending else []
        )
        if pending is None:
            require(
                review_due_on > signed,
                "the review date must be after signing",
                field="review_due_on",
            )
            self._agreement_signed_by_one_party(
                provenance, agreement_id, party.value, signed, **terms
            )
            return
        EachPartySignsOnce.check([pending["signatory"]], party)
        for name, value in terms.items():
            require(
                pending[name] == value,
                "the other party signed different terms: sign the same, or a new agreement",
                field=name,
            )
        first: date = pending["signed_on"]
        supervisor_signed_on = first if party is Signatory.SUPERVISEE else signed
        supervisee_signed_on = first if party is Signatory.SUPERVISOR else signed
        self._agreement_signed(
            provenance,
            agreement_id,
            supervisor_id,
            frequency,
            supervision_format,
            review_due_on,
            escalation_manager_id,
            supervisor_signed_on,
            supervisee_signed_on,
        )

    @event(SupervisionAgreementSignedByOneParty)
    def _agreement_signed_by_one_party(
        self,
        provenance: Provenance,
        agreement_id: str,
        signatory: str,
        signed_on: date,
        supervisor_id: str,
        frequency: str,
        supervision_format: str,
        review_due_on: date,
        escalation_manager_id: str,
    ) -> None:
        self.pending_agreements[agreement_id] = {
            "signatory": signatory,
            "signed_on": signed_on,
            "supervisor_id": supervisor_id,
            "frequency": frequency,
            "supervision_format": supervision_format,
            "review_due_on": review_due_on,
            "escalation_manager_id": escalation_manager_id,
        }

    @event(SupervisionAgreementSigned)
    def _agreement_signed(
        self,
        provenance: Provenance,
        agreement_id: str,
        supervisor_id: str,
        frequency: str,
        supervision_format: str,
        review_due_on: date,
        escalation_manager_id: str,
        supervisor_signed_on: date,
        supervisee_signed_on: date,
    ) -> None:
        fields = {
            "supervisor_id": supervisor_id,
            "frequency": frequency,
            "supervision_format": supervision_format,
            "review_due_on": review_due_on,
            "escalation_manager_id": escalation_manager_id,
        }
        self._add_entry(agreement_id, "supervision_agreement", provenance, fields)
        self.agreements[agreement_id] = dict(fields, reviewed=[])
        self.pending_agreements.pop(agreement_id, None)

    def review_supervision_agreement(
        self,
        provenance: Provenance,
        *,
        agreement_id: str,
        next_review_due_on: date,
        supervisee_feedback: str | None = None,
    ) -> None:
        """Reviewed at least yearly [POR-5.1, DEV-4.0, DUR-4.1]; 6-monthly in DUR-4.11."""
        self._check_employed(provenance)
        self.entry(agreement_id, kind="supervision_agreement", field="agreement_id")
        require(
            next_review_due_on > provenance.occurred_at.date(),
            "the next review date must be in the future of the review",
            field="next_review_due_on",
        )
        optional_text(supervisee_feedback, field="supervisee_feedback")
        self._agreement_reviewed(provenance, agreement_id, next_review_due_on, supervisee_feedback)

    @event(SupervisionAgreementReviewed)
    def _agreement_reviewed(
        self,
        provenance: Provenance,
        agreement_id: str,
        next_review_due_on: date,
        supervisee_feedback: str | None,
    ) -> None:
        self.agreements[agreement_id]["review_due_on"] = next_review_due_on
        self.entries[agreement_id].fields["review_due_on"] = next_review_due_on
        self.agreements[agreement_id]["reviewed"].append(provenance.occurred_at)

    def approve_frequency_exception(
        self,
        provenance: Provenance,
        *,
        frequency: str,
        reason: str,
        agreement_id: str,
        rules: AuthorityRules,
    ) -> None:
        """Supervision less often than standard, approved in the role the authority's
        pack names (a Head of Service [POR-3.1a]); any manager where it names none."""
        self._check_employed(provenance)
        ApprovedOnlyByTheRolesItsPackNames.check(
            provenance.actor_role, rules.approvers(Approval.FREQUENCY_EXCEPTION)
        )
        self.entry(agreement_id, kind="supervision_agreement", field="agreement_id")
        require(
            frequency in AGREEMENT_FREQUENCIES,
            f"frequency must be one of {', '.join(sorted(AGREEMENT_FREQUENCIES))}",
            field="frequency",
        )
        require_text(reason, field="reason")
        self._frequency_exception_approved(provenance, frequency, reason, agreement_id)

    @event(SupervisionFrequencyExceptionApproved)
    def _frequency_exception_approved(
        self, provenance: Provenance, frequency: str, reason: str, agreement_id: str
    ) -> None:
        self.frequency_exception = {
            "frequency": frequency,
            "approved_by": provenance.actor_id,
            "agreement_id": agreement_id,
        }

    # -- supervision sessions [DUR-4.4] -------------------------------------------------

    def schedule_supervision_session(
        self,
        provenance: Provenance,
        *,
        session_id: str,
        supervisor_id: str,
        scheduled_for: datetime,
    ) -> None:
        self._check_employed(provenance)
        self.require_new_entry_id(session_id, field="session_id")
        check_local_id(supervisor_id, field="supervisor_id")
        require(
            supervisor_id != self.staff_id,
            "a worker does not supervise themselves",
            field="supervisor_id",
        )
        _require_aware(scheduled_for, "scheduled_for")
        self._session_scheduled(provenance, session_id, supervisor_id, scheduled_for)

    @event(SupervisionSessionScheduled)
    def _session_scheduled(
        self,
        provenance: Provenance,
        session_id: str,
        supervisor_id: str,
        scheduled_for: datetime,
    ) -> None:
        self._add_entry(
            session_id,
            "supervision_session",
            provenance,
            {"supervisor_id": supervisor_id, "scheduled_for": scheduled_for},
        )
        self.sessions[session_id] = SupervisionSession(
            session_id=session_id,
            supervisor_id=supervisor_id,
            scheduled_for=scheduled_for,
            status="scheduled",
        )

    def _open_session(self, session_id: str) -> SupervisionSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound(f"no supervision session {session_id!r}", field="session_id")
        if session.status != "scheduled":
            raise ValidationError(f"the session is already {session.status}", field="session_id")
        return session

    def cancel_supervision_session(
        self, provenance: Provenance, *, session_id: str, reason: str
    ) -> None:
        """Cancelled only in exceptional circumstances, with a reason, by a party: the
        actor is recorded as who cancelled [DUR-4.4]."""
        self._check_employed(provenance)
        session = self._open_session(session_id)
        party = OnlyAPartyCancelsTheSession.party(
            provenance.actor_id, supervisee_id=self.staff_id, supervisor_id=session.supervisor_id
        )
        CancellationGivesAReason.check(reason)
        require_text(reason, field="reason")
        self._session_cancelled(provenance, session_id, reason, party.value)

    @event(SupervisionSessionCancelled)
    def _session_cancelled(
        self, provenance: Provenance, session_id: str, reason: str, cancelled_by: str
    ) -> None:
        self.sessions[session_id] = replace(
            self.sessions[session_id], status="cancelled", cancellation_reason=reason
        )

    def reschedule_supervision_session(
        self,
        provenance: Provenance,
        *,
        session_id: str,
        new_scheduled_for: datetime | None,
        reason: str,
    ) -> None:
        """A new date is agreed at the time of rescheduling [DUR-4.4]."""
        self._check_employed(provenance)
        self._open_session(session_id)
        RescheduleAgreesANewDate.check(new_scheduled_for)
        assert new_scheduled_for is not None
        _require_aware(new_scheduled_for, "new_scheduled_for")
        require_text(reason, field="reason")
        self._session_rescheduled(provenance, session_id, new_scheduled_for, reason)

    @event(SupervisionSessionRescheduled)
    def _session_rescheduled(
        self, provenance: Provenance, session_id: str, new_scheduled_for: datetime, reason: str
    ) -> None:
        session = self.sessions[session_id]
        self.sessions[session_id] = replace(
            session, scheduled_for=new_scheduled_for, reschedules=session.reschedules + 1
        )
        self.entries[session_id].fields["scheduled_for"] = new_scheduled_for

    def hold_supervision_session(
        self,
        provenance: Provenance,
        *,
        session_id: str,
        supervisor_id: str,
        duration_minutes: int,
        functions_covered: list[str],
        wellbeing_discussed: bool,
        equality_and_diversity_discussed: bool,
        children_discussed: list[str],
    ) -> None:
        """A held session; ``occurred_at`` is when it was held. Unscheduled sessions are fine."""
        self._check_employed(provenance)
        existing = self.sessions.get(session_id)
        if existing is not None:
            self._open_session(session_id)
        else:
            require_text(session_id, field="session_id", max_length=200)
        check_local_id(supervisor_id, field="supervisor_id")
        require(
            supervisor_id != self.staff_id,
            "a worker does not supervise themselves",
            field="supervisor_id",
        )
        require(
            isinstance(duration_minutes, int) and 1 <= duration_minutes <= 480,
            "duration_minutes must be between 1 and 480",
            field="duration_minutes",
        )
        covered = [
            parse_enum(SupervisionFunction, f, field="functions_covered").value
            for f in functions_covered
        ]
        require(
            len(set(covered)) == len(covered),
            "functions are listed once",
            field="functions_covered",
        )
        require(
            len(set(children_discussed)) == len(children_discussed),
            "children are listed once",
            field="children_discussed",
        )
        self._session_held(
            provenance,
            session_id,
            supervisor_id,
            duration_minutes,
            covered,
            wellbeing_discussed,
            equality_and_diversity_discussed,
            list(children_discussed),
        )

    @event(SupervisionSessionHeld)
    def _session_held(
        self,
        provenance: Provenance,
        session_id: str,
        supervisor_id: str,
        duration_minutes: int,
        functions_covered: list[str],
        wellbeing_discussed: bool,
        equality_and_diversity_discussed: bool,
        children_discussed: list[str],
    ) -> None:
        fields = {
            "supervisor_id": supervisor_id,
            "held_on": provenance.occurred_at,
            "duration_minutes": duration_minutes,
            "functions_covered": functions_covered,
            "wellbeing_discussed": wellbeing_discussed,
            "equality_and_diversity_discussed": equality_and_diversity_discussed,
        }
        if session_id in self.entries:
            self.entries[session_id].fields.update(fields)
        else:
            self._add_entry(session_id, "supervision_session", provenance, fields)
        previous = self.sessions.get(session_id)
        self.sessions[session_id] = SupervisionSession(
            session_id=session_id,
            supervisor_id=supervisor_id,
            scheduled_for=previous.scheduled_for if previous else None,
            status="held",
            held_on=provenance.occurred_at,
            reschedules=previous.reschedules if previous else 0,
        )

    # -- personal supervision record [POR-6.2, DUR-4.7a, SHR-APP2, BUR-RC] ---------------

    def write_personal_supervision_record(
        self,
        provenance: Provenance,
        *,
        record_id: str,
        session_id: str,
        actions_reviewed: str,
        wellbeing: str,
        workload: str,
        development: str,
        disagreements: str | None,
        agreed_actions: list[dict[str, Any]],
    ) -> None:
        """The supervisor writes the record of a held session. POR-6.2b is checked by the
        application, which knows the authority's children."""
        self._check_employed(provenance)
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound(f"no supervision session {session_id!r}", field="session_id")
        require(
            session.status == "held", "a record is written for a held session", field="session_id"
        )
        for existing in self.records.values():
            if existing.session_id == session_id:
                SignedRecordIsNeverEdited.check(existing.signed_by)
                raise ValidationError(
                    "this session already has a record; correct it with a reason instead",
                    field="session_id",
                )
        self.require_new_entry_id(record_id, field="record_id")
        texts = {
            "actions_reviewed": actions_reviewed,
            "wellbeing": wellbeing,
            "workload": workload,
            "development": development,
        }
        for name, text in texts.items():
            require_text(text, field=name)
        optional_text(disagreements, field="disagreements")
        actions = parse_actions(agreed_actions)
        self._personal_record_written(
            provenance,
            record_id,
            session_id,
            session.supervisor_id,
            actions_reviewed,
            wellbeing,
            workload,
            development,
            disagreements,
            actions,
        )

    @event(PersonalSupervisionRecordWritten)
    def _personal_record_written(
        self,
        provenance: Provenance,
        record_id: str,
        session_id: str,
        supervisor_id: str,
        actions_reviewed: str,
        wellbeing: str,
        workload: str,
        development: str,
        disagreements: str | None,
        agreed_actions: list[SmartAction],
    ) -> None:
        self._add_entry(
            record_id,
            "personal_record",
            provenance,
            {
                "session_id": session_id,
                "actions_reviewed": actions_reviewed,
                "wellbeing": wellbeing,
                "workload": workload,
                "development": development,
                "disagreements": disagreements,
                "agreed_actions": list(agreed_actions),
            },
        )
        self.records[record_id] = PersonalRecord(
            record_id=record_id, session_id=session_id, supervisor_id=supervisor_id
        )

    def sign_personal_supervision_record(
        self,
        provenance: Provenance,
        *,
        record_id: str,
        confirmed: bool = True,
        differing_view: str | None = None,
        rules: AuthorityRules,
    ) -> None:
        """The actor signs as the party they are: the supervisor named on the record
        signs; the supervisee confirms or disputes with their view [POR-6.2a]; first the
        supervisor, where the authority's pack says so [POR-6.2b]."""
        self._check_employed(provenance)
        record = self.records.get(record_id)
        if record is None:
            raise NotFound(f"no personal record {record_id!r}", field="record_id")
        parties: dict[Signatory, str | None] = {
            Signatory.SUPERVISOR: record.supervisor_id,
            Signatory.SUPERVISEE: self.staff_id,
        }
        party = OnlyTheNamedPartiesSign.party(provenance.actor_id, parties, record.signed_by)
        EachPartySignsOnce.check(record.signed_by, party)
        SupervisorSignsBeforeSuperviseeConfirms.check(
            record.signed_by, party, rules.write_rule(WriteRuleKind.SUPERVISOR_SIGNS_FIRST)
        )
        if party is Signatory.SUPERVISOR:
            require(
                confirmed and differing_view is None,
                "the supervisor signs the record they wrote",
                field="confirmed",
            )
        DisputedSignatureStatesTheDifferingView.check(
            confirmed=confirmed, differing_view=differing_view
        )
        self._personal_record_signed(provenance, record_id, party.value, confirmed, differing_view)

    @event(PersonalSupervisionRecordSigned)
    def _personal_record_signed(
        self,
        provenance: Provenance,
        record_id: str,
        signatory: str,
        confirmed: bool,
        differing_view: str | None,
    ) -> None:
        record = self.records[record_id]
        self.records[record_id] = replace(
            record,
            signed_by=(*record.signed_by, signatory),
            disputed=record.disputed or not confirmed,
        )

    def remove_comment(
        self,
        provenance: Provenance,
        *,
        record_id: str,
        field_name: str,
        reason: str,
        original_supervisors_manager_id: str | None,
        rules: AuthorityRules,
    ) -> None:
        """Remove a damaging comment on change of manager; the removal is recorded. Who
        may is the authority's pack's rule [DUR-4.8b], if it has one."""
        self._check_employed(provenance)
        record = self.records.get(record_id)
        if record is None:
            raise NotFound(f"no personal record {record_id!r}", field="record_id")
        CommentRemovedOnlyByTheOriginalSupervisorsManager.check(
            provenance.actor_id,
            original_supervisors_manager_id,
            rules.write_rule(WriteRuleKind.COMMENT_REMOVED_BY_ORIGINAL_SUPERVISORS_MANAGER),
        )
        require(
            field_name in PERSONAL_RECORD_TEXT_FIELDS,
            f"field_name must be one of {', '.join(PERSONAL_RECORD_TEXT_FIELDS)}",
            field="field_name",
        )
        require_text(reason, field="reason")
        self._comment_removed(provenance, record_id, field_name, reason)

    @event(PersonalRecordCommentRemoved)
    def _comment_removed(
        self, provenance: Provenance, record_id: str, field_name: str, reason: str
    ) -> None:
        from domain.subject import Correction

        self.entries[record_id].corrections.append(
            Correction(
                corrected_at=self.modified_on_next,
                occurred_at=provenance.occurred_at,
                changes={field_name: None},
                reason=f"comment removed [DUR-4.8b]: {reason}",
                actor_id=provenance.actor_id,
            )
        )

    # -- absences [POR-3.1e, DUR-4.4, DUR-4.5, SHR-3.6b] -------------------------------

    def start_absence(
        self, provenance: Provenance, *, absence_id: str, kind: str, started_on: date
    ) -> None:
        """Supervisor absence (planned/unplanned) or own sickness absence."""
        self._check_employed(provenance)
        require_text(absence_id, field="absence_id", max_length=200)
        require(absence_id not in self.absences, "absence id already used", field="absence_id")
        absence_kind = parse_enum(AbsenceKind, kind, field="kind")
        require(
            all(a.ended_on is not None for a in self.absences.values()),
            "an absence is already open; end it first",
            field="absence_id",
        )
        require(
            started_on <= provenance.occurred_at.date(),
            "an absence cannot start after it is recorded",
            field="started_on",
        )
        self._absence_started(provenance, absence_id, absence_kind.value, started_on)

    @event(AbsenceStarted)
    def _absence_started(
        self, provenance: Provenance, absence_id: str, kind: str, started_on: date
    ) -> None:
        self.absences[absence_id] = Absence(absence_id, AbsenceKind(kind), started_on)

    def end_absence(self, provenance: Provenance, *, absence_id: str, returned_on: date) -> None:
        """Return to work; after sickness a session is due within 5 working days [DUR-4.4]."""
        self._check_employed(provenance)
        absence = self.absences.get(absence_id)
        if absence is None:
            raise NotFound(f"no absence {absence_id!r}", field="absence_id")
        require(absence.ended_on is None, "the absence has already ended", field="absence_id")
        require(
            returned_on >= absence.started_on,
            "return precedes the start of the absence",
            field="returned_on",
        )
        self._absence_ended(provenance, absence_id, returned_on)

    @event(AbsenceEnded)
    def _absence_ended(self, provenance: Provenance, absence_id: str, returned_on: date) -> None:
        self.absences[absence_id] = replace(self.absences[absence_id], ended_on=returned_on)

    # -- other supervision forms [DEV-7, DUR-5, DUR-6, DEV-8, DUR-7, POR-4, BUR-ER] ----

    def attend_group_supervision(
        self,
        provenance: Provenance,
        *,
        group_session_id: str,
        facilitator_id: str,
        topic: str,
        session_kind: str = TeamSessionKind.GROUP_SUPERVISION.value,
    ) -> None:
        """The worker attended a team's group session: group supervision by default, or
        a team meeting or practice development session of a team's programme [POR-3.3]."""
        self._check_employed(provenance)
        self.require_new_entry_id(group_session_id, field="group_session_id")
        check_local_id(facilitator_id, field="facilitator_id")
        require_text(topic, field="topic", max_length=500)
        kind = team_session_kind(session_kind)
        self._group_supervision_attended(
            provenance, group_session_id, facilitator_id, topic, kind.value
        )

    @event(GroupSupervisionAttended)
    def _group_supervision_attended(
        self,
        provenance: Provenance,
        group_session_id: str,
        facilitator_id: str,
        topic: str,
        session_kind: str,
    ) -> None:
        self._add_entry(
            group_session_id,
            "group_supervision",
            provenance,
            {
                "attended_on": provenance.occurred_at,
                "facilitator_id": facilitator_id,
                "topic": topic,
                "session_kind": session_kind,
            },
        )

    def record_direct_observation(
        self, provenance: Provenance, *, observation_id: str, observer_id: str, summary: str
    ) -> None:
        self._check_employed(provenance)
        self.require_new_entry_id(observation_id, field="observation_id")
        check_local_id(observer_id, field="observer_id")
        require_text(summary, field="summary")
        self._direct_observation_recorded(provenance, observation_id, observer_id, summary)

    @event(DirectObservationRecorded)
    def _direct_observation_recorded(
        self, provenance: Provenance, observation_id: str, observer_id: str, summary: str
    ) -> None:
        self._add_entry(
            observation_id,
            "direct_observation",
            provenance,
            {
                "observed_on": provenance.occurred_at,
                "observer_id": observer_id,
                "summary": summary,
            },
        )
        self.observations[observation_id] = ()

    def sign_direct_observation(self, provenance: Provenance, *, observation_id: str) -> None:
        """Signed and dated by supervisee, observer and line manager (if different): the
        actor signs as the party they are [DUR-6]."""
        self._check_employed(provenance)
        if observation_id not in self.observations:
            raise NotFound(f"no direct observation {observation_id!r}", field="observation_id")
        parties: dict[Signatory, str | None] = {
            Signatory.SUPERVISEE: self.staff_id,
            Signatory.OBSERVER: self.entries[observation_id].fields.get("observer_id"),
            Signatory.LINE_MANAGER: self.employment.line_manager_id,
        }
        party = OnlyTheNamedPartiesSign.party(
            provenance.actor_id, parties, self.observations[observation_id]
        )
        EachPartySignsOnce.check(self.observations[observation_id], party)
        self._direct_observation_signed(provenance, observation_id, party.value)

    @event(DirectObservationSigned)
    def _direct_observation_signed(
        self, provenance: Provenance, observation_id: str, signatory: str
    ) -> None:
        self.observations[observation_id] = (*self.observations[observation_id], signatory)

    def hold_appraisal(self, provenance: Provenance, *, appraisal_id: str, kind: str) -> None:
        self._check_employed(provenance)
        self.require_new_entry_id(appraisal_id, field="appraisal_id")
        require(
            kind in ("appraisal", "pdr", "six_month_review"),
            "kind is appraisal, pdr or six_month_review",
            field="kind",
        )
        self._appraisal_held(provenance, appraisal_id, kind)

    @event(AppraisalHeld)
    def _appraisal_held(self, provenance: Provenance, appraisal_id: str, kind: str) -> None:
        self._add_entry(
            appraisal_id, "appraisal", provenance, {"held_on": provenance.occurred_at, "kind": kind}
        )

    # -- signatures a correction voids [DUR-4.7a, POR-6.2a, DUR-6] ------------------------

    def signatures_on(self, entry_id: str) -> tuple[str, ...]:
        if entry_id in self.records:
            return self.records[entry_id].signed_by
        return self.observations.get(entry_id, ())

    def _void_signatures(self, entry_id: str) -> None:
        if entry_id in self.records:
            self.records[entry_id] = replace(self.records[entry_id], signed_by=(), disputed=False)
        elif entry_id in self.observations:
            self.observations[entry_id] = ()

    # -- caseload: open cases allocated, kept in step with the Child in the same save ----

    def take_on_child(self, provenance: Provenance, child_id: str) -> None:
        self._check_employed(provenance)
        require(
            child_id not in self.caseload, "the child is already on this caseload", field="child_id"
        )
        self._child_taken_on(provenance, child_id)

    @event(ChildAddedToCaseload)
    def _child_taken_on(self, provenance: Provenance, child_id: str) -> None:
        self.caseload.add(child_id)
        self.left_caseload.pop(child_id, None)

    def hand_over_child(self, provenance: Provenance, child_id: str) -> None:
        self.check_provenance(provenance)
        require(child_id in self.caseload, "the child is not on this caseload", field="child_id")
        self._child_handed_over(provenance, child_id)

    @event(ChildRemovedFromCaseload)
    def _child_handed_over(self, provenance: Provenance, child_id: str) -> None:
        self.caseload.discard(child_id)
        day = provenance.occurred_at.date()
        self.left_caseload[child_id] = day
        since = day - PersonalRecordHoldsNoServiceUserInformation.NAMES_LOOKBACK
        for gone in [c for c, on in self.left_caseload.items() if on < since]:
            del self.left_caseload[gone]

    def children_worked_with(self, on: date) -> set[str]:
        """The children on the caseload, and those who left it within the last year of
        ``on``: whom a personal record must not name [POR-6.2b]."""
        since = on - PersonalRecordHoldsNoServiceUserInformation.NAMES_LOOKBACK
        return self.caseload | {c for c, left in self.left_caseload.items() if left >= since}

    @property
    def line_manager_id(self) -> str | None:
        return self.employment.line_manager_id

    # -- quality assurance: audits of the supervision file [SHR-5.8, DUR-7] (ADR 0023) ----

    SupervisionFileAudited = SupervisionFileAudited

    def audit_supervision_file(
        self,
        provenance: Provenance,
        *,
        audit_id: str,
        period_from: date,
        period_to: date,
        answers: dict[str, bool],
        judgement: str,
        comment: str,
        rules: QualityRules,
        chain: tuple[str, ...],
    ) -> None:
        """The caller audits this file with the authority's own tool, as the auditor its
        pack's quota names (``chain``: the worker's line management, nearest first)."""
        self._check_employed(provenance)
        self.require_new_entry_id(audit_id, field="audit_id")
        check_period(period_from, period_to, provenance.occurred_at.date())
        tool = AuditIsGradedWithItsAuthoritysTool.tool(rules, AuditRecord.SUPERVISION_FILE)
        AuditIsGradedWithItsAuthoritysTool.check(tool, answers, judgement)
        require(
            isinstance(comment, str) and len(comment) <= 10_000,
            "comment is text of at most 10,000 characters",
            field="comment",
        )
        role = self.employment.role.value
        AuditedByTheRelationshipItsPackNames.check(
            rules, AuditRecord.SUPERVISION_FILE, role, provenance.actor_id, chain
        )
        self._supervision_file_audited(
            provenance,
            audit_id,
            provenance.actor_id,
            self.employment.line_manager_id,
            role,
            period_from,
            period_to,
            dict(answers),
            judgement,
            comment,
        )

    @event(SupervisionFileAudited)
    def _supervision_file_audited(
        self,
        provenance: Provenance,
        audit_id: str,
        auditor_id: str,
        supervisor_id: str | None,
        file_role: str,
        period_from: date,
        period_to: date,
        answers: dict[str, bool],
        judgement: str,
        comment: str,
    ) -> None:
        self._add_entry(
            audit_id,
            "quality_audit",
            provenance,
            {"judgement": judgement, "supervisor_id": supervisor_id, "comment": comment},
        )
        audited = {self.staff_id, *([supervisor_id] if supervisor_id else [])}
        self.audits[audit_id] = Audit(
            audit_id,
            AuditRecord.SUPERVISION_FILE,
            auditor_id,
            frozenset(audited),
            judgement,
        )


def _parse_fte(value: Decimal | str | float, pattern: EmploymentPattern) -> Decimal:
    try:
        fte = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError("fte must be a number", field="fte") from None
    if not (Decimal("0.01") <= fte <= Decimal("1")):
        raise ValidationError("fte must be between 0.01 and 1", field="fte")
    if pattern is EmploymentPattern.FULL_TIME and fte != Decimal("1"):
        raise ValidationError("a full-time worker has fte 1", field="fte")
    if pattern is EmploymentPattern.PART_TIME and fte == Decimal("1"):
        raise ValidationError("a part-time worker has fte below 1", field="fte")
    return fte


def _parse_weekly_hours(value: Decimal | str | float | None) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError("weekly_hours must be a number", field="weekly_hours") from None
    if not (Decimal("0.5") <= hours <= Decimal("60")):
        raise ValidationError("weekly_hours must be between 0.5 and 60", field="weekly_hours")
    return hours


def _require_aware(value: datetime, field: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError("must be a date-time with a time zone offset", field=field)
