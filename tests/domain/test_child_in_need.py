"""A child in need on the Child (ADR 0026): episodes, assessments, section 47 enquiries,
conferences and plans; the census's invariants as typed errors naming the field; the
case type following a plan; key points only where the child's pack declares them."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from typing import Any

import pytest

from domain.child import Child
from domain.errors import DomainError, NotFound, ValidationError
from domain.events import (
    CaseSupervisionRecorded,
    CaseTypeChanged,
    ChildProtectionPlanEnded,
    ChildProtectionPlanReviewed,
    ChildProtectionPlanStarted,
    OversightTriggered,
    ReferralReceived,
    Section47EnquiryStarted,
)
from domain.policy.packs import PackError, parse_pack
from domain.vocabulary import CaseType
from tests.domain.aggregates import NOW, START, child, kinds, prov, replay, rules

DAY = START.date()


def _day(n: int) -> date:
    return DAY + timedelta(days=n)


def _in_need(**overrides: Any) -> Child:
    ch = child(case_type="cin", **overrides)
    ch.record_referral(
        prov(), entry_id="E1", referral_on=_day(1), referral_source="1A", primary_need="N1"
    )
    return ch


def _plan(ch: Child, pack: str = "DEV", **overrides: Any) -> None:
    args: dict[str, Any] = {
        "entry_id": "P1",
        "episode_id": "E1",
        "started_on": _day(10),
        "category_of_abuse": "NEG",
        "rules": rules(pack),
    }
    ch.start_child_protection_plan(prov(), **{**args, **overrides})


def _refused(call: Any, field: str, says: str = "", **kwargs: Any) -> None:
    with pytest.raises(DomainError) as caught:
        call(prov(), **kwargs)
    assert caught.value.field == field, caught.value
    assert says in str(caught.value)


def test_a_plan_makes_the_case_child_protection_and_its_end_child_in_need_again() -> None:
    ch = _in_need()
    _plan(ch, "DUR")
    assert ch.case_type is CaseType.CP and ch.open_cp_plan == "P1"
    ch.review_child_protection_plan(prov(), entry_id="P1", reviewed_on=_day(40), rules=rules("DUR"))
    ch.end_child_protection_plan(prov(), entry_id="P1", ended_on=_day(60), rules=rules("DUR"))
    assert kinds(ch)[-5:] == [
        ChildProtectionPlanStarted,
        CaseTypeChanged,
        ChildProtectionPlanReviewed,
        ChildProtectionPlanEnded,
        CaseTypeChanged,
    ]
    assert ch.case_type is CaseType.CIN and ch.open_cp_plan is None
    assert not ch.triggers  # Durham's pack declares no key point on a plan
    rebuilt = replay(ch)
    assert (rebuilt.case_type, rebuilt.open_cin_episode) == (CaseType.CIN, "E1")
    assert rebuilt.entries["P1"].current()["review_dates"] == [_day(40)]


def test_devons_pack_raises_its_key_points_9_and_11() -> None:
    ch = _in_need()
    _plan(ch, "DEV")
    assert [t.kind.value for t in ch.open_triggers] == ["threshold_change"]
    ch.review_child_protection_plan(prov(), entry_id="P1", reviewed_on=_day(40), rules=rules("DEV"))
    ch.end_child_protection_plan(prov(), entry_id="P1", ended_on=_day(40), rules=rules("DEV"))
    raised = [e for e in ch.pending_events if isinstance(e, OversightTriggered)]
    assert [(e.kind, e.detail) for e in raised] == [
        ("threshold_change", "DEV-6 (9)"),
        ("ending_cp_plan_at_first_review", "DEV-6 (11)"),
        ("threshold_change", "DEV-6 (9)"),
    ]
    assert all(e.automatic for e in raised)


def test_a_plan_ended_after_its_second_review_is_not_devons_point_11() -> None:
    ch = _in_need()
    _plan(ch, "DEV")
    for day in (30, 60):
        ch.review_child_protection_plan(
            prov(), entry_id="P1", reviewed_on=_day(day), rules=rules("DEV")
        )
    ch.end_child_protection_plan(prov(), entry_id="P1", ended_on=_day(60), rules=rules("DEV"))
    assert [t.kind.value for t in ch.open_triggers] == ["threshold_change", "threshold_change"]
    ended = next(e for e in ch.pending_events if isinstance(e, ChildProtectionPlanEnded))
    assert ended.at_review == 2


def test_the_census_invariants_refuse_with_the_field_and_the_code() -> None:
    ch = _in_need()
    referral = dict(entry_id="E2", referral_on=_day(5), referral_source="1A", primary_need="N1")
    _refused(ch.record_referral, "referral_on", "8820", **referral)
    _refused(ch.record_referral, "entry_id", "already used", **{**referral, "entry_id": "E1"})
    _refused(ch.record_referral, "primary_need", "", **{**referral, "primary_need": "N11"})
    _refused(
        ch.record_referral, "referral_on", "future",
        **{**referral, "referral_on": (NOW + timedelta(days=2)).date()},
    )  # fmt: skip
    assessment = dict(entry_id="A1", episode_id="E1", started_on=_day(9), authorised_on=_day(8))
    _refused(ch.record_assessment, "started_on", "8608", **assessment)
    _refused(
        ch.record_assessment, "factors", "8898",
        **{**assessment, "started_on": _day(2), "factors": ["2A", "2A"]},
    )  # fmt: skip
    with pytest.raises(NotFound) as missing:
        ch.record_section47_enquiry(prov(), entry_id="S1", episode_id="E9", started_on=_day(2))
    assert missing.value.field == "episode_id"
    plan: dict[str, Any] = {
        "entry_id": "P1", "episode_id": "E1", "started_on": _day(10),
        "category_of_abuse": "NEG", "rules": rules("DEV"),
    }  # fmt: skip
    _refused(
        ch.start_child_protection_plan, "category_of_abuse", **{**plan, "category_of_abuse": "X"}
    )
    _refused(ch.start_child_protection_plan, "started_on", "before the referral",
             **{**plan, "started_on": DAY})  # fmt: skip
    ch.start_child_protection_plan(prov(), **plan)
    _refused(ch.start_child_protection_plan, "started_on", "has not ended",
             **{**plan, "entry_id": "P2", "started_on": _day(11)})  # fmt: skip
    ended: dict[str, Any] = {"entry_id": "P1", "ended_on": _day(10), "rules": rules("DEV")}
    _refused(ch.end_child_protection_plan, "ended_on", "8840", **ended)
    _refused(ch.review_child_protection_plan, "reviewed_on", "after the plan's start",
             entry_id="P1", reviewed_on=_day(10), rules=rules("DEV"))  # fmt: skip
    close = {"entry_id": "E1", "closed_on": _day(30), "reason_for_closure": "RC8"}
    _refused(ch.close_child_in_need_episode, "closed_on", "8565", **close)
    ch.end_child_protection_plan(prov(), **{**ended, "ended_on": _day(20)})
    _refused(ch.review_child_protection_plan, "entry_id", "ended",
             entry_id="P1", reviewed_on=_day(21), rules=rules("DEV"))  # fmt: skip
    _refused(ch.close_child_in_need_episode, "reason_for_closure",
             **{**close, "reason_for_closure": "RC9"})  # fmt: skip
    _refused(ch.close_child_in_need_episode, "closed_on", "before its referral",
             **{**close, "closed_on": DAY})  # fmt: skip
    ch.close_child_in_need_episode(prov(), **close)
    _refused(ch.close_child_in_need_episode, "entry_id", "not open", **close)
    _refused(ch.start_child_protection_plan, "episode_id", "8565",
             **{**plan, "entry_id": "P3", "started_on": _day(31)})  # fmt: skip


def test_a_referral_with_no_further_action_opens_no_episode() -> None:
    ch = child(case_type="cin")
    ch.record_referral(
        prov(), entry_id="E1", referral_on=_day(1), referral_source="1A", primary_need="N9",
        no_further_action=True,
    )  # fmt: skip
    assert ch.open_cin_episode is None and kinds(ch)[-1] is ReferralReceived
    with pytest.raises(ValidationError) as caught:
        _plan(ch)
    assert caught.value.field == "episode_id"


def test_a_census_correction_changes_only_what_describes_a_module() -> None:
    ch = _in_need()
    ch.correct_entry(prov(), "E1", {"referral_source": "2B"}, "The census corrects it")
    assert ch.entries["E1"].current()["referral_source"] == "2B"
    with pytest.raises(DomainError) as caught:
        ch.correct_entry(prov(), "E1", {"referral_on": _day(2)}, "Not a census correction")
    assert "referral_on" in str(caught.value)


# -- [[key_point]] in a pack ---------------------------------------------------------------

SUPERVISED = CaseSupervisionRecorded.__name__
STARTED, ENDED = ChildProtectionPlanStarted.__name__, ChildProtectionPlanEnded.__name__
PACK = f"""
[pack]
id = "KP"
[[rule]]
id = "KP-1"
kind = "recurring"
subject = "child"
title = "Case supervision monthly"
events = ["{SUPERVISED}"]
interval = "P1M"
"""


def _pack(key_point: str) -> Any:
    return parse_pack(tomllib.loads(PACK + "[[key_point]]\n" + key_point), "kp.toml")


@pytest.mark.parametrize(
    ("key_point", "field", "says"),
    [
        (f'id = "DEV-6"\nkind = "threshold_change"\nevent = "{STARTED}"',
         "key_point[0].id", "not one of this pack's own rules"),
        (f'id = "KP-1"\nkind = "a_whim"\nevent = "{STARTED}"',
         "key_point[0].kind", "unknown key point kind"),
        ('id = "KP-1"\nkind = "threshold_change"\nevent = "PlanStarted"',
         "key_point[0].event", "not an event in the catalogue"),
        (f'id = "KP-1"\nkind = "threshold_change"\nevent = "{SUPERVISED}"',
         "key_point[0].event", "raises no declared key point"),
        (f'id = "KP-1"\nkind = "threshold_change"\nevent = "{ENDED}"\n'
         "when = { ended_on = 1 }", "key_point[0].when", "no field 'ended_on'"),
        (f'id = "KP-1"\nkind = "threshold_change"\nevent = "{ENDED}"\n'
         "also = 1", "key_point[0].also", "unknown parameter"),
    ],
)  # fmt: skip
def test_a_pack_key_point_that_is_not_its_own_or_not_a_census_event_is_refused(
    key_point: str, field: str, says: str
) -> None:
    with pytest.raises(PackError) as caught:
        _pack(key_point)
    assert caught.value.field == field and says in str(caught.value), caught.value


def test_a_pack_key_point_binds_its_own_authority_only() -> None:
    s47 = Section47EnquiryStarted.__name__
    pack = _pack(f'id = "KP-1"\nkind = "threshold_change"\nevent = "{s47}"')
    [point] = pack.authority.key_points
    assert point.detail == "KP-1" and point.event is Section47EnquiryStarted
    for council in ("POR", "DUR", "SHR", "BUR"):
        assert rules(council).key_points == ()
    assert {p.detail for p in rules("DEV").key_points} == {"DEV-6 (9)", "DEV-6 (11)"}


def test_a_looked_after_childs_plan_ends_back_to_looked_after() -> None:
    ch = _in_need()
    ch.record_came_into_care(prov(), legal_status="C2", placement="U1")
    _plan(ch, "DUR")
    assert ch.case_type is CaseType.CP
    ch.end_child_protection_plan(prov(), entry_id="P1", ended_on=_day(30), rules=rules("DUR"))
    assert ch.case_type is CaseType.CLA
