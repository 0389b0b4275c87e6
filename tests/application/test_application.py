"""The application service on SQLite and PostgreSQL: every command, idempotency,
optimistic concurrency and atomic multi-aggregate saves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from application.app import OversightApplication
from application.handlers import handled_commands, handles
from domain import commands as c
from domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DomainError,
    IdempotencyKeyReused,
    NotFound,
    RuleViolation,
    ValidationError,
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
    DirectObservationRecorded,
    DirectObservationSigned,
    DisagreementEscalated,
    DisagreementRaised,
    DisagreementResolved,
    EntryCorrected,
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
    WorkerAllocated,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
)
from domain.identifiers import child_id, worker_id
from domain.vocabulary import (
    Role,
)
from oversight.settings import DatabaseSettings
from tests.helpers import (
    AUTHORITY,
    NOW,
    START,
    action,
    actor,
    case_discussion,
    common,
    kinds,
    opened,
    register_child,
    register_worker,
    setup_authority,
)

SUP = actor("TM1", Role.SUPERVISOR)
#: SW1, on their own file; SW2, the worker C1 is allocated to (after its reallocation).
ME = actor("SW1", Role.SUPERVISEE)
SW2 = actor("SW2", Role.PRACTITIONER)
DPO = actor("DPO1", Role.DATA_PROTECTION_OFFICER)


def test_every_command_records_its_events(app: OversightApplication) -> None:
    """One scenario that runs each command kind once and checks the events it wrote."""
    seen: set[type[c.Command]] = set()

    def run(command: c.Command, *expected: EventType) -> None:
        before = len(kinds(app))
        app.execute(command)
        assert kinds(app)[before:] == list(expected), type(command).__name__
        seen.add(type(command))

    every_command_scenario(app, run)
    missing = {m for m in handled_commands() if m.__module__ == "domain.commands"} - seen
    assert not missing, f"commands without a test: {sorted(m.__name__ for m in missing)}"
    _reload_check(app)


def every_command_scenario(app: OversightApplication, run: Any) -> None:
    """Each command kind once, in an order the domain accepts; ``run(command, *events)``
    executes it (directly, or through the API) and checks the events it wrote."""
    t = NOW - timedelta(days=30)
    run(
        c.RegisterAuthority(
            **common(START - timedelta(days=1)),
            authority_code=AUTHORITY,
            name="Test Council",
            policy_pack="DUR",
        ),
        AuthorityRegistered,
    )
    run(
        c.AddClosureDay(**common(START), day=START.date(), reason="Council closure"),
        ClosureDayAdded,
    )
    for staff_id in ("TM1", "SM1", "SW1", "SW2"):
        run(
            c.RegisterWorker(
                **common(START),
                staff_id=staff_id,
                display_name=f"Worker {staff_id}",
                role="social_worker" if staff_id.startswith("SW") else "team_manager",
                team="Team A",
                line_manager_id="SM1"
                if staff_id == "TM1"
                else ("HOS1" if staff_id == "SM1" else "TM1"),
                employment_pattern="full_time",
                fte=Decimal(1),
                engagement="permanent",
                start_date=START.date(),
                case_holding=staff_id.startswith("SW"),
            ),
            WorkerRegistered,
        )
    run(
        c.RegisterChild(
            **common(START),
            child_id="C1",
            date_of_birth=START.date().replace(year=2016),
            case_type="cla",
            risk_level="high",
        ),
        ChildRegistered,
    )
    w = {"staff_id": "SW1"}
    ch = {"child_id": "C1"}
    run(c.ChangeRole(**common(t), **w, role="nqsw"), WorkerRoleChanged)
    run(c.ChangeTeam(**common(t), **w, team="Team B"), WorkerTeamChanged)
    run(c.ChangeLineManager(**common(t), **w, line_manager_id="SM1"), LineManagerChanged)
    run(c.ChangeLineManager(**common(t), **w, line_manager_id="TM1"), LineManagerChanged)
    run(
        c.ChangeWorkingPattern(**common(t), **w, employment_pattern="part_time", fte="0.8"),
        WorkingPatternChanged,
    )  # type: ignore[arg-type]
    terms: dict[str, Any] = {
        "agreement_id": "SA1",
        "supervisor_id": "TM1",
        "frequency": "P4W",
        "supervision_format": "individual",
        "review_due_on": (NOW + timedelta(days=300)).date(),
        "escalation_manager_id": "SM1",
    }
    # Each party signs for themselves, in turn.
    run(
        c.SignSupervisionAgreement(**common(t, SUP), **w, **terms),
        SupervisionAgreementSignedByOneParty,
    )
    run(
        c.SignSupervisionAgreement(**common(t, ME), **w, **terms),
        SupervisionAgreementSigned,
    )
    run(
        c.ReviewSupervisionAgreement(
            **common(t, SUP),
            **w,
            agreement_id="SA1",
            next_review_due_on=(NOW + timedelta(days=180)).date(),
        ),
        SupervisionAgreementReviewed,
    )
    run(
        c.ApproveFrequencyException(
            **common(t, actor("HOS1", Role.HEAD_OF_SERVICE)),
            **w,
            agreement_id="SA1",
            frequency="P6W",
            reason="Experienced",
        ),
        SupervisionFrequencyExceptionApproved,
    )
    run(
        c.AllocateWorker(**common(t, SUP), **ch, worker_id="SW1", reason="NEW", team="Team B"),
        WorkerAllocated,
        OversightTriggered,
        ChildAddedToCaseload,
    )
    run(
        c.AllocateWorker(**common(t, SUP), **ch, worker_id="SW2", reason="CHCHAN", team="Team A"),
        WorkerAllocated,
        OversightTriggered,
        ChildAddedToCaseload,
        ChildRemovedFromCaseload,
    )
    run(
        c.ScheduleSupervisionSession(
            **common(t, SUP),
            **w,
            session_id="S1",
            supervisor_id="TM1",
            scheduled_for=t + timedelta(days=2),
        ),
        SupervisionSessionScheduled,
    )
    run(
        c.RescheduleSupervisionSession(
            **common(t, SUP),
            **w,
            session_id="S1",
            new_scheduled_for=t + timedelta(days=3),
            reason="Court",
        ),
        SupervisionSessionRescheduled,
    )
    run(
        c.ScheduleSupervisionSession(
            **common(t, SUP),
            **w,
            session_id="S0",
            supervisor_id="TM1",
            scheduled_for=t + timedelta(days=1),
        ),
        SupervisionSessionScheduled,
    )
    run(
        c.CancelSupervisionSession(**common(t, SUP), **w, session_id="S0", reason="Illness"),
        SupervisionSessionCancelled,
    )
    held = t + timedelta(days=3)
    run(
        c.HoldSupervisionSession(
            **common(held, SUP),
            **w,
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["management", "support", "development", "mediation"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
            case_discussions=[
                case_discussion("C1", "CS1", actions=[action("A1")], child_last_seen_on=held.date())
            ],
        ),
        SupervisionSessionHeld,
        CaseSupervisionRecorded,
    )
    run(
        c.WritePersonalSupervisionRecord(
            **common(held + timedelta(days=1), SUP),
            **w,
            record_id="R1",
            session_id="S1",
            actions_reviewed="Reviewed",
            wellbeing="Well",
            workload="High",
            development="Court skills",
            disagreements=None,
            agreed_actions=[action("PA1")],
        ),
        PersonalSupervisionRecordWritten,
    )
    run(
        c.SignPersonalSupervisionRecord(
            **common(held + timedelta(days=1), SUP), **w, record_id="R1"
        ),
        PersonalSupervisionRecordSigned,
    )
    run(
        c.SignPersonalSupervisionRecord(
            **common(held + timedelta(days=2), actor("SW1", Role.SUPERVISEE)),
            **w,
            record_id="R1",
            confirmed=False,
            differing_view="Workload worse",
        ),
        PersonalSupervisionRecordSigned,
    )
    run(
        c.RemoveComment(
            **common(held + timedelta(days=3), actor("SM1", Role.SERVICE_MANAGER)),
            **w,
            record_id="R1",
            field_name="workload",
            reason="Damaging",
        ),
        PersonalRecordCommentRemoved,
    )
    run(
        c.StartAbsence(
            **common(t, SUP), **w, absence_id="AB1", kind="sickness", started_on=t.date()
        ),
        AbsenceStarted,
    )
    run(c.EndAbsence(**common(t, SUP), **w, absence_id="AB1", returned_on=t.date()), AbsenceEnded)
    run(
        c.AttendGroupSupervision(
            **common(t, ME), **w, group_session_id="G1", facilitator_id="TM1", topic="Neglect"
        ),
        GroupSupervisionAttended,
    )
    run(
        c.RecordDirectObservation(
            **common(t, SUP), **w, observation_id="OB1", observer_id="TM1", summary="Home visit"
        ),
        DirectObservationRecorded,
    )
    run(
        c.SignDirectObservation(**common(t, SUP), **w, observation_id="OB1"),
        DirectObservationSigned,
    )
    run(c.HoldAppraisal(**common(t, SUP), **w, appraisal_id="AP1", kind="pdr"), AppraisalHeld)
    run(c.AllocateTeam(**common(t, SUP), **ch, team="Team C"), TeamAllocated)
    run(c.ChangeCaseType(**common(t, SW2), **ch, case_type="cp"), CaseTypeChanged)
    run(
        c.ChangeThreshold(**common(t, SW2), **ch, threshold="Level 4"),
        ThresholdChanged,
        OversightTriggered,
    )
    run(
        c.ChangeRiskLevel(**common(t, SW2), **ch, risk_level="medium", rag="amber"),
        RiskLevelChanged,
    )
    run(c.ChangeLegalStatus(**common(t, SW2), **ch, legal_status="V2"), LegalStatusChanged)
    run(
        c.RecordCameIntoCare(**common(t, SW2), **ch, legal_status="C2", placement="U1"),
        ChildCameIntoCare,
        OversightTriggered,
    )
    run(
        c.ChangePlacement(**common(t, SW2), **ch, placement="U3", reason="Carer retired"),
        PlacementChanged,
    )
    run(
        c.RecordReturnedHome(**common(t, SW2), **ch, reason="Plan met"),
        ChildReturnedHome,
        OversightTriggered,
    )
    run(
        c.RecordCameIntoCare(**common(t, SW2), **ch, legal_status="V2", placement="U1"),
        ChildCameIntoCare,
        OversightTriggered,
    )
    run(c.RecordCareEnded(**common(t, SW2), **ch, reason_code="E41"), PeriodOfCareEnded)
    # A child in need, as the CIN census records it (ADR 0026): under DUR, which declares no
    # key point on a plan; the case is already child protection, and the plan's end makes
    # it child in need again.
    day = t.date()
    cin = {"episode_id": "CIN1"}
    run(
        c.RecordReferral(
            **common(t, SW2), **ch, entry_id="CIN1", referral_on=day - timedelta(days=30),
            referral_source="1A", primary_need="N1",
        ),
        ReferralReceived,
    )  # fmt: skip
    run(
        c.RecordAssessment(
            **common(t, SW2), **ch, **cin, entry_id="AS1",
            started_on=day - timedelta(days=29), authorised_on=day - timedelta(days=20),
            factors=["2A"],
        ),
        AssessmentCompleted,
    )  # fmt: skip
    run(
        c.RecordSection47Enquiry(
            **common(t, SW2), **ch, **cin, entry_id="S47-1", started_on=day - timedelta(days=25)
        ),
        Section47EnquiryStarted,
    )
    run(
        c.RecordInitialChildProtectionConference(
            **common(t, SW2), **ch, **cin, entry_id="ICPC1", held_on=day - timedelta(days=15)
        ),
        InitialChildProtectionConferenceHeld,
    )
    run(
        c.StartChildProtectionPlan(
            **common(t, SW2), **ch, **cin, entry_id="CPP1",
            started_on=day - timedelta(days=15), category_of_abuse="NEG",
        ),
        ChildProtectionPlanStarted,
    )  # fmt: skip
    run(
        c.ReviewChildProtectionPlan(
            **common(t, SW2), **ch, entry_id="CPP1", reviewed_on=day - timedelta(days=5)
        ),
        ChildProtectionPlanReviewed,
    )
    run(
        c.EndChildProtectionPlan(
            **common(t, SW2), **ch, entry_id="CPP1", ended_on=day - timedelta(days=5)
        ),
        ChildProtectionPlanEnded,
        CaseTypeChanged,
    )
    run(
        c.StartChildInNeedPlan(
            **common(t, SW2), **ch, **cin, entry_id="CINP1", started_on=day - timedelta(days=5)
        ),
        ChildInNeedPlanStarted,
    )
    run(
        c.CloseChildInNeedEpisode(
            **common(t, SW2), **ch, entry_id="CIN1", closed_on=day, reason_for_closure="RC8"
        ),
        ChildInNeedEpisodeClosed,
    )
    # ADR 0025: a child looked after, as an SSDA903 import gives it.
    run(
        c.RecordMissingFromCare(
            **common(t, SW2), **ch, missing="M", started_on=t.date(), ended_on=t.date()
        ),
        MissingFromCareRecorded,
    )
    run(
        c.RecordCareBeganBeforeRecord(**common(t, SW2), imported=True, **ch),
        CareBeganBeforeRecord,
    )
    run(
        c.CorrectCareEpisode(
            **common(t, SW2), imported=True, **ch, episode_started_on=t.date(),
            corrects=PlacementChanged.__name__, changes={"placement": "U4"}, current=True,
        ),
        CareEpisodeCorrected,
    )  # fmt: skip
    run(c.RecordCareEnded(**common(t, SW2), **ch, reason_code="E41"), PeriodOfCareEnded)
    run(
        c.RecordCaseSupervision(
            **common(t, SUP),
            **ch,
            entry_id="CS2",
            worker_id="SW2",
            supervisor_id="TM1",
            current_situation="x",
            child_last_seen_on=t.date(),
            childs_views="x",
            reflection="x",
            analysis="x",
            decision="x",
            rationale="x",
            previous_actions_reviewed="A1 done",
        ),
        CaseSupervisionRecorded,
    )
    run(
        c.TriggerOversight(
            **common(t, SW2), **ch, trigger_id="T1", kind="court_direction", detail="ICO granted"
        ),
        OversightTriggered,
    )
    run(
        c.RecordManagementOversight(
            **common(t, SUP),
            **ch,
            entry_id="MO1",
            answers_trigger_ids=["T1"],
            reason="Court",
            current_situation="Placed",
            decision="Comply",
            rationale="Order",
            actions=[action("A2")],
        ),
        ManagementOversightRecorded,
    )
    run(
        c.RecordManagementDecision(
            **common(t, SUP),
            **ch,
            entry_id="MD1",
            decision="Visit",
            rationale="Disclosure",
            consulted_by="SW2",
        ),
        ManagementDecisionRecorded,
    )
    run(c.SetAction(**common(t, SW2), **ch, action=action("A3")), ActionSet)
    run(
        c.CarryForwardAction(
            **common(t, SW2),
            **ch,
            action_id="A3",
            rationale="Away",
            new_due_on=(NOW + timedelta(days=40)).date(),
        ),
        ActionCarriedForward,
    )
    run(c.CompleteAction(**common(t, SW2), **ch, action_id="A3", note="Done"), ActionCompleted)
    run(
        c.RecordGroupDiscussion(
            **common(t, SW2),
            **ch,
            entry_id="GD1",
            group_session_id="G1",
            facilitator_id="TM1",
            summary="Discussed",
        ),
        GroupSupervisionDiscussionRecorded,
    )
    run(
        c.CorrectEntry(
            **common(t, SUP), **ch, entry_id="CS2", changes={"decision": "y"}, reason="Typo"
        ),
        EntryCorrected,
    )
    run(
        c.RaiseDisagreement(
            **common(t, SW2),
            **ch,
            disagreement_id="D1",
            subject="decision_on_child",
            about="Placement",
        ),
        DisagreementRaised,
    )
    run(
        c.EscalateDisagreement(**common(t, SW2), **ch, disagreement_id="D1", reason="Unresolved"),
        DisagreementEscalated,
    )
    run(
        c.ResolveDisagreement(**common(t, SUP), **ch, disagreement_id="D1", resolution="Agreed"),
        DisagreementResolved,
    )
    run(
        c.PlaceLegalHold(
            **common(t, DPO), staff_id="SW1", hold_id="H1", kind="litigation", reference="Claim 12"
        ),
        LegalHoldPlaced,
    )
    run(
        c.LiftLegalHold(**common(t, DPO), staff_id="SW1", hold_id="H1", reason="Settled"),
        LegalHoldLifted,
    )
    run(
        c.RecordAccess(
            **common(t, actor("AUD1", Role.AUDITOR)),
            **ch,
            what="case file",
            purpose="Ofsted inspection",
        ),
        AccessLogOpened,
        RecordAccessed,
    )
    run(
        c.RecordAccess(
            **common(t, actor("AUD1", Role.AUDITOR)),
            **w,
            what="personal file",
            purpose="Annual audit [DUR-7]",
        ),
        AccessLogOpened,
        RecordAccessed,
    )
    # Quality assurance (ADR 0023): the grandparent audits with Durham's tool; the audited
    # worker disputes; the auditor's line manager moderates.
    grandparent = actor("SM1", Role.SERVICE_MANAGER)
    moderator = actor("HOS1", Role.HEAD_OF_SERVICE)
    run(
        c.AuditSupervisionFile(
            **common(t, grandparent),
            **w,
            audit_id="QA1",
            period_from=(t - timedelta(days=365)).date(),
            period_to=t.date(),
            answers=dict.fromkeys(
                ["agreement", "frequency", "record-shared", "record-signed", "case-records"], True
            ),
            judgement="Standards followed",
        ),
        SupervisionFileAudited,
    )
    run(
        c.DisputeAudit(**common(t, ME), **w, audit_id="QA1", reasons="The agreement is late."),
        QualityAuditDisputed,
    )
    run(
        c.ModerateAudit(
            **common(t, moderator),
            **w,
            audit_id="QA1",
            judgement="Standards not followed",
            rationale="The agreement review was late.",
        ),
        QualityAuditModerated,
    )
    run(
        c.CloseCase(**common(t, SW2), **ch, kind="transferred", reason="Moved area"),
        OversightTriggered,
        CaseClosed,
        ChildRemovedFromCaseload,
    )
    run(
        c.RecordLookedAfterReview(**common(t, SW2), **ch, review_on=t.date(), review_code="PN1"),
        LookedAfterReviewHeld,
    )
    run(
        c.RecordAdoptionOrder(**common(t, SW2), **ch, order_made_on=t.date()),
        AdoptionOrderRecorded,
    )
    run(c.RecordChildDeath(**common(t, SW2), **ch, died_on=t.date()), ChildDeathRecorded)
    run(
        c.LeaveEmployment(**common(t), **w, last_day=t.date(), reason="Resigned"),
        WorkerLeftEmployment,
    )
    run(c.AdoptPolicyPack(**common(t), policy_pack="SHR"), PolicyPackAdopted)
    # Shropshire's ICS audit check of a case file, by the allocated worker's grandparent.
    run(
        c.AuditCaseFile(
            **common(t, grandparent),
            **ch,
            audit_id="QA2",
            period_from=(t - timedelta(days=182)).date(),
            period_to=t.date(),
            answers={"3.2": True, "3.3": True, "3.4": False},
            judgement="Requires Improvement",
        ),
        CaseFileAudited,
    )
    # A child in need only, born in 1990: kept 25 years from birth [RET-CIN], so due.
    run(
        c.RegisterChild(
            **common(START),
            child_id="C-1990",
            date_of_birth=date(1990, 1, 5),
            expected_date_of_birth=None,
            case_type="cin",
            risk_level="low",
            rag=None,
            name=None,
        ),
        ChildRegistered,
    )
    run(
        c.PurgeRecord(
            **common(NOW, actor("DPO1", Role.DATA_PROTECTION_OFFICER)),
            child_id="C-1990",
            record_class="child_record",
            record_id="C-1990",
            as_of=NOW.date(),
        ),
        RecordPurged,
    )


def _reload_check(app: OversightApplication) -> None:
    # The stored events carry provenance, and reload into the same state.
    worker = app.get_worker(AUTHORITY, "SW1")
    assert worker.records["R1"].disputed
    assert worker.employment.left_on == (NOW - timedelta(days=30)).date()


def test_retried_command_never_writes_twice(app: OversightApplication) -> None:
    setup_authority(app)
    command = c.RegisterChild(
        **common(START),
        child_id="C1",
        date_of_birth=START.date(),
        case_type="cin",
        risk_level="low",
    )
    first = app.execute(command)
    count = len(kinds(app))
    again = app.execute(command)
    assert again.replayed and not first.replayed
    assert again.position == first.position
    assert again.aggregate_ids == first.aggregate_ids
    assert len(kinds(app)) == count


def test_reused_command_id_for_another_command_is_refused(app: OversightApplication) -> None:
    setup_authority(app)
    command = c.RegisterChild(
        **common(START),
        child_id="C1",
        date_of_birth=START.date(),
        case_type="cin",
        risk_level="low",
    )
    app.execute(command)
    count = len(kinds(app))
    with pytest.raises(IdempotencyKeyReused) as caught:
        app.execute(replace(command, child_id="C2"))
    assert caught.value.field == "command_id"
    assert len(kinds(app)) == count


def test_a_retry_the_rules_would_now_refuse_still_replays(app: OversightApplication) -> None:
    """The receipt is looked up only when a command cannot be written as new: a retry of
    a command whose own effect makes the rules refuse it replays; a reused id whose
    command the rules refuse is refused as a reused id, not for the rule."""
    setup_authority(app)
    register_child(app, "C1", case_type="cla")
    into_care = c.RecordCameIntoCare(
        **common(START + timedelta(days=1)), child_id="C1", legal_status="C2", placement="U1"
    )
    first = app.execute(into_care)
    count = len(kinds(app))
    again = app.execute(into_care)  # "already in care", were it decided again
    assert again.replayed and again.position == first.position
    with pytest.raises(IdempotencyKeyReused):
        app.execute(replace(into_care, placement="U3"))
    assert len(kinds(app)) == count


def test_command_ids_are_scoped_to_the_authority(app: OversightApplication) -> None:
    setup_authority(app)
    setup_authority(app, "OTHER-LA")
    one = c.RegisterChild(
        **common(START),
        child_id="C1",
        date_of_birth=START.date(),
        case_type="cin",
        risk_level="low",
    )
    other = replace(one, actor=actor(authority="OTHER-LA"))
    assert not app.execute(one).replayed
    assert not app.execute(other).replayed
    assert app.get_child("OTHER-LA", "C1").authority_code == "OTHER-LA"


def test_registering_twice_is_already_exists(app: OversightApplication) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    with pytest.raises(AlreadyExists) as caught:
        register_worker(app, "SW1")
    assert caught.value.field == "staff_id"


def test_unknown_authority_and_subjects_are_not_found(app: OversightApplication) -> None:
    with pytest.raises(NotFound) as caught:
        register_worker(app, "SW1")
    assert caught.value.field == "authority_code"
    setup_authority(app)
    with pytest.raises(NotFound) as caught:
        app.execute(c.ChangeTeam(**common(), staff_id="NOBODY", team="x"))
    assert caught.value.field == "staff_id"
    with pytest.raises(ValidationError) as bad:
        app.execute(c.ChangeTeam(**common(), staff_id="not valid!", team="x"))
    assert bad.value.field == "staff_id"


def test_other_authorities_records_are_invisible(app: OversightApplication) -> None:
    setup_authority(app)
    setup_authority(app, "OTHER-LA")
    register_worker(app, "SW1")
    intruder = actor("X1", Role.TEAM_MANAGER, authority="OTHER-LA")
    with pytest.raises(NotFound):
        app.execute(c.ChangeTeam(**common(who=intruder), staff_id="SW1", team="Stolen"))
    with pytest.raises(NotFound):
        app.get_worker("OTHER-LA", "SW1")
    assert app.get_worker(AUTHORITY, "SW1").employment.team == "Team A"


def test_bad_input_writes_nothing(app: OversightApplication) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    count = len(kinds(app))
    with pytest.raises(ValidationError) as caught:
        app.execute(
            c.ScheduleSupervisionSession(
                **common(),
                staff_id="SW1",
                session_id="S1",
                supervisor_id="TM1",
                scheduled_for=NOW.replace(tzinfo=None),
            )
        )
    assert caught.value.field == "scheduled_for"
    with pytest.raises(RuleViolation):
        app.execute(c.ChangeTeam(**common(NOW + timedelta(days=2)), staff_id="SW1", team="B"))
    assert len(kinds(app)) == count


def _hold_with(children: list[c.CaseDiscussion]) -> c.HoldSupervisionSession:
    return c.HoldSupervisionSession(
        **common(NOW - timedelta(days=1), SUP),
        staff_id="SW1",
        session_id="S1",
        supervisor_id="TM1",
        duration_minutes=90,
        functions_covered=["management"],
        wellbeing_discussed=True,
        equality_and_diversity_discussed=False,
        case_discussions=children,
    )


def test_session_and_case_supervisions_save_atomically(app: OversightApplication) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    for child in ("C1", "C2", "C3"):
        register_child(app, child)
    count = len(kinds(app))
    bad = _hold_with(
        [
            case_discussion("C1", "E1"),
            case_discussion("C2", "E2"),
            case_discussion("C3", "E3", reflection=""),
        ]
    )
    with pytest.raises(ValidationError) as caught:
        app.execute(bad)
    assert caught.value.field == "case_discussions[2].reflection"
    assert len(kinds(app)) == count
    assert "S1" not in app.get_worker(AUTHORITY, "SW1").sessions
    good = _hold_with([case_discussion(ch, f"E-{ch}") for ch in ("C1", "C2", "C3")])
    result = app.execute(good)
    assert len(result.aggregate_ids) == 4
    assert kinds(app)[count:] == [SupervisionSessionHeld] + [CaseSupervisionRecorded] * 3
    assert app.get_child(AUTHORITY, "C3").entries["E-C3"].fields["session_id"] == "S1"


def _personal_record(**texts: str) -> c.WritePersonalSupervisionRecord:
    """SW1's record R1 of session S1, with these texts in place of plain ones."""
    fields = {
        "actions_reviewed": "Reviewed",
        "wellbeing": "Well",
        "workload": "High",
        "development": "Training",
    }
    fields.update(texts)
    return c.WritePersonalSupervisionRecord(
        **common(NOW, SUP),
        staff_id="SW1",
        record_id="R1",
        session_id="S1",
        disagreements=None,
        agreed_actions=[],
        **fields,
    )


