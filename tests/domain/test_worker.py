"""Worker commands, their events, and the invariants they enforce."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import Forbidden, NotFound, RuleViolation, ValidationError
from domain.events import (
    AppraisalHeld,
    EntryCorrected,
    EntrySignaturesVoided,
    GroupSupervisionAttended,
    LineManagerChanged,
    PersonalRecordCommentRemoved,
    SupervisionAgreementSigned,
    SupervisionAgreementSignedByOneParty,
    SupervisionSessionHeld,
    SupervisionSessionRescheduled,
    SupervisionSessionScheduled,
    WorkerLeftEmployment,
    WorkerRegistered,
    WorkerRoleChanged,
    WorkerTeamChanged,
    WorkingPatternChanged,
    kind_of,
)
from domain.worker import Worker
from tests.domain.aggregates import (
    NOW,
    START,
    held_session,
    kinds,
    prov,
    replay,
    rules,
    worker,
    written_record,
)


def test_registration_records_employment() -> None:
    w = worker(
        employment_pattern="part_time",
        fte="0.5",
        weekly_hours="18.5",
        nqsw_asye_start=START.date(),
    )
    assert w.employment.weekly_hours == Decimal("18.5")
    assert kinds(w) == [WorkerRegistered]
    assert w.employment.fte == Decimal("0.5")
    assert w.employment.nqsw_asye_start == START.date()
    assert w.authority_code == "TEST-LA"
    assert w.id == Worker.create_id("TEST-LA", "SW1")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "wizard"}, "role"),
        # One role vocabulary, three uses: a worker holds a post, never a token's role
        # or a capacity in which events are recorded.
        ({"role": "qa_auditor"}, "role"),
        ({"role": "supervisee"}, "role"),
        ({"staff_id": "bad id!"}, "staff_id"),
        ({"employment_pattern": "full_time", "fte": "0.5"}, "fte"),
        ({"employment_pattern": "part_time", "fte": "1"}, "fte"),
        ({"fte": "lots"}, "fte"),
        ({"weekly_hours": "0"}, "weekly_hours"),
        ({"weekly_hours": "many"}, "weekly_hours"),
        ({"display_name": "  "}, "display_name"),
        ({"line_manager_id": "SW1"}, "line_manager_id"),
        ({"engagement": "freelance"}, "engagement"),
        ({"nqsw_asye_start": date(2000, 1, 1)}, "nqsw_asye_start"),
    ],
)
def test_registration_rejects_bad_input_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        worker(**overrides)
    assert caught.value.field == field


def test_employment_changes_are_events() -> None:
    w = worker()
    w.change_role(prov(), "team_manager")
    w.change_team(prov(), "Team B")
    w.change_line_manager(prov(), "SM1")
    w.change_working_pattern(prov(), "part_time", "0.6")
    w.leave_employment(prov(), NOW.date(), "retired")
    assert kinds(w)[1:] == [
        WorkerRoleChanged,
        WorkerTeamChanged,
        LineManagerChanged,
        WorkingPatternChanged,
        WorkerLeftEmployment,
    ]
    assert w.employment.left_on == NOW.date()
    with pytest.raises(ValidationError) as caught:
        w.change_team(prov(), "Team C")
    assert caught.value.field == "worker_id"


def test_session_lifecycle() -> None:
    w = worker()
    w.schedule_supervision_session(
        prov(NOW - timedelta(days=20)),
        session_id="S1",
        supervisor_id="TM1",
        scheduled_for=NOW - timedelta(days=10),
    )
    w.reschedule_supervision_session(
        prov(NOW - timedelta(days=11)),
        session_id="S1",
        new_scheduled_for=NOW - timedelta(days=5),
        reason="Court",
    )
    held_session(w, "S1", NOW - timedelta(days=5))
    assert kinds(w)[1:] == [
        SupervisionSessionScheduled,
        SupervisionSessionRescheduled,
        SupervisionSessionHeld,
    ]
    session = w.sessions["S1"]
    assert (session.status, session.reschedules) == ("held", 1)
    with pytest.raises(ValidationError):
        w.cancel_supervision_session(prov(), session_id="S1", reason="too late")


def test_reschedule_needs_a_new_date_dur_4_4() -> None:
    w = worker()
    w.schedule_supervision_session(prov(), session_id="S1", supervisor_id="TM1", scheduled_for=NOW)
    with pytest.raises(RuleViolation) as caught:
        w.reschedule_supervision_session(
            prov(), session_id="S1", new_scheduled_for=None, reason="x"
        )
    assert caught.value.rule == "RescheduleAgreesANewDate"  # its pack cites the clause


def test_cancellation_needs_a_reason() -> None:
    w = worker()
    w.schedule_supervision_session(prov(), session_id="S1", supervisor_id="TM1", scheduled_for=NOW)
    with pytest.raises(RuleViolation):
        w.cancel_supervision_session(prov(), session_id="S1", reason=" ")
    w.cancel_supervision_session(
        prov(actor="SW1", role="supervisee"), session_id="S1", reason="Bereavement leave"
    )
    assert w.sessions["S1"].cancellation_reason == "Bereavement leave"
    assert w.pending_events[-1].cancelled_by == "supervisee"  # type: ignore[attr-defined]
    w.schedule_supervision_session(prov(), session_id="S2", supervisor_id="TM1", scheduled_for=NOW)
    with pytest.raises(Forbidden) as caught:  # who cancels is the actor: a party, or no one
        w.cancel_supervision_session(
            prov(actor="HR1", role="administrator"), session_id="S2", reason="x"
        )
    assert caught.value.rule == "OnlyAPartyCancelsTheSession"  # its pack cites the clause


def test_held_session_validates_functions_and_duration() -> None:
    w = worker()
    with pytest.raises(ValidationError) as caught:
        w.hold_supervision_session(
            prov(),
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=0,
            functions_covered=[],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
            children_discussed=[],
        )
    assert caught.value.field == "duration_minutes"
    with pytest.raises(ValidationError) as caught:
        w.hold_supervision_session(
            prov(),
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["gossip"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
            children_discussed=[],
        )
    assert caught.value.field == "functions_covered"
    with pytest.raises(ValidationError) as caught:
        w.hold_supervision_session(
            prov(),
            session_id="S1",
            supervisor_id="SW1",
            duration_minutes=90,
            functions_covered=[],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=True,
            children_discussed=[],
        )
    assert caught.value.field == "supervisor_id"


def test_record_signing_supervisor_then_supervisee() -> None:
    w = worker()
    written_record(w)
    with pytest.raises(RuleViolation) as caught:
        w.sign_personal_supervision_record(
            prov(actor="SW1", role="supervisee"), record_id="R1", rules=rules("POR")
        )
    assert "SupervisorSignsBeforeSuperviseeConfirms" in str(caught.value.rule)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    w.sign_personal_supervision_record(
        prov(actor="SW1", role="supervisee"),
        record_id="R1",
        confirmed=False,
        differing_view="Workload is higher than recorded.",
        rules=rules("POR"),
    )
    record = w.records["R1"]
    assert record.signed_by == ("supervisor", "supervisee")
    assert record.disputed is True


def test_each_party_signs_once() -> None:
    w = worker()
    written_record(w)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    before = len(w.pending_events)
    with pytest.raises(RuleViolation) as caught:
        w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    assert caught.value.rule is not None and caught.value.rule.startswith("EachPartySignsOnce")
    assert len(w.pending_events) == before  # nothing was triggered


def test_dispute_states_the_differing_view_por_6_2a() -> None:
    w = worker()
    written_record(w)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    with pytest.raises(RuleViolation) as caught:
        w.sign_personal_supervision_record(
            prov(actor="SW1", role="supervisee"),
            record_id="R1",
            confirmed=False,
            rules=rules("POR"),
        )
    assert caught.value.rule == "DisputedSignatureStatesTheDifferingView"
    assert caught.value.field == "differing_view"


def test_signed_record_is_never_edited_only_corrected() -> None:
    w = worker()
    written_record(w)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    with pytest.raises(RuleViolation) as caught:
        w.write_personal_supervision_record(
            prov(),
            record_id="R2",
            session_id="S1",
            actions_reviewed="x",
            wellbeing="x",
            workload="x",
            development="x",
            disagreements=None,
            agreed_actions=[],
        )
    assert str(caught.value.rule).startswith("SignedRecordIsNeverEdited")
    w.correct_entry(prov(), "R1", {"workload": "High: 24 children."}, "Typo in caseload count")
    entry = w.entries["R1"]
    assert entry.fields["workload"] == "Manageable."  # the original stays
    assert entry.current()["workload"] == "High: 24 children."
    assert entry.corrections[0].reason == "Typo in caseload count"
    assert kinds(w)[-2:] == [
        EntryCorrected,
        EntrySignaturesVoided,
    ]


def test_a_correction_voids_the_signatures_and_asks_for_them_again_dur_4_7a() -> None:
    """The probe: a record both had signed was rewritten and kept both signatures."""
    w = worker()
    written_record(w)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    w.sign_personal_supervision_record(
        prov(actor="SW1", role="supervisee"), record_id="R1", rules=rules("POR")
    )
    assert w.records["R1"].signed_by == ("supervisor", "supervisee")
    w.correct_entry(prov(), "R1", {"workload": "High"}, "Caseload miscounted")
    voided = w.pending_events[-1]
    assert kind_of(voided) is EntrySignaturesVoided
    assert voided.voided == ["supervisor", "supervisee"]  # type: ignore[attr-defined]
    assert w.records["R1"].signed_by == ()  # reads unsigned until each signs again
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    w.sign_personal_supervision_record(
        prov(actor="SW1", role="supervisee"), record_id="R1", rules=rules("POR")
    )
    assert w.records["R1"].signed_by == ("supervisor", "supervisee")
    assert replay(w).records == w.records


def test_only_the_author_or_their_line_manager_corrects() -> None:
    w = worker()
    written_record(w)  # written by TM1
    for who in ("SW1", "SM9"):
        with pytest.raises(Forbidden) as caught:
            w.correct_entry(prov(actor=who), "R1", {"workload": "x"}, "why")
        assert str(caught.value.rule).startswith("OnlyTheAuthorOrTheirLineManagerCorrects")
    w.correct_entry(
        prov(actor="SM1", role="service_manager"),
        "R1",
        {"workload": "x"},
        "why",
        authors_line_manager_id="SM1",
    )


def test_correction_rules() -> None:
    w = worker()
    written_record(w)
    with pytest.raises(RuleViolation) as caught:
        w.correct_entry(prov(), "R1", {"workload": "x"}, "")
    assert str(caught.value.rule).startswith("CorrectionGivesAReason")
    with pytest.raises(RuleViolation) as caught:
        w.correct_entry(prov(), "R1", {"session_id": "S9"}, "moving it")
    assert str(caught.value.rule).startswith("CorrectionChangesOnlyCorrectableFields")
    with pytest.raises(NotFound):
        w.correct_entry(prov(), "nope", {"workload": "x"}, "why")


def test_agreed_actions_need_owner_and_due_date() -> None:
    w = worker()
    held_session(w)
    with pytest.raises(RuleViolation) as caught:
        w.write_personal_supervision_record(
            prov(),
            record_id="R1",
            session_id="S1",
            actions_reviewed="x",
            wellbeing="x",
            workload="x",
            development="x",
            disagreements=None,
            agreed_actions=[
                {"action_id": "A1", "description": "d", "owner": "", "due_on": "2030-01-01"}
            ],
        )
    assert caught.value.field == "actions[0].owner"
    with pytest.raises(RuleViolation) as caught:
        w.write_personal_supervision_record(
            prov(),
            record_id="R1",
            session_id="S1",
            actions_reviewed="x",
            wellbeing="x",
            workload="x",
            development="x",
            disagreements=None,
            agreed_actions=[{"action_id": "A1", "description": "d", "owner": "SW1"}],
        )
    assert caught.value.field == "actions[0].due_on"


def test_agreement_and_frequency_exception_por_3_1a() -> None:
    w = worker()
    terms: dict[str, Any] = {
        "agreement_id": "SA1",
        "supervisor_id": "TM1",
        "frequency": "P4W",
        "supervision_format": "individual",
        "review_due_on": (NOW + timedelta(days=365)).date(),
        "escalation_manager_id": "SM1",
    }
    w.sign_supervision_agreement(prov(actor="SW1", role="supervisee"), **terms)
    assert "SA1" not in w.agreements  # signed by one party: not in force yet
    with pytest.raises(Forbidden) as forged:  # no one signs for the supervisor
        w.sign_supervision_agreement(prov(actor="HR1", role="administrator"), **terms)
    assert str(forged.value.rule).startswith("OnlyTheNamedPartiesSign")
    with pytest.raises(RuleViolation):  # nor twice for themselves
        w.sign_supervision_agreement(prov(actor="SW1", role="supervisee"), **terms)
    with pytest.raises(ValidationError) as differs:
        w.sign_supervision_agreement(prov(), **dict(terms, frequency="P2W"))
    assert differs.value.field == "frequency"
    w.sign_supervision_agreement(prov(), **terms)
    assert w.agreements["SA1"]["frequency"] == "P4W"
    assert kinds(w)[-2:] == [
        SupervisionAgreementSignedByOneParty,
        SupervisionAgreementSigned,
    ]
    w.review_supervision_agreement(
        prov(), agreement_id="SA1", next_review_due_on=(NOW + timedelta(days=180)).date()
    )
    with pytest.raises(Forbidden) as caught:  # who approves: the person, not the input
        w.approve_frequency_exception(
            prov(role="team_manager"),
            frequency="P2M",
            reason="Experienced",
            agreement_id="SA1",
            rules=rules("POR"),
        )
    assert "POR-3.1a" in str(caught.value.rule)
    w.approve_frequency_exception(
        prov(actor="HOS1", role="head_of_service"),
        frequency="P2M",
        reason="Experienced, low caseload",
        agreement_id="SA1",
        rules=rules("POR"),
    )
    assert w.frequency_exception == {
        "frequency": "P2M",
        "approved_by": "HOS1",
        "agreement_id": "SA1",
    }
    with pytest.raises(ValidationError) as bad:
        w.sign_supervision_agreement(
            prov(),
            agreement_id="SA2",
            supervisor_id="TM1",
            frequency="sometimes",
            supervision_format="individual",
            review_due_on=(NOW + timedelta(days=365)).date(),
            escalation_manager_id="SM1",
        )
    assert bad.value.field == "frequency"


def test_absences_dur_4_4() -> None:
    w = worker()
    w.start_absence(
        prov(), absence_id="AB1", kind="sickness", started_on=(NOW - timedelta(days=10)).date()
    )
    with pytest.raises(ValidationError):
        w.start_absence(prov(), absence_id="AB2", kind="planned", started_on=NOW.date())
    w.end_absence(prov(), absence_id="AB1", returned_on=NOW.date())
    assert w.absences["AB1"].ended_on == NOW.date()
    with pytest.raises(ValidationError):
        w.end_absence(prov(), absence_id="AB1", returned_on=NOW.date())


def test_direct_observation_signed_by_three_parties_dur_6() -> None:
    w = worker()
    w.record_direct_observation(
        prov(), observation_id="OB1", observer_id="PS1", summary="Home visit, good rapport"
    )
    for who in ("SW1", "PS1", "TM1"):  # supervisee, observer, line manager: each for themselves
        w.sign_direct_observation(prov(actor=who), observation_id="OB1")
    assert w.observations["OB1"] == ("supervisee", "observer", "line_manager")
    with pytest.raises(RuleViolation):
        w.sign_direct_observation(prov(actor="PS1"), observation_id="OB1")
    with pytest.raises(Forbidden):
        w.sign_direct_observation(prov(actor="SM1"), observation_id="OB1")


def test_group_supervision_and_appraisal() -> None:
    w = worker()
    w.attend_group_supervision(prov(), group_session_id="G1", facilitator_id="PS1", topic="Neglect")
    w.hold_appraisal(prov(), appraisal_id="AP1", kind="pdr")
    assert kinds(w)[1:] == [GroupSupervisionAttended, AppraisalHeld]
    with pytest.raises(ValidationError):
        w.hold_appraisal(prov(), appraisal_id="AP2", kind="chat")


def test_comment_removed_only_by_original_supervisors_manager_dur_4_8b() -> None:
    w = worker()
    written_record(w)
    with pytest.raises(Forbidden) as caught:  # who removes it: the person, not the input
        w.remove_comment(
            prov(actor="TM2"),
            record_id="R1",
            field_name="wellbeing",
            reason="Damaging",
            original_supervisors_manager_id="SM1",
            rules=rules("DUR"),
        )
    assert "DUR-4.8b" in str(caught.value.rule)
    w.remove_comment(
        prov(actor="SM1", role="service_manager"),
        record_id="R1",
        field_name="wellbeing",
        reason="Damaging to the new relationship",
        original_supervisors_manager_id="SM1",
        rules=rules("DUR"),
    )
    entry = w.entries["R1"]
    assert entry.fields["wellbeing"] == "Well."
    assert entry.current()["wellbeing"] is None
    assert kinds(w)[-1] is PersonalRecordCommentRemoved


def test_worker_disagreements_are_about_records_frequency_or_practice() -> None:
    w = worker()
    with pytest.raises(ValidationError) as caught:
        w.raise_disagreement(prov(), "D1", "decision_on_child", "x")
    assert caught.value.field == "subject"
    w.raise_disagreement(prov(), "D1", "supervision_frequency", "Wants fortnightly")
    assert w.disagreements["D1"].level is None


def test_replaying_events_reproduces_state() -> None:
    w = worker()
    written_record(w)
    w.sign_personal_supervision_record(prov(), record_id="R1", rules=rules("POR"))
    w.correct_entry(prov(), "R1", {"workload": "High"}, "Correction")
    rebuilt = replay(w)
    assert rebuilt.records == w.records
    assert rebuilt.sessions == w.sessions
    assert rebuilt.entries == w.entries
    assert rebuilt.version == w.version


def test_children_who_left_the_caseload_are_worked_with_for_a_year_por_6_2b() -> None:
    w = worker()
    w.take_on_child(prov(START + timedelta(days=1)), "C1")
    w.take_on_child(prov(START + timedelta(days=1)), "C2")
    left = START + timedelta(days=10)
    w.hand_over_child(prov(left), "C1")
    assert w.caseload == {"C2"}
    assert w.children_worked_with(left.date() + timedelta(days=365)) == {"C1", "C2"}
    assert w.children_worked_with(left.date() + timedelta(days=366)) == {"C2"}
    rebuilt = replay(w)
    assert rebuilt.left_caseload == {"C1": left.date()}
    # Taken on again: back on the caseload, no longer counted as left.
    w.take_on_child(prov(left + timedelta(days=5)), "C1")
    assert w.left_caseload == {} and w.caseload == {"C1", "C2"}


def test_who_left_the_caseload_over_a_year_before_a_later_leaver_is_forgotten() -> None:
    """Pruned as the events apply, so a long-serving worker's state stays bounded."""
    w = worker()
    long_ago = START - timedelta(days=800)
    for child in ("C1", "C2", "C3"):
        w.take_on_child(prov(long_ago, imported=True), child)
    w.hand_over_child(prov(long_ago + timedelta(days=10), imported=True), "C1")
    w.hand_over_child(prov(long_ago + timedelta(days=300), imported=True), "C2")
    assert set(w.left_caseload) == {"C1", "C2"}  # 290 days apart: both within a year
    w.hand_over_child(prov(START + timedelta(days=10)), "C3")
    assert set(w.left_caseload) == {"C3"}  # the others left 800 and 510 days before
    assert replay(w).left_caseload == w.left_caseload
