"""Each authority is held to its own pack's chain, roles and write rules, through the
application and the store (ADR 0022): an act one council's pack refuses is accepted for
another whose pack lacks the rule, both ways, and the refusal cites the subject's own
authority's clause."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application.app import OversightApplication
from domain import commands as c
from domain.errors import Forbidden, RuleViolation
from domain.vocabulary import EscalationLevel, Role
from tests.helpers import (
    AUTHORITY,
    NOW,
    actor,
    common,
    register_child,
    register_worker,
    setup_authority,
)

SUP = actor("TM1", Role.SUPERVISOR)
TEAM_MANAGER = actor("TM1", Role.TEAM_MANAGER)
SM = actor("SM1", Role.SERVICE_MANAGER)
HOS = actor("HOS1", Role.HEAD_OF_SERVICE)
SW = actor("SW1", Role.PRACTITIONER)
ME = actor("SW1", Role.SUPERVISEE)
W = {"staff_id": "SW1"}


def _staff(app: OversightApplication, pack: str) -> None:
    setup_authority(app, pack=pack)
    register_worker(app, "SM1", role="service_manager", case_holding=False, line_manager_id="HOS1")
    register_worker(app, "TM1", role="team_manager", case_holding=False, line_manager_id="SM1")
    register_worker(app, "SW1")


def _agreement(app: OversightApplication) -> None:
    terms: dict[str, Any] = {
        "agreement_id": "SA1",
        "supervisor_id": "TM1",
        "frequency": "P4W",
        "supervision_format": "individual",
        "review_due_on": (NOW + timedelta(days=300)).date(),
        "escalation_manager_id": "SM1",
    }
    t = NOW - timedelta(days=20)
    app.execute(c.SignSupervisionAgreement(**common(t, SUP), **W, **terms))
    app.execute(c.SignSupervisionAgreement(**common(t, ME), **W, **terms))


def _exception(who: Any) -> c.ApproveFrequencyException:
    return c.ApproveFrequencyException(
        **common(NOW - timedelta(days=10), who),
        **W,
        agreement_id="SA1",
        frequency="P6W",
        reason="Experienced",
    )


def _record(app: OversightApplication, workload: str = "High") -> None:
    held = NOW - timedelta(days=5)
    app.execute(
        c.HoldSupervisionSession(
            **common(held, SUP),
            **W,
            session_id="S1",
            supervisor_id="TM1",
            duration_minutes=90,
            functions_covered=["management"],
            wellbeing_discussed=True,
            equality_and_diversity_discussed=False,
            case_discussions=[],
        )
    )
    app.execute(
        c.WritePersonalSupervisionRecord(
            **common(held + timedelta(days=1), SUP),
            **W,
            record_id="R1",
            session_id="S1",
            actions_reviewed="Reviewed",
            wellbeing="Well",
            workload=workload,
            development="Training",
            disagreements=None,
            agreed_actions=[],
        )
    )


def test_a_team_managers_frequency_exception_is_refused_by_por_and_accepted_by_dur(
    app: OversightApplication,
) -> None:
    """POR-3.1a: only the Head of Service approves supervision less often than four-weekly;
    Durham's policy has no such rule, so its authority is not bound by it."""
    _staff(app, "POR")
    _agreement(app)
    with pytest.raises(Forbidden) as caught:
        app.execute(_exception(TEAM_MANAGER))
    assert caught.value.rule == "ApprovedOnlyByTheRolesItsPackNames POR-3.1a"
    app.execute(_exception(HOS))
    assert app.get_worker(AUTHORITY, "SW1").frequency_exception is not None


def test_durham_is_not_bound_by_portsmouths_frequency_exception_rule(
    app: OversightApplication,
) -> None:
    _staff(app, "DUR")
    _agreement(app)
    app.execute(_exception(TEAM_MANAGER))
    assert app.get_worker(AUTHORITY, "SW1").frequency_exception is not None


def test_adopting_another_pack_binds_the_authority_by_its_rules_from_then_on(
    app: OversightApplication,
) -> None:
    _staff(app, "DUR")
    _agreement(app)
    app.execute(c.AdoptPolicyPack(**common(NOW - timedelta(days=15)), policy_pack="POR"))
    with pytest.raises(Forbidden) as caught:
        app.execute(_exception(TEAM_MANAGER))
    assert "POR-3.1a" in str(caught.value.rule)


def _remove_comment(who: Any) -> c.RemoveComment:
    return c.RemoveComment(
        **common(NOW - timedelta(days=2), who),
        **W,
        record_id="R1",
        field_name="workload",
        reason="Damaging to the new relationship",
    )


def test_a_comment_removed_by_another_manager_is_refused_by_dur_and_accepted_by_por(
    app: OversightApplication,
) -> None:
    """DUR-4.8b: only the manager of the original supervisor (TM1's manager, SM1)."""
    _staff(app, "DUR")
    _record(app)
    with pytest.raises(Forbidden) as caught:
        app.execute(_remove_comment(HOS))
    assert caught.value.rule == "CommentRemovedOnlyByTheOriginalSupervisorsManager DUR-4.8b"
    app.execute(_remove_comment(SM))