def test_personal_record_may_not_name_a_child_por_6_2b(app: OversightApplication) -> None:
    setup_authority(app, pack="POR")  # the rule is Portsmouth's [POR-6.2b]
    register_worker(app, "TM1", case_holding=False, line_manager_id="SM1")
    register_worker(app, "SW1")
    register_child(app, "C1234", name="Ezekiel Moonbeam")
    app.execute(
        c.AllocateWorker(
            **common(NOW - timedelta(days=5), SUP),
            child_id="C1234",
            worker_id="SW1",
            reason="NEW",
            team="Team A",
        )
    )
    app.execute(_hold_with([]))
    count = len(kinds(app))
    with pytest.raises(RuleViolation) as caught:
        app.execute(_personal_record(workload="Worried about C1234 at home"))
    assert caught.value.field == "workload"
    assert "POR-6.2b" in str(caught.value.rule)
    with pytest.raises(RuleViolation) as caught:
        app.execute(_personal_record(wellbeing="Upset after the visit to Ezekiel"))
    assert caught.value.field == "wellbeing"
    assert len(kinds(app)) == count
    app.execute(_personal_record(workload="Room 101 booked for 2 days"))  # ids that are no child's
    assert "R1" in app.get_worker(AUTHORITY, "SW1").records


def test_a_closed_case_leaves_the_caseload_in_the_same_save_and_is_still_not_named(
    app: OversightApplication,
) -> None:
    """Closing a case takes the child off its worker's caseload (one save: child and
    worker); for a year after, a personal record still may not name the child, nor a
    child passed on to a colleague [POR-6.2b]."""
    setup_authority(app, pack="POR")
    register_worker(app, "TM1", case_holding=False, line_manager_id="SM1")
    register_worker(app, "SW1")
    register_worker(app, "SW2")
    register_child(app, "C1", name="Ezekiel Moonbeam")
    register_child(app, "C2", name="Marigold Quince")
    for child in ("C1", "C2"):
        app.execute(
            c.AllocateWorker(
                **common(NOW - timedelta(days=9), SUP),
                child_id=child,
                worker_id="SW1",
                reason="NEW",
                team="Team A",
            )
        )
    closed = app.execute(
        c.CloseCase(
            **common(NOW - timedelta(days=8), SUP), child_id="C1", kind="closed", reason="NFA"
        )
    )
    assert set(closed.aggregate_ids) == {child_id(AUTHORITY, "C1"), worker_id(AUTHORITY, "SW1")}
    app.execute(
        c.AllocateWorker(
            **common(NOW - timedelta(days=7), SUP),
            child_id="C2",
            worker_id="SW2",
            reason="ORGRST",
            team="Team A",
        )
    )
    sw1 = app.get_worker(AUTHORITY, "SW1")
    assert sw1.caseload == set()
    assert sw1.children_worked_with(NOW.date()) == {"C1", "C2"}
    assert app.get_worker(AUTHORITY, "SW2").caseload == {"C2"}
    app.execute(_hold_with([]))
    count = len(kinds(app))
    for field, text in (("wellbeing", "Upset after seeing Ezekiel"), ("workload", "Quince case")):
        with pytest.raises(RuleViolation) as caught:
            app.execute(_personal_record(**{field: text}))
        assert caught.value.field == field
        assert "POR-6.2b" in str(caught.value.rule)
    assert len(kinds(app)) == count


