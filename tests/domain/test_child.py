"""Child commands: allocation, care episodes, case supervision, oversight, actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import Forbidden, NotFound, RuleViolation, ValidationError
from domain.events import (
    CaseClosed,
    ChildCameIntoCare,
    EventType,
    GroupSupervisionDiscussionRecorded,
    ManagementDecisionRecorded,
    OversightTriggered,
    ThresholdChanged,
    WorkerAllocated,
)
from domain.vocabulary import OversightTriggerKind
from tests.domain.aggregates import NOW, START, child, kinds, prov, replay, rules


def oversight_args(trigger_ids: list[str], **overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "entry_id": "MO1",
        "answers_trigger_ids": trigger_ids,
        "reason": "New allocation",
        "current_situation": "Safe at home",
        "decision": "Visit weekly",
        "rationale": "Risk is medium",
        "actions": [
            {
                "action_id": "A1",
                "description": "Visit",
                "owner": "SW1",
                "due_on": (NOW + timedelta(days=7)).date(),
            }
        ],
    }
    args.update(overrides)
    return args


def test_registration_needs_exactly_one_birth_date() -> None:
    with pytest.raises(ValidationError) as caught:
        child(date_of_birth=None)
    assert caught.value.field == "date_of_birth"
    unborn = child(date_of_birth=None, expected_date_of_birth=(NOW + timedelta(days=60)).date())
    assert unborn.expected_date_of_birth is not None
    with pytest.raises(ValidationError) as caught:
        child(date_of_birth=(NOW + timedelta(days=5)).date())
    assert caught.value.field == "date_of_birth"
    with pytest.raises(ValidationError) as caught:
        child(case_type="ordinary")
    assert caught.value.field == "case_type"


def test_allocation_raises_dev_6_point_1() -> None:
    ch = child()
    ch.allocate_worker(prov(), worker_id="SW1", reason="NEW", team="Team A")
    assert kinds(ch)[1:] == [WorkerAllocated, OversightTriggered]
    [trigger] = ch.open_triggers
    assert trigger.kind is OversightTriggerKind.ALLOCATION_TO_NEW_PRACTITIONER
    assert trigger.automatic
    with pytest.raises(ValidationError) as caught:
        ch.allocate_worker(prov(), worker_id="SW2", reason="NEW", team="Team A")
    assert caught.value.field == "reason"
    with pytest.raises(ValidationError):
        ch.allocate_worker(prov(), worker_id="SW2", reason="NOTACODE", team="Team A")
    ch.allocate_worker(prov(), worker_id="SW2", reason="LEFTRL", team="Team A")
    assert ch.allocated_worker_id == "SW2"
    assert len(ch.open_triggers) == 2


@pytest.mark.parametrize(
    ("command", "kwargs", "event", "kind"),
    [
        (
            "change_threshold",
            {"threshold": "level 4"},
            ThresholdChanged,
            OversightTriggerKind.THRESHOLD_CHANGE,
        ),
        (
            "record_came_into_care",
            {"legal_status": "C2", "placement": "U1"},
            ChildCameIntoCare,
            OversightTriggerKind.CAME_INTO_CARE,
        ),
        (
            "close_case",
            {"kind": "stepped_across_to_early_help", "reason": "Needs met"},
            CaseClosed,
            OversightTriggerKind.CLOSURE_OR_TRANSFER,
        ),
    ],
)
def test_key_point_events_raise_their_trigger(
    command: str, kwargs: dict[str, object], event: EventType, kind: OversightTriggerKind
) -> None:
    ch = child()
    getattr(ch, command)(prov(), **kwargs)
    assert event in kinds(ch)
    assert OversightTriggered in kinds(ch)
    assert [t.kind for t in ch.open_triggers] == [kind]


def test_care_episode_and_return_home() -> None:
    ch = child(case_type="cla")
    with pytest.raises(ValidationError):
        ch.record_returned_home(prov(), reason="x")
    ch.record_came_into_care(prov(), legal_status="C2", placement="U1")
    ch.change_placement(prov(), placement="U3", reason="Carer retired")
    ch.record_returned_home(prov(), reason="Plan met")
    assert not ch.in_care
    assert [t.kind for t in ch.open_triggers] == [
        OversightTriggerKind.CAME_INTO_CARE,
        OversightTriggerKind.RETURNED_HOME,
    ]


def test_closed_case_refuses_further_changes() -> None:
    ch = child()
    ch.close_case(prov(), kind="closed", reason="No further action")
    with pytest.raises(ValidationError) as caught:
        ch.change_risk_level(prov(), risk_level="high")
    assert caught.value.field == "child_id"


def test_manual_triggers_and_significant_incident_dates_dev_6g() -> None:
    ch = child()
    with pytest.raises(RuleViolation) as caught:
        ch.trigger_oversight(
            prov(), trigger_id="T1", kind="significant_incident", detail="Injury", incident_dates=[]
        )
    assert caught.value.rule == "SignificantIncidentHasItsDates"  # its pack cites the clause
    with pytest.raises(ValidationError) as bad:
        ch.trigger_oversight(prov(), trigger_id="T1", kind="came_into_care", detail="x")
    assert bad.value.field == "kind"
    ch.trigger_oversight(
        prov(),
        trigger_id="T1",
        kind="significant_incident",
        detail="Injury",
        incident_dates=[(NOW - timedelta(days=1)).date()],
    )
    ch.trigger_oversight(prov(), trigger_id="T2", kind="court_direction", detail="ICO")
    assert {t.trigger_id for t in ch.open_triggers} == {"T1", "T2"}


@pytest.mark.parametrize(
    "heading",
    [
        "reason",
        "current_situation",
        "decision",
        "rationale",
    ],
)
def test_oversight_record_has_every_heading_dev_6g(heading: str) -> None:
    ch = child()
    ch.trigger_oversight(prov(), trigger_id="T1", kind="drift_or_delay", detail="Drift")
    with pytest.raises(RuleViolation) as caught:
        ch.record_management_oversight(
            prov(), **oversight_args(["T1"], **{heading: " "}), rules=rules("DEV")
        )
    assert caught.value.field == heading
    assert caught.value.rule == "OversightRecordHasEveryHeading"  # its pack cites the clause


def test_the_decision_maker_and_role_are_the_actors_dev_6g() -> None:
    """Not request fields: a practitioner cannot record an oversight as a head of
    service (the probe), and a manager's record names them and their role."""
    ch = child()
    ch.trigger_oversight(prov(), trigger_id="T1", kind="drift_or_delay", detail="Drift")
    with pytest.raises(Forbidden) as caught:
        ch.record_management_oversight(
            prov(actor="SW1", role="practitioner"), **oversight_args(["T1"]), rules=rules("DEV")
        )
    assert str(caught.value.rule).startswith("ManagementOversightIsAManagersDecision DEV-6g")
    assert [t.trigger_id for t in ch.open_triggers] == ["T1"]
    ch.record_management_oversight(
        prov(actor="HOS1", role="head_of_service"), **oversight_args(["T1"]), rules=rules("DEV")
    )
    fields = ch.entries["MO1"].fields
    assert (fields["decision_maker_id"], fields["decision_maker_role"]) == (
        "HOS1",
        "head_of_service",
    )
    with pytest.raises(Forbidden):
        ch.record_management_decision(
            prov(actor="SW1", role="practitioner"),
            entry_id="MD1",
            decision="x",
            rationale="y",
            consulted_by="SW1",
            rules=rules("POR"),
        )


