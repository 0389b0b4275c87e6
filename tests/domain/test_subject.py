"""Rules every subject shares: time, disagreements, legal holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.child import Child
from domain.errors import Forbidden, NotFound, RuleViolation, ValidationError
from domain.provenance import Provenance
from domain.vocabulary import EscalationLevel
from tests.domain.aggregates import NOW, START, THREE_LEVELS, child, prov, worker

#: The invented authority's chain, its levels in order.
ESCALATION_CHAIN = tuple(level.level for level in THREE_LEVELS.chains[0].levels)


def test_occurred_at_is_not_in_the_future() -> None:
    w = worker()
    with pytest.raises(RuleViolation) as caught:
        w.change_team(prov(NOW + timedelta(days=1)), "Team B")
    assert caught.value.rule == "OccurredAtIsNotInTheFuture"
    assert caught.value.field == "occurred_at"
    with pytest.raises(RuleViolation):
        worker(provenance=prov(NOW + timedelta(hours=1)))


def test_occurred_at_is_not_before_the_subject_existed_except_imports() -> None:
    w = worker()
    early = START - timedelta(days=30)
    with pytest.raises(RuleViolation) as caught:
        w.change_team(prov(early), "Team B")
    assert caught.value.rule == "OccurredAtIsNotBeforeTheSubjectExisted"
    w.change_team(prov(early, imported=True), "Team B")
    assert w.pending_events[-1].provenance.imported is True  # type: ignore[attr-defined]


def test_occurred_at_needs_a_time_zone() -> None:
    with pytest.raises(ValidationError) as caught:
        Provenance(
            occurred_at=NOW.replace(tzinfo=None), actor_id="a", actor_role="r", command_id="c"
        )
    assert caught.value.field == "occurred_at"


def test_disagreement_cannot_escalate_past_the_top_of_its_chain() -> None:
    ch = child()
    ch.raise_disagreement(prov(), "D1", "decision_on_child", "Threshold decision")
    for _ in ESCALATION_CHAIN:
        ch.escalate_disagreement(prov(), "D1", "Still unresolved", rules=THREE_LEVELS)
    assert ch.disagreements["D1"].escalations == ESCALATION_CHAIN
    with pytest.raises(RuleViolation) as caught:
        ch.escalate_disagreement(prov(), "D1", "Again", rules=THREE_LEVELS)
    assert caught.value.rule == "DisagreementEscalatesWithinItsChain TEST-3"


RAISER = {"actor": "SW1", "role": "practitioner"}
#: Who holds a disagreement at each level (before any escalation: the other party).
HOLDER = {
    None: {"actor": "TM1", "role": "supervisor"},
    EscalationLevel.SUPERVISORS_LINE_MANAGER: {"actor": "SM1", "role": "team_manager"},
    EscalationLevel.SERVICE_MANAGER: {"actor": "SM2", "role": "service_manager"},
    EscalationLevel.HEAD_OF_SERVICE: {"actor": "HOS1", "role": "head_of_service"},
}


def _holder(ch: Child) -> Provenance:
    return prov(**HOLDER[ch.disagreements["D1"].level])  # type: ignore[arg-type]


def test_disagreement_is_resolved_once() -> None:
    ch = child()
    ch.raise_disagreement(prov(**RAISER), "D1", "decision_on_child", "Threshold decision")  # type: ignore[arg-type]
    ch.resolve_disagreement(
        _holder(ch), "D1", "Agreed to convene a strategy meeting", rules=THREE_LEVELS
    )
    with pytest.raises(RuleViolation) as caught:
        ch.resolve_disagreement(_holder(ch), "D1", "Again", rules=THREE_LEVELS)
    assert caught.value.rule == "DisagreementIsResolvedOnce TEST-1"
    with pytest.raises(RuleViolation):
        ch.escalate_disagreement(prov(), "D1", "After resolution", rules=THREE_LEVELS)
    with pytest.raises(NotFound):
        ch.resolve_disagreement(prov(), "D9", "x", rules=THREE_LEVELS)


def test_a_disagreement_is_resolved_by_the_level_holding_it_not_its_raiser() -> None:
    """The probe: a supervisee raised and resolved their own disagreement."""
    ch = child()
    ch.raise_disagreement(prov(**RAISER), "D1", "decision_on_child", "x")  # type: ignore[arg-type]
    with pytest.raises(Forbidden) as caught:
        ch.resolve_disagreement(prov(**RAISER), "D1", "Resolved myself", rules=THREE_LEVELS)  # type: ignore[arg-type]
    assert caught.value.rule == "DisagreementIsResolvedByTheLevelHoldingIt TEST-1"
    ch.escalate_disagreement(prov(**RAISER), "D1", "Unresolved", rules=THREE_LEVELS)  # type: ignore[arg-type]
    ch.escalate_disagreement(prov(**RAISER), "D1", "Still", rules=THREE_LEVELS)  # type: ignore[arg-type]
    with pytest.raises(Forbidden) as caught:  # with the service manager: not a team manager's
        ch.resolve_disagreement(
            prov(actor="TM1", role="team_manager"), "D1", "x", rules=THREE_LEVELS
        )
    assert caught.value.rule == "DisagreementIsResolvedByTheLevelHoldingIt TEST-2"
    assert not ch.disagreements["D1"].resolved
    ch.resolve_disagreement(
        prov(actor="SM2", role="service_manager"), "D1", "Agreed", rules=THREE_LEVELS
    )
    assert ch.disagreements["D1"].resolved


@given(st.lists(st.sampled_from(["escalate", "resolve"]), max_size=8))
def test_disagreement_chain_property(steps: list[str]) -> None:
    """Whatever is attempted, escalations never pass the chain and resolution is final."""
    ch = child()
    ch.raise_disagreement(prov(**RAISER), "D1", "decision_on_child", "x")  # type: ignore[arg-type]
    accepted = 0
    resolved = False
    for step in steps:
        try:
            if step == "escalate":
                ch.escalate_disagreement(prov(), "D1", "r", rules=THREE_LEVELS)
            else:
                ch.resolve_disagreement(_holder(ch), "D1", "r", rules=THREE_LEVELS)
        except RuleViolation:
            continue
        accepted += 1
        if step == "resolve":
            resolved = True
    found = ch.disagreements["D1"]
    assert len(found.escalations) <= len(ESCALATION_CHAIN)
    assert found.resolved == resolved
    assert len(ch.pending_events) == 2 + accepted  # registered + raised + accepted steps
    expected_escalations = 0
    done = False
    for step in steps:
        if done:
            break
        if step == "resolve":
            done = True
        elif expected_escalations < len(ESCALATION_CHAIN):
            expected_escalations += 1
    assert len(found.escalations) == expected_escalations


def test_legal_holds() -> None:
    ch = child()
    ch.place_legal_hold(prov(), "H1", "learning_review", "CSPR 2026/14")
    assert ch.under_legal_hold
    with pytest.raises(ValidationError) as caught:
        ch.place_legal_hold(prov(), "H2", "curiosity", "x")
    assert caught.value.field == "kind"
    ch.lift_legal_hold(prov(), "H1", "Review published")
    assert not ch.under_legal_hold
    with pytest.raises(ValidationError):
        ch.lift_legal_hold(prov(), "H1", "again")


def test_text_limits_are_enforced() -> None:
    ch = child()
    with pytest.raises(ValidationError) as caught:
        ch.raise_disagreement(prov(), "D1", "decision_on_child", "x" * 20_001)
    assert caught.value.field == "about"
    with pytest.raises(ValidationError):
        ch.raise_disagreement(prov(), "D1", "decision_on_child", "nul\x00byte")
