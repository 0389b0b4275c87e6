"""The Child aggregate: a child's case, its supervision, oversight and decisions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain import events as catalogue
from domain.errors import NotFound, ValidationError
from domain.events import (
    ActionCarriedForward,
    ActionCompleted,
    ActionSet,
    AdoptionOrderRecorded,
    AssessmentCompleted,
    CaseClosed,
    CaseFileAudited,
    CaseSupervisionRecorded,
    CaseTypeChanged,
    ChildCameIntoCare,
    ChildDeathRecorded,
    ChildInNeedEpisodeClosed,
    ChildInNeedPlanStarted,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    ChildRegistered,
    ChildReturnedHome,
    GroupSupervisionDiscussionRecorded,
    InitialChildProtectionConferenceHeld,
    LegalStatusChanged,
    LookedAfterReviewHeld,
    ManagementDecisionRecorded,
    ManagementOversightRecorded,
    OversightTriggered,
    PeriodOfCareEnded,
    PlacementChanged,
    ReferralReceived,
    RiskLevelChanged,
    Section47EnquiryStarted,
    TeamAllocated,
    ThresholdChanged,
    WorkerAllocated,
)
from domain.governance import Approval, AuthorityRules
from domain.identifiers import check_local_id, child_id
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
    CarriedForwardActionHasARationale,
    ManagementOversightIsAManagersDecision,
    OccurredAtIsNotInTheFuture,
    OversightAnswersOpenTriggers,
    OversightRecordHasEveryHeading,
    SignificantIncidentHasItsDates,
    require,
)
from domain.subject import Subject
from domain.values import SmartAction
from domain.vocabulary import (
    AUTOMATIC_TRIGGERS,
    CAPACITIES,
    RAG,
    AllocationChangeReason,
    CaseClosureKind,
    CaseType,
    CategoryOfAbuse,
    DisagreementSubject,
    LegalHoldKind,
    OversightTriggerKind,
    PrimaryNeed,
    ReasonForClosure,
    RiskLevel,
    parse_enum,
    parse_role,
)
from domain.worker import parse_actions


@dataclass(frozen=True)
class Trigger:
    trigger_id: str
    kind: OversightTriggerKind
    raised_at: datetime
    automatic: bool
    answered_by: str | None = None


@dataclass(frozen=True)
class ActionState:
    action: SmartAction
    source_entry_id: str
    due_on: date
    completed_on: date | None = None
    carried_forward: int = 0


class Child(Subject):
    """A child known to the authority, from referral (or pre-birth) to closure."""

    # The catalogue events a Child triggers. The library subclasses each one as an
    # attribute of the aggregate (``Child.CaseClosed``, the topic it is stored under),
    # so each must be an attribute here first.
    ActionCarriedForward = ActionCarriedForward
    ActionCompleted = ActionCompleted
    ActionSet = ActionSet
    AdoptionOrderRecorded = AdoptionOrderRecorded
    CaseClosed = CaseClosed
    CaseSupervisionRecorded = CaseSupervisionRecorded
    CaseTypeChanged = CaseTypeChanged
    ChildCameIntoCare = ChildCameIntoCare
    ChildDeathRecorded = ChildDeathRecorded
    ChildRegistered = ChildRegistered
    ChildReturnedHome = ChildReturnedHome
    GroupSupervisionDiscussionRecorded = GroupSupervisionDiscussionRecorded
    LegalStatusChanged = LegalStatusChanged
    LookedAfterReviewHeld = LookedAfterReviewHeld
    ManagementDecisionRecorded = ManagementDecisionRecorded
    ManagementOversightRecorded = ManagementOversightRecorded
    OversightTriggered = OversightTriggered
    PeriodOfCareEnded = PeriodOfCareEnded
    PlacementChanged = PlacementChanged
    RiskLevelChanged = RiskLevelChanged
    TeamAllocated = TeamAllocated
    ThresholdChanged = ThresholdChanged
    WorkerAllocated = WorkerAllocated
    # A child in need: the DfE CIN census (ADR 0026).
    AssessmentCompleted = AssessmentCompleted
    ChildInNeedEpisodeClosed = ChildInNeedEpisodeClosed
    ChildInNeedPlanStarted = ChildInNeedPlanStarted
    ChildProtectionPlanEnded = ChildProtectionPlanEnded
    ChildProtectionPlanReviewed = ChildProtectionPlanReviewed
    ChildProtectionPlanStarted = ChildProtectionPlanStarted
    InitialChildProtectionConferenceHeld = InitialChildProtectionConferenceHeld
    ReferralReceived = ReferralReceived
    Section47EnquiryStarted = Section47EnquiryStarted

    DISAGREEMENT_SUBJECTS: ClassVar[frozenset[DisagreementSubject]] = frozenset(
        {DisagreementSubject.DECISION_ON_CHILD}
    )
    CORRECTABLE: ClassVar[dict[str, frozenset[str]]] = {
        "case_supervision": frozenset(
            {
                "current_situation",
                "child_last_seen_on",
                "childs_views",
                "reflection",
                "analysis",
                "decision",
                "rationale",
                "previous_actions_reviewed",
            }
        ),
        "management_oversight": frozenset({"reason", "current_situation", "decision", "rationale"}),
        "management_decision": frozenset({"decision", "rationale"}),
        "group_discussion": frozenset({"summary"}),
        # A child in need (ADR 0026): what a corrected census may change; the dates that
        # identify each module are its entry id, and a plan's end changes the case type.
        "cin_episode": frozenset({"referral_source", "primary_need", "reason_for_closure"}),
        "assessment": frozenset({"started_on", "factors"}),
        "section47": frozenset({"conference_required"}),
        "child_protection_plan": frozenset({"category_of_abuse"}),
    }

    @staticmethod
    def create_id(authority_code: str, local_child_id: str) -> UUID:
        return child_id(authority_code, local_child_id)

    @classmethod
    def register(
        cls,
        *,
        provenance: Provenance,
        authority_code: str,
        local_child_id: str,
        date_of_birth: date | None,
        expected_date_of_birth: date | None,
        case_type: str,
        risk_level: str,
        rag: str | None = None,
        name: str | None = None,
    ) -> Child:
        """Register a child (or an unborn child, by expected date)."""
        OccurredAtIsNotInTheFuture.check(provenance.occurred_at)
        check_local_id(local_child_id, field="child_id")
        require(
            (date_of_birth is None) != (expected_date_of_birth is None),
            "give exactly one of date_of_birth or expected_date_of_birth (unborn child)",
            field="date_of_birth",
        )
        if date_of_birth is not None:
            require(
                date_of_birth <= provenance.occurred_at.date(),
                "date_of_birth is in the future; use expected_date_of_birth for an unborn child",
                field="date_of_birth",
            )
        parse_enum(CaseType, case_type, field="case_type")
        parse_enum(RiskLevel, risk_level, field="risk_level")
        if rag is not None:
            parse_enum(RAG, rag, field="rag")
        optional_text(name, field="name", max_length=200)
        return cls(
            provenance=provenance,
            authority_code=authority_code,
            local_child_id=local_child_id,
            date_of_birth=date_of_birth,
            expected_date_of_birth=expected_date_of_birth,
            case_type=case_type,
            risk_level=risk_level,
            rag=rag,
            name=name,
        )

    @event(ChildRegistered)
    def __init__(
        self,
        *,
        provenance: Provenance,
        authority_code: str,
        local_child_id: str,
        date_of_birth: date | None,
        expected_date_of_birth: date | None,
        case_type: str,
        risk_level: str,
        rag: str | None,
        name: str | None,
    ) -> None:
        self._init_subject(authority_code, provenance)
        self.local_child_id = local_child_id
        self.name = name
        self.date_of_birth = date_of_birth
        self.expected_date_of_birth = expected_date_of_birth
        self.case_type = CaseType(case_type)
        self.risk_level = RiskLevel(risk_level)
        self.rag = RAG(rag) if rag else None
        self.threshold: str | None = None
        self.legal_status: str | None = None
        self.in_care = False
        self.placement: str | None = None
        self.allocated_worker_id: str | None = None
        self.team: str | None = None
        self.closed: CaseClosureKind | None = None
        self.adoption_order_on: date | None = None
        self.last_review_on: date | None = None
        self.died_on: date | None = None
        #: The open child-in-need episode and child protection plan (entry ids), if any.
        self.open_cin_episode: str | None = None
        self.open_cp_plan: str | None = None
        self.triggers: dict[str, Trigger] = {}
        self.actions: dict[str, ActionState] = {}

    # -- helpers -----------------------------------------------------------------------

    def _check_open(self, provenance: Provenance) -> None:
        self.check_provenance(provenance)
        if self.closed is not None:
            raise ValidationError(f"the case is {self.closed.value}", field="child_id")

    def _raise_automatic(self, provenance: Provenance, kind: OversightTriggerKind) -> None:
        """Key points that are themselves events raise their trigger at once [DEV-6]."""
        trigger_id = f"{provenance.command_id}:{kind.value}"
        self._oversight_triggered(provenance, trigger_id, kind.value, True, None, [])

    @property
    def open_triggers(self) -> list[Trigger]:
        return [t for t in self.triggers.values() if t.answered_by is None]

    # -- allocation --------------------------------------------------------------------

    def allocate_worker(
        self, provenance: Provenance, *, worker_id: str, reason: str, team: str
    ) -> None:
        """Allocate or reallocate; a new practitioner raises DEV-6 (1)."""
        self._check_open(provenance)
        check_local_id(worker_id, field="worker_id")
        code = parse_enum(AllocationChangeReason, reason, field="reason")
        require_text(team, field="team", max_length=200)
        require(
            worker_id != self.allocated_worker_id,
            "the child is already allocated to them",
            field="worker_id",
        )
        if self.allocated_worker_id is None:
            require(
                code is AllocationChangeReason.NEW,
                "a first allocation has reason NEW",
                field="reason",
            )
        else:
            require(
                code is not AllocationChangeReason.NEW,
                "a reallocation gives an SSDA903 change reason code",
                field="reason",
            )
        self._worker_allocated(provenance, worker_id, code.value, team)
        self._raise_automatic(provenance, OversightTriggerKind.ALLOCATION_TO_NEW_PRACTITIONER)

    @event(WorkerAllocated)
    def _worker_allocated(
        self, provenance: Provenance, worker_id: str, reason: str, team: str
    ) -> None:
        self.allocated_worker_id = worker_id
        self.team = team

    def allocate_team(self, provenance: Provenance, *, team: str) -> None:
        self._check_open(provenance)
        require_text(team, field="team", max_length=200)
        require(team != self.team, "the child is already with that team", field="team")
        self._team_allocated(provenance, team)

    @event(TeamAllocated)
    def _team_allocated(self, provenance: Provenance, team: str) -> None:
        self.team = team

    # -- case changes ------------------------------------------------------------------

    def change_case_type(self, provenance: Provenance, *, case_type: str) -> None:
        self._check_open(provenance)
        new = parse_enum(CaseType, case_type, field="case_type")
        require(new is not self.case_type, "the case already has that type", field="case_type")
        self._case_type_changed(provenance, new.value)

    @event(CaseTypeChanged)
    def _case_type_changed(self, provenance: Provenance, case_type: str) -> None:
        self.case_type = CaseType(case_type)

    def change_threshold(self, provenance: Provenance, *, threshold: str) -> None:
        """A change in threshold raises DEV-6 (9)."""
        self._check_open(provenance)
        require_text(threshold, field="threshold", max_length=100)
        require(
            threshold != self.threshold, "the case is already at that threshold", field="threshold"
        )
        self._threshold_changed(provenance, threshold)
        self._raise_automatic(provenance, OversightTriggerKind.THRESHOLD_CHANGE)

    @event(ThresholdChanged)
    def _threshold_changed(self, provenance: Provenance, threshold: str) -> None:
        self.threshold = threshold

    def change_risk_level(
        self, provenance: Provenance, *, risk_level: str, rag: str | None = None
    ) -> None:
        self._check_open(provenance)
        level = parse_enum(RiskLevel, risk_level, field="risk_level")
        rating = parse_enum(RAG, rag, field="rag") if rag is not None else None
        require(
            level is not self.risk_level or rating is not self.rag,
            "nothing changes",
            field="risk_level",
        )
        self._risk_level_changed(provenance, level.value, rating.value if rating else None)

    @event(RiskLevelChanged)
    def _risk_level_changed(self, provenance: Provenance, risk_level: str, rag: str | None) -> None:
        self.risk_level = RiskLevel(risk_level)
        if rag is not None:
            self.rag = RAG(rag)

    def change_legal_status(self, provenance: Provenance, *, legal_status: str) -> None:
        """SSDA903 legal status codes (C1, C2, V2, E1...) are free text here."""
        self._check_open(provenance)
        require_text(legal_status, field="legal_status", max_length=20)
        require(
            legal_status != self.legal_status, "already that legal status", field="legal_status"
        )
        self._legal_status_changed(provenance, legal_status)

    @event(LegalStatusChanged)
    def _legal_status_changed(self, provenance: Provenance, legal_status: str) -> None:
        self.legal_status = legal_status

    def record_came_into_care(
        self, provenance: Provenance, *, legal_status: str, placement: str
    ) -> None:
        """Raises DEV-6 (4)."""
        self._check_open(provenance)
        require(not self.in_care, "the child is already in care", field="child_id")
        require_text(legal_status, field="legal_status", max_length=20)
        require_text(placement, field="placement", max_length=20)
        self._came_into_care(provenance, legal_status, placement)
        self._raise_automatic(provenance, OversightTriggerKind.CAME_INTO_CARE)

    @event(ChildCameIntoCare)
    def _came_into_care(self, provenance: Provenance, legal_status: str, placement: str) -> None:
        self.in_care = True
        self.legal_status = legal_status
        self.placement = placement

    def change_placement(self, provenance: Provenance, *, placement: str, reason: str) -> None:
        self._check_open(provenance)
        require(self.in_care, "only a child in care has a placement", field="placement")
        require_text(placement, field="placement", max_length=20)
        require_text(reason, field="reason", max_length=500)
        self._placement_changed(provenance, placement, reason)

    @event(PlacementChanged)
    def _placement_changed(self, provenance: Provenance, placement: str, reason: str) -> None:
        self.placement = placement

    def record_returned_home(self, provenance: Provenance, *, reason: str) -> None:
        """Raises DEV-6 (7)."""
        self._check_open(provenance)
        require(self.in_care, "the child is not in care", field="child_id")
        require_text(reason, field="reason", max_length=500)
        self._returned_home(provenance, reason)
        self._raise_automatic(provenance, OversightTriggerKind.RETURNED_HOME)

    @event(ChildReturnedHome)
    def _returned_home(self, provenance: Provenance, reason: str) -> None:
        self.in_care = False
        self.placement = None

    def record_care_ended(self, provenance: Provenance, *, reason_code: str) -> None:
        """A period of care ends other than by returning home: adopted, a special
        guardianship or child arrangements order, care taken over by another authority,
        staying put at 18... (SSDA903 REC codes, free text here)."""
        self._check_open(provenance)
        require(self.in_care, "the child is not in care", field="child_id")
        require_text(reason_code, field="reason_code", max_length=20)
        self._care_ended(provenance, reason_code)

    @event(PeriodOfCareEnded)
    def _care_ended(self, provenance: Provenance, reason_code: str) -> None:
        self.in_care = False
        self.placement = None

    def record_looked_after_review(
        self, provenance: Provenance, *, review_on: date, review_code: str
    ) -> None:
        """A looked-after child's review (SSDA903 reviews: the date, and how the child
        took part, PN0-PN7)."""
        self.check_provenance(provenance)
        require(isinstance(review_on, date), "a date", field="review_on")
        require(
            review_on <= provenance.occurred_at.date(),
            "a review cannot be in the future",
            field="review_on",
        )
        require_text(review_code, field="review_code", max_length=20)
        self._looked_after_review_held(provenance, review_on, review_code)

    @event(LookedAfterReviewHeld)
    def _looked_after_review_held(
        self, provenance: Provenance, review_on: date, review_code: str
    ) -> None:
        self.last_review_on = review_on

    def close_case(self, provenance: Provenance, *, kind: str, reason: str) -> None:
        """Closed, transferred, or stepped across to early help: raises DEV-6 (13)."""
        self._check_open(provenance)
        closure = parse_enum(CaseClosureKind, kind, field="kind")
        require_text(reason, field="reason", max_length=2000)
        self._raise_automatic(provenance, OversightTriggerKind.CLOSURE_OR_TRANSFER)
        self._case_closed(provenance, closure.value, reason)

    @event(CaseClosed)
    def _case_closed(self, provenance: Provenance, kind: str, reason: str) -> None:
        self.closed = CaseClosureKind(kind)

    # -- a child in need: the DfE CIN census (ADR 0026) ---------------------------------
    # Each census module is an entry (its id made by the importer from the child and the
    # module's own dates), so a corrected census corrects it rather than adding another.
    # A child protection plan makes the case child protection, whose case-supervision
    # frequency each pack sets [DEV-5.1b, BUR-SD]; its pack alone decides whether a plan's
    # events are key points (``[[key_point]]``, domain/policy/key_points.py).

    def _past_day(self, provenance: Provenance, day: date, *, field: str) -> None:
        require(isinstance(day, date), "a date", field=field)
        require(day <= provenance.occurred_at.date(), "a date cannot be in the future", field=field)

    def _episode(self, episode_id: str, *, field: str = "episode_id") -> dict[str, Any]:
        return self.entry(episode_id, kind="cin_episode", field=field).current()

    def _raise_key_points(
        self,
        provenance: Provenance,
        kind: type,
        fields: dict[str, Any],
        rules: AuthorityRules,
    ) -> None:
        """The key points the child's own pack declares on this event [DEV-6]."""
        for point in rules.key_points_on(kind, fields):
            trigger_id = f"{provenance.command_id}:{point.kind.value}"
            if trigger_id not in self.triggers:
                self._oversight_triggered(
                    provenance, trigger_id, point.kind.value, True, point.detail, []
                )

    def record_referral(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        referral_on: date,
        referral_source: str,
        primary_need: str,
        no_further_action: bool = False,
    ) -> None:
        """A referral: it opens a child-in-need episode unless no further action follows.
        Episodes do not overlap (CIN census 8820)."""
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        self._past_day(provenance, referral_on, field="referral_on")
        require_text(referral_source, field="referral_source", max_length=10)
        parse_enum(PrimaryNeed, primary_need, field="primary_need")
        require(isinstance(no_further_action, bool), "true or false", field="no_further_action")
        require(
            self.open_cin_episode is None,
            f"8820 the child-in-need episode {self.open_cin_episode} is still open",
            field="referral_on",
        )
        self._referral_received(
            provenance, entry_id, referral_on, referral_source, primary_need, no_further_action
        )

    @event(ReferralReceived)
    def _referral_received(
        self,
        provenance: Provenance,
        entry_id: str,
        referral_on: date,
        referral_source: str,
        primary_need: str,
        no_further_action: bool,
    ) -> None:
        fields = {
            "referral_on": referral_on,
            "referral_source": referral_source,
            "primary_need": primary_need,
            "no_further_action": no_further_action,
            "closed_on": None,
            "reason_for_closure": None,
        }
        self._add_entry(entry_id, "cin_episode", provenance, fields)
        if not no_further_action:
            self.open_cin_episode = entry_id

    def record_assessment(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        episode_id: str,
        started_on: date,
        authorised_on: date,
        factors: list[str] | None = None,
    ) -> None:
        """A completed assessment: started no later than authorised (CIN census 8608), each
        factor once (8898)."""
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        self._episode(episode_id)
        self._past_day(provenance, started_on, field="started_on")
        self._past_day(provenance, authorised_on, field="authorised_on")
        require(
            started_on <= authorised_on,
            "8608 an assessment cannot start after it is authorised",
            field="started_on",
        )
        found = list(factors or [])
        for factor in found:
            require_text(factor, field="factors", max_length=10)
        require(len(set(found)) == len(found), "8898 a factor given twice", field="factors")
        self._assessment_completed(
            provenance, entry_id, episode_id, started_on, authorised_on, found
        )

    @event(AssessmentCompleted)
    def _assessment_completed(
        self,
        provenance: Provenance,
        entry_id: str,
        episode_id: str,
        started_on: date,
        authorised_on: date,
        factors: list[str],
    ) -> None:
        fields = {
            "episode_id": episode_id,
            "started_on": started_on,
            "authorised_on": authorised_on,
            "factors": list(factors),
        }
        self._add_entry(entry_id, "assessment", provenance, fields)

    def record_section47_enquiry(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        episode_id: str,
        started_on: date,
        conference_required: bool = True,
    ) -> None:
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        self._episode(episode_id)
        self._past_day(provenance, started_on, field="started_on")
        require(isinstance(conference_required, bool), "true or false", field="conference_required")
        self._section47_enquiry_started(
            provenance, entry_id, episode_id, started_on, conference_required
        )

    @event(Section47EnquiryStarted)
    def _section47_enquiry_started(
        self,
        provenance: Provenance,
        entry_id: str,
        episode_id: str,
        started_on: date,
        conference_required: bool,
    ) -> None:
        fields = {
            "episode_id": episode_id,
            "started_on": started_on,
            "conference_required": conference_required,
        }
        self._add_entry(entry_id, "section47", provenance, fields)

    def _after_referral(
        self, provenance: Provenance, episode: dict[str, Any], day: date, what: str, *, field: str
    ) -> None:
        """A census date of an episode: not in the future, not before the referral that
        opened the episode (``what`` says which it would be)."""
        self._past_day(provenance, day, field=field)
        require(day >= episode["referral_on"], what, field=field)

    def record_initial_child_protection_conference(
        self, provenance: Provenance, *, entry_id: str, episode_id: str, held_on: date
    ) -> None:
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        episode = self._episode(episode_id)
        self._after_referral(
            provenance,
            episode,
            held_on,
            "a conference before the referral that opened the episode",
            field="held_on",
        )
        self._initial_conference_held(provenance, entry_id, episode_id, held_on)

    @event(InitialChildProtectionConferenceHeld)
    def _initial_conference_held(
        self, provenance: Provenance, entry_id: str, episode_id: str, held_on: date
    ) -> None:
        fields = {"episode_id": episode_id, "held_on": held_on}
        self._add_entry(entry_id, "initial_child_protection_conference", provenance, fields)

    def start_child_protection_plan(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        episode_id: str,
        started_on: date,
        category_of_abuse: str,
        rules: AuthorityRules,
    ) -> None:
        """A plan starts within an open episode, one plan at a time; the case becomes child
        protection."""
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        episode = self._episode(episode_id)
        require(
            self.open_cin_episode == episode_id,
            "8565 the child-in-need episode is not open",
            field="episode_id",
        )
        self._after_referral(
            provenance,
            episode,
            started_on,
            "a plan before the referral that opened the episode",
            field="started_on",
        )
        require(
            self.open_cp_plan is None,
            f"the child protection plan {self.open_cp_plan} has not ended",
            field="started_on",
        )
        category = parse_enum(CategoryOfAbuse, category_of_abuse, field="category_of_abuse")
        self._cp_plan_started(provenance, entry_id, episode_id, started_on, category.value)
        if self.case_type is not CaseType.CP:
            self._case_type_changed(provenance, CaseType.CP.value)
        self._raise_key_points(
            provenance, ChildProtectionPlanStarted, {"category_of_abuse": category.value}, rules
        )

    @event(ChildProtectionPlanStarted)
    def _cp_plan_started(
        self,
        provenance: Provenance,
        entry_id: str,
        episode_id: str,
        started_on: date,
        category_of_abuse: str,
    ) -> None:
        fields = {
            "episode_id": episode_id,
            "started_on": started_on,
            "category_of_abuse": category_of_abuse,
            "review_dates": [],
            "ended_on": None,
        }
        self._add_entry(entry_id, "child_protection_plan", provenance, fields)
        self.open_cp_plan = entry_id

    def _open_plan(self, entry_id: str) -> dict[str, Any]:
        plan = self.entry(entry_id, kind="child_protection_plan").current()
        require(self.open_cp_plan == entry_id, "the plan has ended", field="entry_id")
        return plan

    def review_child_protection_plan(
        self, provenance: Provenance, *, entry_id: str, reviewed_on: date, rules: AuthorityRules
    ) -> None:
        """A review conference of the open plan, after its start and its last review."""
        self._check_open(provenance)
        plan = self._open_plan(entry_id)
        self._past_day(provenance, reviewed_on, field="reviewed_on")
        last = plan["review_dates"][-1] if plan["review_dates"] else plan["started_on"]
        require(
            reviewed_on > last,
            "a review conference after the plan's start and its last review",
            field="reviewed_on",
        )
        number = len(plan["review_dates"]) + 1
        self._cp_plan_reviewed(provenance, entry_id, reviewed_on, number)
        self._raise_key_points(
            provenance, ChildProtectionPlanReviewed, {"review_number": number}, rules
        )

    @event(ChildProtectionPlanReviewed)
    def _cp_plan_reviewed(
        self, provenance: Provenance, entry_id: str, reviewed_on: date, review_number: int
    ) -> None:
        self.entries[entry_id].fields["review_dates"].append(reviewed_on)

    def end_child_protection_plan(
        self, provenance: Provenance, *, entry_id: str, ended_on: date, rules: AuthorityRules
    ) -> None:
        """The open plan ends, after the day it started (CIN census 8840); at a review
        conference if one was held that day. The case is child in need again while its
        episode is open (looked after, if the child is in care)."""
        self._check_open(provenance)
        plan = self._open_plan(entry_id)
        self._past_day(provenance, ended_on, field="ended_on")
        require(
            ended_on > plan["started_on"],
            "8840 a child protection plan cannot start and end on the same day",
            field="ended_on",
        )
        reviews: list[date] = plan["review_dates"]
        require(
            not reviews or ended_on >= reviews[-1],
            "a plan cannot end before its last review conference",
            field="ended_on",
        )
        at_review = len(reviews) if reviews and reviews[-1] == ended_on else None
        self._cp_plan_ended(provenance, entry_id, ended_on, at_review)
        if self.case_type is CaseType.CP:
            # A child in care is looked after; otherwise in need while the episode is open.
            after = CaseType.CLA if self.in_care else CaseType.CIN
            if self.in_care or self.open_cin_episode is not None:
                self._case_type_changed(provenance, after.value)
        self._raise_key_points(
            provenance, ChildProtectionPlanEnded, {"at_review": at_review}, rules
        )

    @event(ChildProtectionPlanEnded)
    def _cp_plan_ended(
        self, provenance: Provenance, entry_id: str, ended_on: date, at_review: int | None
    ) -> None:
        self.entries[entry_id].fields["ended_on"] = ended_on
        self.open_cp_plan = None

    def start_child_in_need_plan(
        self, provenance: Provenance, *, entry_id: str, episode_id: str, started_on: date
    ) -> None:
        self._check_open(provenance)
        self.require_new_entry_id(entry_id)
        episode = self._episode(episode_id)
        self._after_referral(
            provenance,
            episode,
            started_on,
            "a plan before the referral that opened the episode",
            field="started_on",
        )
        self._cin_plan_started(provenance, entry_id, episode_id, started_on)

    @event(ChildInNeedPlanStarted)
    def _cin_plan_started(
        self, provenance: Provenance, entry_id: str, episode_id: str, started_on: date
    ) -> None:
        fields = {"episode_id": episode_id, "started_on": started_on}
        self._add_entry(entry_id, "cin_plan", provenance, fields)

    def close_child_in_need_episode(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        closed_on: date,
        reason_for_closure: str,
    ) -> None:
        """The open episode closes, not before its referral, with no plan still open
        (CIN census 8565), for one of the census's reasons (8640)."""
        self._check_open(provenance)
        episode = self._episode(entry_id, field="entry_id")
        require(self.open_cin_episode == entry_id, "the episode is not open", field="entry_id")
        self._after_referral(
            provenance,
            episode,
            closed_on,
            "an episode cannot close before its referral",
            field="closed_on",
        )
        require(
            self.open_cp_plan is None,
            f"8565 the child protection plan {self.open_cp_plan} has not ended",
            field="closed_on",
        )
        reason = parse_enum(ReasonForClosure, reason_for_closure, field="reason_for_closure")
        self._cin_episode_closed(provenance, entry_id, closed_on, reason.value)

    @event(ChildInNeedEpisodeClosed)
    def _cin_episode_closed(
        self, provenance: Provenance, entry_id: str, closed_on: date, reason_for_closure: str
    ) -> None:
        fields = self.entries[entry_id].fields
        fields["closed_on"], fields["reason_for_closure"] = closed_on, reason_for_closure
        self.open_cin_episode = None

    # -- end of the CIN census -------------------------------------------------------------

    # -- what starts the child's record's retention [CPPCR-50, AAR-42] ----------------------

    def record_adoption_order(self, provenance: Provenance, *, order_made_on: date) -> None:
        """An adoption order: the child's record is then kept 100 years from it [AAR-42]."""
        self.check_provenance(provenance)
        require(isinstance(order_made_on, date), "a date", field="order_made_on")
        require(
            order_made_on <= provenance.occurred_at.date(),
            "an adoption order cannot be in the future",
            field="order_made_on",
        )
        require(
            self.adoption_order_on is None,
            "an adoption order is already recorded",
            field="order_made_on",
        )
        self._adoption_order_recorded(provenance, order_made_on)

    @event(AdoptionOrderRecorded)
    def _adoption_order_recorded(self, provenance: Provenance, order_made_on: date) -> None:
        self.adoption_order_on = order_made_on

    def record_child_death(self, provenance: Provenance, *, died_on: date) -> None:
        """The child's death: a looked-after child's record is then kept 15 years from it
        if the child was under 18 [CPPCR-50]."""
        self.check_provenance(provenance)
        require(isinstance(died_on, date), "a date", field="died_on")
        require(
            died_on <= provenance.occurred_at.date(),
            "a date of death cannot be in the future",
            field="died_on",
        )
        if self.date_of_birth is not None:
            require(
                died_on >= self.date_of_birth,
                "the date of death is before the date of birth",
                field="died_on",
            )
        require(self.died_on is None, "a death is already recorded", field="died_on")
        self._death_recorded(provenance, died_on)

    @event(ChildDeathRecorded)
    def _death_recorded(self, provenance: Provenance, died_on: date) -> None:
        self.died_on = died_on

    # -- case supervision [DEV-5.3, POR-6.1, SHR-5.6, DUR-4.7b] --------------------------

    def record_case_supervision(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        worker_id: str,
        supervisor_id: str,
        session_id: str | None,
        current_situation: str,
        child_last_seen_on: date,
        childs_views: str,
        reflection: str,
        analysis: str,
        decision: str,
        rationale: str,
        actions: list[dict[str, Any]],
        previous_actions_reviewed: str | None,
    ) -> None:
        self.check_provenance(provenance)
        self.require_new_entry_id(entry_id)
        check_local_id(worker_id, field="worker_id")
        check_local_id(supervisor_id, field="supervisor_id")
        if session_id is not None:
            require_text(session_id, field="session_id", max_length=200)
        for name, text in (
            ("current_situation", current_situation),
            ("childs_views", childs_views),
            ("reflection", reflection),
            ("analysis", analysis),
            ("decision", decision),
            ("rationale", rationale),
        ):
            require_text(text, field=name)
        require(
            child_last_seen_on <= provenance.occurred_at.date(),
            "the child cannot have been last seen after the supervision",
            field="child_last_seen_on",
        )
        parsed = parse_actions(actions)
        self._require_new_action_ids(parsed)
        if self._actions_outstanding():
            # Each subsequent supervision tracks the previous actions [DEV-5.3, POR-6.1].
            require_text(previous_actions_reviewed, field="previous_actions_reviewed")
        self._case_supervision_recorded(
            provenance,
            entry_id,
            worker_id,
            supervisor_id,
            session_id,
            current_situation,
            child_last_seen_on,
            childs_views,
            reflection,
            analysis,
            decision,
            rationale,
            parsed,
            previous_actions_reviewed,
        )

    @event(CaseSupervisionRecorded)
    def _case_supervision_recorded(
        self,
        provenance: Provenance,
        entry_id: str,
        worker_id: str,
        supervisor_id: str,
        session_id: str | None,
        current_situation: str,
        child_last_seen_on: date,
        childs_views: str,
        reflection: str,
        analysis: str,
        decision: str,
        rationale: str,
        actions: list[SmartAction],
        previous_actions_reviewed: str | None,
    ) -> None:
        self._add_entry(
            entry_id,
            "case_supervision",
            provenance,
            {
                "worker_id": worker_id,
                "supervisor_id": supervisor_id,
                "session_id": session_id,
                "current_situation": current_situation,
                "child_last_seen_on": child_last_seen_on,
                "childs_views": childs_views,
                "reflection": reflection,
                "analysis": analysis,
                "decision": decision,
                "rationale": rationale,
                "previous_actions_reviewed": previous_actions_reviewed,
            },
        )
        self._track_actions(entry_id, actions)

    # -- management oversight [DEV-6, DEV-6g, DUR-4.6d] --------------------------------

    def trigger_oversight(
        self,
        provenance: Provenance,
        *,
        trigger_id: str,
        kind: str,
        detail: str,
        incident_dates: list[date] | None = None,
    ) -> None:
        """Raise by hand a key point that is not itself an event [DEV-6]."""
        self._check_open(provenance)
        require_text(trigger_id, field="trigger_id", max_length=200)
        require(trigger_id not in self.triggers, "trigger id already used", field="trigger_id")
        trigger_kind = parse_enum(OversightTriggerKind, kind, field="kind")
        require(
            trigger_kind not in AUTOMATIC_TRIGGERS,
            f"{trigger_kind.value} is raised automatically by its own event",
            field="kind",
        )
        require_text(detail, field="detail")
        dates = list(incident_dates or [])
        if trigger_kind is OversightTriggerKind.SIGNIFICANT_INCIDENT:
            SignificantIncidentHasItsDates.check(dates)
        for d in dates:
            require(
                d <= provenance.occurred_at.date(),
                "an incident date cannot be in the future",
                field="incident_dates",
            )
        self._oversight_triggered(provenance, trigger_id, trigger_kind.value, False, detail, dates)
        if trigger_kind is OversightTriggerKind.SIGNIFICANT_INCIDENT:
            # A significant incident may become a learning review or a Child Safeguarding
            # Practice Review: nothing of the child's record is destroyed until the data
            # protection officer lifts this hold (ADR 0012).
            self._legal_hold_placed(
                provenance,
                f"{trigger_id}:hold",
                LegalHoldKind.LEARNING_REVIEW.value,
                f"placed automatically: significant incident notified (trigger {trigger_id})",
            )

    @event(OversightTriggered)
    def _oversight_triggered(
        self,
        provenance: Provenance,
        trigger_id: str,
        kind: str,
        automatic: bool,
        detail: str | None,
        incident_dates: list[date],
    ) -> None:
        self.triggers[trigger_id] = Trigger(
            trigger_id=trigger_id,
            kind=OversightTriggerKind(kind),
            raised_at=provenance.occurred_at,
            automatic=automatic,
        )

    def record_management_oversight(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        answers_trigger_ids: list[str],
        reason: str,
        current_situation: str,
        decision: str,
        rationale: str,
        actions: list[dict[str, Any]],
        rules: AuthorityRules,
    ) -> None:
        """A Manager's Oversight/Review/Decision record with every heading [DEV-6g]: the
        decision maker and their role are the actor's, never the request's, in a role
        the authority's pack lets decide."""
        self.check_provenance(provenance)
        ManagementOversightIsAManagersDecision.check(
            provenance.actor_role, rules.approvers(Approval.DECISION)
        )
        decision_maker_id, decision_maker_role = provenance.actor_id, provenance.actor_role
        self.require_new_entry_id(entry_id)
        OversightRecordHasEveryHeading.check(
            {
                "reason": reason,
                "current_situation": current_situation,
                "decision": decision,
                "rationale": rationale,
                "decision_maker_id": decision_maker_id,
                "decision_maker_role": decision_maker_role,
            },
            actions,
        )
        parse_role(decision_maker_role, CAPACITIES, field="decision_maker_role")
        check_local_id(decision_maker_id, field="decision_maker_id")
        OversightAnswersOpenTriggers.check(
            answers_trigger_ids, [t.trigger_id for t in self.open_triggers]
        )
        require(
            len(set(answers_trigger_ids)) == len(answers_trigger_ids),
            "each trigger is answered once",
            field="answers_trigger_ids",
        )
        parsed = parse_actions(actions)
        self._require_new_action_ids(parsed)
        self._management_oversight_recorded(
            provenance,
            entry_id,
            list(answers_trigger_ids),
            reason,
            current_situation,
            decision,
            rationale,
            parsed,
            decision_maker_id,
            decision_maker_role,
        )

    @event(ManagementOversightRecorded)
    def _management_oversight_recorded(
        self,
        provenance: Provenance,
        entry_id: str,
        answers_trigger_ids: list[str],
        reason: str,
        current_situation: str,
        decision: str,
        rationale: str,
        actions: list[SmartAction],
        decision_maker_id: str,
        decision_maker_role: str,
    ) -> None:
        self._add_entry(
            entry_id,
            "management_oversight",
            provenance,
            {
                "answers_trigger_ids": answers_trigger_ids,
                "reason": reason,
                "current_situation": current_situation,
                "decision": decision,
                "rationale": rationale,
                "decision_maker_id": decision_maker_id,
                "decision_maker_role": decision_maker_role,
            },
        )
        for trigger_id in answers_trigger_ids:
            self.triggers[trigger_id] = replace(self.triggers[trigger_id], answered_by=entry_id)
        self._track_actions(entry_id, actions)

    def record_management_decision(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        decision: str,
        rationale: str,
        consulted_by: str,
        rules: AuthorityRules,
    ) -> None:
        """An ad hoc decision as a Management Advice/Guidance record [POR-3.3, BUR-AH],
        recorded by the manager who made it (the actor), in a role the authority's pack
        lets decide."""
        self.check_provenance(provenance)
        ManagementOversightIsAManagersDecision.check(
            provenance.actor_role, rules.approvers(Approval.DECISION)
        )
        self.require_new_entry_id(entry_id)
        require_text(decision, field="decision")
        require_text(rationale, field="rationale")
        check_local_id(consulted_by, field="consulted_by")
        self._management_decision_recorded(
            provenance, entry_id, decision, rationale, consulted_by, provenance.actor_id
        )

    @event(ManagementDecisionRecorded)
    def _management_decision_recorded(
        self,
        provenance: Provenance,
        entry_id: str,
        decision: str,
        rationale: str,
        consulted_by: str,
        recorded_by_instruction_of: str,
    ) -> None:
        self._add_entry(
            entry_id,
            "management_decision",
            provenance,
            {
                "decision": decision,
                "rationale": rationale,
                "consulted_by": consulted_by,
                "recorded_by_instruction_of": recorded_by_instruction_of,
            },
        )

    # -- actions [POR-6.1] ---------------------------------------------------------------

    def _actions_outstanding(self) -> bool:
        return any(a.completed_on is None for a in self.actions.values())

    def _require_new_action_ids(self, actions: list[SmartAction]) -> None:
        for action in actions:
            require(
                action.action_id not in self.actions,
                f"action id {action.action_id!r} is already used on this child",
                field="actions",
            )

    def _track_actions(self, entry_id: str, actions: list[SmartAction]) -> None:
        for action in actions:
            self.actions[action.action_id] = ActionState(
                action=action, source_entry_id=entry_id, due_on=action.due_on
            )

    def set_action(self, provenance: Provenance, *, action: dict[str, Any]) -> None:
        """An action set outside a supervision or oversight record."""
        self._check_open(provenance)
        parsed = parse_actions([action])
        self._require_new_action_ids(parsed)
        self._action_set(provenance, parsed[0])

    @event(ActionSet)
    def _action_set(self, provenance: Provenance, action: SmartAction) -> None:
        self._track_actions(f"action:{action.action_id}", [action])

    def _open_action(self, action_id: str) -> ActionState:
        state = self.actions.get(action_id)
        if state is None:
            raise NotFound(f"no action {action_id!r} on this child", field="action_id")
        if state.completed_on is not None:
            raise ValidationError("the action is already completed", field="action_id")
        return state

    def complete_action(self, provenance: Provenance, *, action_id: str, note: str) -> None:
        self.check_provenance(provenance)
        self._open_action(action_id)
        require_text(note, field="note")
        self._action_completed(provenance, action_id, note)

    @event(ActionCompleted)
    def _action_completed(self, provenance: Provenance, action_id: str, note: str) -> None:
        self.actions[action_id] = replace(
            self.actions[action_id], completed_on=provenance.occurred_at.date()
        )

    def carry_forward_action(
        self, provenance: Provenance, *, action_id: str, rationale: str, new_due_on: date
    ) -> None:
        """Outstanding actions get a rationale and a reset timescale, to avoid drift [POR-6.1]."""
        self.check_provenance(provenance)
        state = self._open_action(action_id)
        CarriedForwardActionHasARationale.check(rationale, new_due_on, state.due_on)
        self._action_carried_forward(provenance, action_id, rationale, new_due_on)

    @event(ActionCarriedForward)
    def _action_carried_forward(
        self, provenance: Provenance, action_id: str, rationale: str, new_due_on: date
    ) -> None:
        state = self.actions[action_id]
        self.actions[action_id] = replace(
            state, due_on=new_due_on, carried_forward=state.carried_forward + 1
        )

    # -- group supervision [DEV-7, DUR-5] ----------------------------------------------

    def record_group_discussion(
        self,
        provenance: Provenance,
        *,
        entry_id: str,
        group_session_id: str,
        facilitator_id: str,
        summary: str,
    ) -> None:
        self.check_provenance(provenance)
        self.require_new_entry_id(entry_id)
        require_text(group_session_id, field="group_session_id", max_length=200)
        check_local_id(facilitator_id, field="facilitator_id")
        require_text(summary, field="summary")
        self._group_discussion_recorded(
            provenance, entry_id, group_session_id, facilitator_id, summary
        )

    @event(GroupSupervisionDiscussionRecorded)
    def _group_discussion_recorded(
        self,
        provenance: Provenance,
        entry_id: str,
        group_session_id: str,
        facilitator_id: str,
        summary: str,
    ) -> None:
        self._add_entry(
            entry_id,
            "group_discussion",
            provenance,
            {
                "group_session_id": group_session_id,
                "facilitator_id": facilitator_id,
                "summary": summary,
            },
        )

    # -- quality assurance: dip-samples of the case file [POR-7, SHR-5.8] (ADR 0023) ----

    CaseFileAudited = CaseFileAudited

    def audit_case_file(
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
        """The caller audits this child's case supervision records (a dip-sample) with the
        authority's own tool, as the auditor its pack's quota names (``chain``: the
        allocated worker's line management, nearest first)."""
        self.check_provenance(provenance)
        self.require_new_entry_id(audit_id, field="audit_id")
        check_period(period_from, period_to, provenance.occurred_at.date())
        tool = AuditIsGradedWithItsAuthoritysTool.tool(rules, AuditRecord.CASE_FILE)
        AuditIsGradedWithItsAuthoritysTool.check(tool, answers, judgement)
        require(
            isinstance(comment, str) and len(comment) <= 10_000,
            "comment is text of at most 10,000 characters",
            field="comment",
        )
        require(
            self.allocated_worker_id is not None,
            "a case with no allocated worker has no case supervision to audit",
            field="child_id",
        )
        AuditedByTheRelationshipItsPackNames.check(
            rules, AuditRecord.CASE_FILE, None, provenance.actor_id, chain
        )
        self._case_file_audited(
            provenance,
            audit_id,
            provenance.actor_id,
            self.allocated_worker_id,
            chain[0] if chain else None,
            period_from,
            period_to,
            dict(answers),
            judgement,
            comment,
        )

    @event(CaseFileAudited)
    def _case_file_audited(
        self,
        provenance: Provenance,
        audit_id: str,
        auditor_id: str,
        worker_id: str | None,
        supervisor_id: str | None,
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
            {"judgement": judgement, "worker_id": worker_id, "comment": comment},
        )
        audited = {p for p in (worker_id, supervisor_id) if p}
        self.audits[audit_id] = Audit(
            audit_id, AuditRecord.CASE_FILE, auditor_id, frozenset(audited), judgement
        )

    # -- a child looked after, as the SSDA903 return gives it (issue 21, ADR 0025) ------

    CareBeganBeforeRecord = catalogue.CareBeganBeforeRecord
    MissingFromCareRecorded = catalogue.MissingFromCareRecorded
    CareEpisodeCorrected = catalogue.CareEpisodeCorrected

    #: What the return says a looked-after child was: missing, or away from placement
    #: without authorisation.
    MISSING: ClassVar[frozenset[str]] = frozenset({"M", "A"})
    #: The events an episode of care records, which a later return of it may correct.
    EPISODE_EVENTS: ClassVar[frozenset[str]] = frozenset(
        kind.__name__
        for kind in (
            ChildCameIntoCare,
            PlacementChanged,
            LegalStatusChanged,
            ChildReturnedHome,
            PeriodOfCareEnded,
        )
    )

    def record_care_began_before_record(self, provenance: Provenance) -> None:
        """Only an import declares a period of care begun before the record it brings:
        anyone else records the child coming into care."""
        self._check_open(provenance)
        require(
            provenance.imported,
            "only an import records care begun before the record; record it as coming into care",
            field="imported",
        )
        require(not self.in_care, "the child is already in care", field="child_id")
        self._care_began_before_record(provenance)

    @event(catalogue.CareBeganBeforeRecord)
    def _care_began_before_record(self, provenance: Provenance) -> None:
        self.in_care = True

    def record_missing_from_care(
        self, provenance: Provenance, *, missing: str, started_on: date, ended_on: date | None
    ) -> None:
        """A period missing from care or away from placement without authorisation: a
        manager's oversight of a looked-after child must see it."""
        self.check_provenance(provenance)
        require(
            missing in self.MISSING,
            "M (missing) or A (away from placement without authorisation)",
            field="missing",
        )
        require(isinstance(started_on, date), "a date", field="started_on")
        require(
            started_on <= provenance.occurred_at.date(),
            "a period missing cannot start in the future",
            field="started_on",
        )
        if self.date_of_birth is not None:
            require(
                started_on >= self.date_of_birth,
                "starts before the child's date of birth",
                field="started_on",
            )
        if ended_on is not None:
            require(isinstance(ended_on, date), "a date", field="ended_on")
            require(ended_on >= started_on, "ends before it starts", field="ended_on")
        self._missing_from_care_recorded(provenance, missing, started_on, ended_on)

    @event(catalogue.MissingFromCareRecorded)
    def _missing_from_care_recorded(
        self, provenance: Provenance, missing: str, started_on: date, ended_on: date | None
    ) -> None:
        pass

    def correct_care_episode(
        self,
        provenance: Provenance,
        *,
        episode_started_on: date,
        corrects: str,
        changes: dict[str, str],
        current: bool,
    ) -> None:
        """A later return of an imported episode gives other values: they are recorded
        as a correction of what the episode recorded (imports only: a practitioner
        records a change as it happens)."""
        self._check_open(provenance)
        require(
            provenance.imported, "only an import corrects an imported episode", field="imported"
        )
        require(isinstance(episode_started_on, date), "a date", field="episode_started_on")
        require(
            corrects in self.EPISODE_EVENTS,
            f"one of {', '.join(sorted(self.EPISODE_EVENTS))}",
            field="corrects",
        )
        require(
            bool(changes)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in changes.items()),
            "the fields corrected, each with its new value",
            field="changes",
        )
        for value in changes.values():
            require_text(value, field="changes", max_length=500)
        self._care_episode_corrected(provenance, episode_started_on, corrects, changes, current)

    @event(catalogue.CareEpisodeCorrected)
    def _care_episode_corrected(
        self,
        provenance: Provenance,
        episode_started_on: date,
        corrects: str,
        changes: dict[str, str],
        current: bool,
    ) -> None:
        if current:
            self.placement = changes.get("placement", self.placement)
            self.legal_status = changes.get("legal_status", self.legal_status)