def test_oversight_needs_smart_actions() -> None:
    ch = child()
    ch.trigger_oversight(prov(), trigger_id="T1", kind="drift_or_delay", detail="Drift")
    with pytest.raises(RuleViolation) as caught:
        ch.record_management_oversight(
            prov(), **oversight_args(["T1"], actions=[]), rules=rules("DEV")
        )
    assert caught.value.field == "actions"


def test_oversight_answers_open_triggers() -> None:
    ch = child()
    ch.trigger_oversight(prov(), trigger_id="T1", kind="drift_or_delay", detail="Drift")
    with pytest.raises(RuleViolation):
        ch.record_management_oversight(prov(), **oversight_args([]), rules=rules("DEV"))
    with pytest.raises(RuleViolation):
        ch.record_management_oversight(prov(), **oversight_args(["T9"]), rules=rules("DEV"))
    ch.record_management_oversight(prov(), **oversight_args(["T1"]), rules=rules("DEV"))
    assert ch.open_triggers == []
    assert ch.triggers["T1"].answered_by == "MO1"
    with pytest.raises(RuleViolation):  # already answered
        ch.record_management_oversight(
            prov(), **oversight_args(["T1"], entry_id="MO2"), rules=rules("DEV")
        )


def test_case_supervision_tracks_previous_actions_dev_5_3() -> None:
    ch = child()
    args: dict[str, object] = {
        "entry_id": "CS1",
        "worker_id": "SW1",
        "supervisor_id": "TM1",
        "session_id": None,
        "current_situation": "x",
        "child_last_seen_on": NOW.date(),
        "childs_views": "x",
        "reflection": "x",
        "analysis": "x",
        "decision": "x",
        "rationale": "x",
        "actions": [
            {
                "action_id": "A1",
                "description": "Visit",
                "owner": "SW1",
                "due_on": (NOW + timedelta(days=7)).date(),
            }
        ],
        "previous_actions_reviewed": None,
    }
    ch.record_case_supervision(prov(), **args)
    with pytest.raises(ValidationError) as caught:
        ch.record_case_supervision(prov(), **{**args, "entry_id": "CS2", "actions": []})
    assert caught.value.field == "previous_actions_reviewed"
    ch.record_case_supervision(
        prov(), **{**args, "entry_id": "CS2", "actions": [], "previous_actions_reviewed": "A1 done"}
    )
    with pytest.raises(ValidationError) as seen:
        ch.record_case_supervision(
            prov(),
            **{
                **args,
                "entry_id": "CS3",
                "actions": [],
                "child_last_seen_on": NOW.date() + timedelta(days=2),
                "previous_actions_reviewed": "ok",
            },
        )
    assert seen.value.field == "child_last_seen_on"