def test_historic_import_may_predate_the_subject(app: OversightApplication) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    early = START - timedelta(days=200)
    with pytest.raises(RuleViolation):
        app.execute(c.ChangeTeam(**common(early), staff_id="SW1", team="Old team"))
    app.execute(c.ChangeTeam(**common(early, imported=True), staff_id="SW1", team="Old team"))
    worker = app.get_worker(AUTHORITY, "SW1")
    assert worker.employment.team == "Old team"


# -- concurrency: real threads against the real store -------------------------------------


@dataclass(frozen=True, kw_only=True)
class _SlowTeamChange(c.Command):
    """Test-only command that holds its loaded aggregates until the barrier releases."""

    staff_id: str
    child_id: str | None
    team: str


_barrier: threading.Barrier | None = None
_waited = threading.local()


@pytest.fixture
def uncached(database: DatabaseSettings) -> Iterator[OversightApplication]:
    """An application keeping no aggregates between commands (ADR 0016), so that each
    racing command reads the store: the store's own conflict detection is on test."""
    with opened(database, aggregate_cache_size=0) as application:
        yield application


@handles(_SlowTeamChange)
def _slow_team_change(app: OversightApplication, cmd: _SlowTeamChange) -> list[Aggregate]:
    worker = app.get_worker(cmd.actor.authority_id, cmd.staff_id)
    touched: list[Aggregate] = [worker]
    child = app.get_child(cmd.actor.authority_id, cmd.child_id) if cmd.child_id else None
    assert _barrier is not None
    if not getattr(_waited, "done", False):  # a command decided again does not wait
        _waited.done = True
        _barrier.wait(timeout=30)
    worker.change_team(cmd.provenance(), cmd.team)
    if child is not None:
        child.allocate_team(cmd.provenance(), team=cmd.team)
        touched.append(child)
    return touched