def test_portsmouth_is_not_bound_by_durhams_comment_removal_rule(
    app: OversightApplication,
) -> None:
    _staff(app, "POR")
    _record(app)
    app.execute(_remove_comment(HOS))
    entry = app.get_worker(AUTHORITY, "SW1").entries["R1"]
    assert entry.current()["workload"] is None


def test_a_record_naming_a_child_is_refused_by_por_and_accepted_by_dur(
    app: OversightApplication,
) -> None:
    """POR-6.2b: no service-user information in a personal record; not Durham's rule."""
    _staff(app, "POR")
    register_child(app, "C1234", name="Ezekiel Moonbeam")
    with pytest.raises(RuleViolation) as caught:
        _record(app, workload="Worried about C1234 at home")
    assert caught.value.rule == "PersonalRecordHoldsNoServiceUserInformation POR-6.2b"


def test_durham_is_not_bound_by_portsmouths_service_user_information_rule(
    app: OversightApplication,
) -> None:
    _staff(app, "DUR")
    register_child(app, "C1234", name="Ezekiel Moonbeam")
    _record(app, workload="Worried about C1234 at home")
    assert "R1" in app.get_worker(AUTHORITY, "SW1").records


def test_the_supervisee_confirms_first_only_where_the_pack_says_the_supervisor_signs_first(
    app: OversightApplication,
) -> None:
    """POR-6.2b: the supervisor completes and shares the record, then the supervisee
    confirms; Durham's record is signed by both, in either order [DUR-4.7a]."""
    _staff(app, "DUR")
    _record(app)
    confirm = c.SignPersonalSupervisionRecord(**common(NOW, ME), **W, record_id="R1")
    app.execute(confirm)
    assert app.get_worker(AUTHORITY, "SW1").records["R1"].signed_by == ("supervisee",)


def test_portsmouths_supervisee_confirms_only_after_the_supervisor_signs(
    app: OversightApplication,
) -> None:
    _staff(app, "POR")
    _record(app)
    with pytest.raises(RuleViolation) as caught:
        app.execute(c.SignPersonalSupervisionRecord(**common(NOW, ME), **W, record_id="R1"))
    assert caught.value.rule == "SupervisorSignsBeforeSuperviseeConfirms POR-6.2b"


def _disagreement(app: OversightApplication) -> dict[str, str]:
    register_child(app, "C1")
    ch = {"child_id": "C1"}
    app.execute(
        c.RaiseDisagreement(
            **common(NOW - timedelta(days=9), SW),
            **ch,
            disagreement_id="D1",
            subject="decision_on_child",
            about="No strategy meeting",
        )
    )
    return ch


def _escalate(ch: dict[str, str], days_ago: int) -> c.EscalateDisagreement:
    return c.EscalateDisagreement(
        **common(NOW - timedelta(days=days_ago), SW),
        **ch,
        disagreement_id="D1",
        reason="Not resolved in supervision",
    )


def _resolve(ch: dict[str, str], who: Any) -> c.ResolveDisagreement:
    return c.ResolveDisagreement(
        **common(NOW - timedelta(days=1), who), **ch, disagreement_id="D1", resolution="Agreed"
    )


def test_shropshire_refers_a_disagreement_to_the_service_manager_first_and_only(
    app: OversightApplication,
) -> None:
    """SHR-APP1d: either party refers the decision to the Service Manager; there is no
    level above in Shropshire's chain, and only the Service Manager resolves it, once."""
    _staff(app, "SHR")
    ch = _disagreement(app)
    app.execute(_escalate(ch, 8))
    found = app.get_child(AUTHORITY, "C1").disagreements["D1"]
    assert found.escalations == (EscalationLevel.SERVICE_MANAGER,)
    with pytest.raises(RuleViolation) as caught:
        app.execute(_escalate(ch, 7))
    assert caught.value.rule == "DisagreementEscalatesWithinItsChain SHR-APP1d"
    with pytest.raises(Forbidden) as refused:
        app.execute(_resolve(ch, TEAM_MANAGER))
    assert refused.value.rule == "DisagreementIsResolvedByTheLevelHoldingIt SHR-APP1d"
    app.execute(_resolve(ch, SM))
    with pytest.raises(RuleViolation) as again:
        app.execute(_resolve(ch, SM))
    assert again.value.rule == "DisagreementIsResolvedOnce SHR-APP1d"


def test_durham_refers_a_disagreement_to_the_supervisors_line_manager_and_no_further(
    app: OversightApplication,
) -> None:
    _staff(app, "DUR")
    ch = _disagreement(app)
    app.execute(_escalate(ch, 8))
    found = app.get_child(AUTHORITY, "C1").disagreements["D1"]
    assert found.escalations == (EscalationLevel.SUPERVISORS_LINE_MANAGER,)
    with pytest.raises(RuleViolation) as caught:
        app.execute(_escalate(ch, 7))
    assert caught.value.rule == "DisagreementEscalatesWithinItsChain DUR-4.10"
    app.execute(_resolve(ch, TEAM_MANAGER))


def test_devon_names_no_chain_so_a_disagreement_is_resolved_in_supervision(
    app: OversightApplication,
) -> None:
    _staff(app, "DEV")
    ch = _disagreement(app)
    with pytest.raises(RuleViolation) as caught:
        app.execute(_escalate(ch, 8))
    assert caught.value.rule == "DisagreementEscalatesWithinItsChain"
    app.execute(_resolve(ch, SUP))