def test_actions_carried_forward_with_rationale_por_6_1() -> None:
    ch = child()
    due = (NOW + timedelta(days=7)).date()
    ch.set_action(
        prov(), action={"action_id": "A1", "description": "Visit", "owner": "SW1", "due_on": due}
    )
    with pytest.raises(RuleViolation) as caught:
        ch.carry_forward_action(prov(), action_id="A1", rationale="", new_due_on=due)
    assert caught.value.rule == "CarriedForwardActionHasARationale"  # its pack cites the clause
    with pytest.raises(RuleViolation) as caught:
        ch.carry_forward_action(prov(), action_id="A1", rationale="Family away", new_due_on=due)
    assert caught.value.field == "new_due_on"
    ch.carry_forward_action(
        prov(), action_id="A1", rationale="Family away", new_due_on=due + timedelta(days=7)
    )
    ch.complete_action(prov(), action_id="A1", note="Visited")
    state = ch.actions["A1"]
    assert (state.carried_forward, state.completed_on) == (1, NOW.date())
    with pytest.raises(ValidationError):
        ch.complete_action(prov(), action_id="A1", note="again")
    with pytest.raises(NotFound):
        ch.complete_action(prov(), action_id="A9", note="x")


def test_ad_hoc_decision_and_group_discussion() -> None:
    ch = child()
    ch.record_management_decision(
        prov(),
        entry_id="MD1",
        decision="Strategy meeting",
        rationale="New disclosure",
        consulted_by="SW1",
        rules=rules("POR"),
    )
    ch.record_group_discussion(
        prov(),
        entry_id="GD1",
        group_session_id="G1",
        facilitator_id="PS1",
        summary="Discussed neglect indicators",
    )
    assert kinds(ch)[1:] == [ManagementDecisionRecorded, GroupSupervisionDiscussionRecorded]


def test_child_replay_reproduces_state() -> None:
    ch = child()
    ch.allocate_worker(prov(), worker_id="SW1", reason="NEW", team="Team A")
    trigger_id = ch.open_triggers[0].trigger_id
    ch.record_management_oversight(prov(), **oversight_args([trigger_id]), rules=rules("DEV"))
    ch.raise_disagreement(prov(), "D1", "decision_on_child", "No strategy meeting")
    ch.escalate_disagreement(prov(), "D1", "Unresolved", rules=rules("DUR"))
    rebuilt = replay(ch)
    assert rebuilt.triggers == ch.triggers
    assert rebuilt.actions == ch.actions
    assert rebuilt.disagreements == ch.disagreements
    assert rebuilt.entries == ch.entries


def test_unborn_child_registered_before_birth() -> None:
    ch = child(date_of_birth=None, expected_date_of_birth=date.today() + timedelta(days=90))
    assert ch.existed_from == START