def _race(app: OversightApplication, commands: list[c.Command]) -> list[object]:
    global _barrier
    _barrier = threading.Barrier(len(commands))
    outcomes: list[object] = [None] * len(commands)

    def run(index: int) -> None:
        try:
            outcomes[index] = app.execute(commands[index])
        except Exception as error:  # recorded and asserted on below
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_writes_conflict_and_never_lose_an_update(
    uncached: OversightApplication,
) -> None:
    app = uncached
    setup_authority(app)
    register_worker(app, "SW1")
    outcomes = _race(
        app,
        [
            _SlowTeamChange(**common(), staff_id="SW1", child_id=None, team=f"Team {n}")
            for n in range(2)
        ],
    )
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    successes = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(conflicts) == 1 and len(successes) == 1, outcomes
    assert conflicts[0].retryable
    worker = app.get_worker(AUTHORITY, "SW1")
    assert worker.version == 2  # registered + exactly one team change


def test_racing_commands_in_a_caching_process_never_lose_an_update(
    app: OversightApplication,
) -> None:
    """With the aggregate cache (ADR 0016) one of the racing commands decides on the
    kept worker; whichever loses the race either is refused as a conflict or, if it
    had trusted the kept worker, is decided again on the store's: every accepted
    change is in the store, and nothing else."""
    setup_authority(app)
    register_worker(app, "SW1")
    app.execute(c.ChangeTeam(**common(), staff_id="SW1", team="Team 0"))  # now kept
    outcomes = _race(
        app,
        [
            _SlowTeamChange(**common(), staff_id="SW1", child_id=None, team=f"Team {n}")
            for n in (1, 2)
        ],
    )
    successes = [o for o in outcomes if not isinstance(o, Exception)]
    assert all(isinstance(o, ConcurrencyConflict) for o in outcomes if o not in successes)
    assert successes, outcomes
    worker = app.get_worker(AUTHORITY, "SW1")
    assert worker.version == 2 + len(successes)  # registered, Team 0, each accepted
    teams = [t for t in kinds(app) if t is WorkerTeamChanged]
    assert len(teams) == 1 + len(successes)


def test_multi_aggregate_save_is_all_or_nothing_under_a_race(
    uncached: OversightApplication,
) -> None:
    app = uncached
    """The loser's change to the worker is discarded with its change to the child."""
    setup_authority(app)
    register_worker(app, "SW1")
    register_worker(app, "SW2")
    register_child(app, "C1")
    outcomes = _race(
        app,
        [
            _SlowTeamChange(**common(), staff_id="SW1", child_id="C1", team="Team X"),
            _SlowTeamChange(**common(), staff_id="SW2", child_id="C1", team="Team Y"),
        ],
    )
    winners = [i for i, o in enumerate(outcomes) if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    loser = 1 - winners[0]
    assert isinstance(outcomes[loser], ConcurrencyConflict)
    loser_staff = ("SW1", "SW2")[loser]
    assert app.get_worker(AUTHORITY, loser_staff).version == 1  # untouched
    assert app.get_child(AUTHORITY, "C1").team == ("Team X", "Team Y")[winners[0]]


def test_concurrent_retries_of_one_command_write_once(uncached: OversightApplication) -> None:
    app = uncached
    setup_authority(app)
    register_worker(app, "SW1")
    command = _SlowTeamChange(**common(), staff_id="SW1", child_id=None, team="Team Z")
    outcomes = _race(app, [command] * 4)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(1 for o in outcomes if not o.replayed) == 1  # type: ignore[attr-defined]
    assert app.get_worker(AUTHORITY, "SW1").version == 2


def test_a_command_without_an_idempotency_key_is_refused(app: OversightApplication) -> None:
    setup_authority(app)
    register_worker(app, "SW1")
    count = len(kinds(app))
    for key in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            app.execute(c.ChangeTeam(**{**common(), "command_id": key}, staff_id="SW1", team="B"))
        assert caught.value.field == "command_id"
    assert len(kinds(app)) == count


def test_payloads_pass_through_one_mapper_seam(database: object) -> None:
    """Configuring a cipher on the library's mapper encrypts every stored payload, with
    no change to the domain: the seam retention will use for per-record keys."""
    from eventsourcing.cipher import AESCipher

    from oversight.settings import DatabaseSettings

    assert isinstance(database, DatabaseSettings)
    env = {
        **database.eventsourcing_env(),
        "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(num_bytes=32),
    }
    encrypted = OversightApplication(env=env)
    try:
        setup_authority(encrypted)
        register_worker(encrypted, "SW1", display_name="Plaintext Person")
        states = [n.state for n in encrypted.recorder.select_notifications(start=1, limit=10)]
        assert len(states) == 2
        assert all(b"Plaintext Person" not in s and b"TEST-LA" not in s for s in states)
        assert encrypted.get_worker(AUTHORITY, "SW1").display_name == "Plaintext Person"
    finally:
        encrypted.close()


def test_policy_packs_are_named_by_the_library(app: OversightApplication) -> None:
    """Any loaded pack may be adopted, a copied one too; an unknown or malformed id is
    refused, naming the field and the packs there are, and nothing is written."""
    with pytest.raises(ValidationError) as unknown:
        setup_authority(app, pack="NOPE")
    assert unknown.value.field == "policy_pack" and "DUR" in str(unknown.value)
    with pytest.raises(ValidationError) as malformed:
        setup_authority(app, pack="dur; drop")
    assert malformed.value.field == "policy_pack"
    assert kinds(app) == []
    setup_authority(app, pack="POR")
    assert app.get_authority(AUTHORITY).policy_pack == "POR"
    with pytest.raises(DomainError) as same:
        app.execute(c.AdoptPolicyPack(**common(), policy_pack="POR"))
    assert same.value.field == "policy_pack"
    app.execute(c.AdoptPolicyPack(**common(), policy_pack="BUR"))
    assert app.get_authority(AUTHORITY).policy_pack == "BUR"
    assert kinds(app) == [AuthorityRegistered, PolicyPackAdopted]
