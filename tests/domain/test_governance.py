"""Each authority's escalation chain, roles and write rules, from its own pack (ADR 0022):
the domain allows only the next level of the subject's authority's chain, refuses past its
top citing that pack's clause, and binds an authority by no other council's write rule.
A pack whose chain has a gap, or names an unknown role or clause, is refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import Forbidden, RuleViolation
from domain.governance import Approval, WriteRuleKind
from domain.policy.packs import BUILT_IN, PackError, PackLibrary
from domain.rules import PersonalRecordHoldsNoServiceUserInformation
from domain.vocabulary import DisagreementSubject, EscalationLevel, Role
from tests.domain.aggregates import child, prov, rules, worker, written_record

RAISER = prov(actor="SW1", role="practitioner")


def test_shropshires_first_level_is_the_service_manager() -> None:
    """SHR-APP1d: "either party may refer the issue for resolution to the appropriate
    Service Manager"; supervision practice goes to the supervisor's line manager."""
    shr = rules("SHR")
    decisions = shr.chain_for(DisagreementSubject.DECISION_ON_CHILD)
    assert decisions is not None
    assert [(lvl.level, lvl.roles, lvl.rule_id) for lvl in decisions.levels] == [
        (EscalationLevel.SERVICE_MANAGER, frozenset({Role.SERVICE_MANAGER}), "SHR-APP1d")
    ]
    practice = shr.chain_for(DisagreementSubject.SUPERVISION_PRACTICE)
    assert practice is not None
    assert practice.levels[0].level is EscalationLevel.SUPERVISORS_LINE_MANAGER


def test_each_built_in_pack_has_its_own_sources_chain() -> None:
    def levels(pack: str, about: DisagreementSubject) -> list[str] | None:
        chain = rules(pack).chain_for(about)
        return None if chain is None else [lvl.level.value for lvl in chain.levels]

    decision, frequency = (
        DisagreementSubject.DECISION_ON_CHILD,
        DisagreementSubject.SUPERVISION_FREQUENCY,
    )
    assert levels("DUR", decision) == ["supervisors_line_manager"]  # DUR-4.10
    assert levels("POR", frequency) == ["supervisors_line_manager", "head_of_service"]  # POR-3.1a
    assert levels("POR", decision) is None  # POR-6.2a: differing views noted, no chain
    assert levels("DEV", decision) is None and levels("BUR", decision) is None
    assert rules("SWRB").chains == () and rules("SWRB").write_rules == ()


@pytest.mark.parametrize(
    ("pack", "subject", "top"),
    [
        ("DUR", "decision_on_child", "DUR-4.10"),
        ("SHR", "decision_on_child", "SHR-APP1d"),
        ("SHR", "supervision_practice", "SHR-APP1d"),
    ],
)
def test_escalation_past_the_top_is_refused_citing_the_authoritys_own_rule(
    pack: str, subject: str, top: str
) -> None:
    subject_of = child() if subject == "decision_on_child" else worker()
    subject_of.raise_disagreement(RAISER, "D1", subject, "x")
    chain = rules(pack).chain_for(DisagreementSubject(subject))
    assert chain is not None
    for _ in chain.levels:
        subject_of.escalate_disagreement(RAISER, "D1", "Unresolved", rules=rules(pack))
    with pytest.raises(RuleViolation) as caught:
        subject_of.escalate_disagreement(RAISER, "D1", "Again", rules=rules(pack))
    assert caught.value.rule == f"DisagreementEscalatesWithinItsChain {top}"
    assert subject_of.disagreements["D1"].escalations == tuple(lvl.level for lvl in chain.levels)


def test_portsmouths_frequency_dispute_goes_to_the_line_manager_then_the_head_of_service() -> None:
    w = worker()
    w.raise_disagreement(RAISER, "D1", "supervision_frequency", "Six-weekly is too seldom")
    w.escalate_disagreement(RAISER, "D1", "Unresolved", rules=rules("POR"))
    w.escalate_disagreement(RAISER, "D1", "Still", rules=rules("POR"))
    with pytest.raises(Forbidden) as caught:  # with the Head of Service now
        w.resolve_disagreement(
            prov(actor="SM1", role="service_manager"), "D1", "x", rules=rules("POR")
        )
    assert caught.value.rule == "DisagreementIsResolvedByTheLevelHoldingIt POR-3.1a"
    with pytest.raises(RuleViolation) as top:
        w.escalate_disagreement(RAISER, "D1", "Again", rules=rules("POR"))
    assert top.value.rule == "DisagreementEscalatesWithinItsChain POR-3.1a"
    w.resolve_disagreement(
        prov(actor="HOS1", role="head_of_service"), "D1", "Agreed", rules=rules("POR")
    )
    with pytest.raises(RuleViolation) as again:
        w.resolve_disagreement(
            prov(actor="HOS1", role="head_of_service"), "D1", "x", rules=rules("POR")
        )
    assert again.value.rule == "DisagreementIsResolvedOnce POR-3.1a"


def test_a_pack_with_no_chain_for_the_subject_refuses_escalation() -> None:
    for pack in ("DEV", "BUR", "POR"):
        ch = child()
        ch.raise_disagreement(RAISER, "D1", "decision_on_child", "x")
        with pytest.raises(RuleViolation) as caught:
            ch.escalate_disagreement(RAISER, "D1", "Unresolved", rules=rules(pack))
        assert caught.value.rule == "DisagreementEscalatesWithinItsChain"
        assert pack in str(caught.value)
        ch.resolve_disagreement(prov(), "D1", "Agreed in supervision", rules=rules(pack))


def test_write_rules_are_the_pack_of_the_authority_that_has_them() -> None:
    assert rules("POR").approvers(Approval.FREQUENCY_EXCEPTION) is not None
    assert rules("DUR").approvers(Approval.FREQUENCY_EXCEPTION) is None
    assert rules("DUR").write_rule(WriteRuleKind.COMMENT_REMOVED_BY_ORIGINAL_SUPERVISORS_MANAGER)
    assert not rules("POR").write_rule(
        WriteRuleKind.COMMENT_REMOVED_BY_ORIGINAL_SUPERVISORS_MANAGER
    )
    assert rules("POR").write_rule(WriteRuleKind.NO_SERVICE_USER_INFORMATION)
    assert not rules("DUR").write_rule(WriteRuleKind.NO_SERVICE_USER_INFORMATION)


def test_a_comment_removal_durham_refuses_is_accepted_for_portsmouth() -> None:
    for pack, refused in (("DUR", True), ("POR", False)):
        w = worker()
        written_record(w)
        removal = {
            "record_id": "R1",
            "field_name": "wellbeing",
            "reason": "Damaging",
            "original_supervisors_manager_id": "SM1",
        }
        if refused:
            with pytest.raises(Forbidden) as caught:
                w.remove_comment(prov(actor="TM2"), **removal, rules=rules(pack))  # type: ignore[arg-type]
            assert caught.value.rule == "CommentRemovedOnlyByTheOriginalSupervisorsManager DUR-4.8b"
        else:
            w.remove_comment(prov(actor="TM2"), **removal, rules=rules(pack))  # type: ignore[arg-type]
            assert w.entries["R1"].current()["wellbeing"] is None


def test_a_supervisee_confirming_first_is_refused_for_portsmouth_and_accepted_for_durham() -> None:
    for pack, refused in (("POR", True), ("DUR", False)):
        w = worker()
        written_record(w)
        confirm = prov(actor="SW1", role="supervisee")
        if refused:
            with pytest.raises(RuleViolation) as caught:
                w.sign_personal_supervision_record(confirm, record_id="R1", rules=rules(pack))
            assert caught.value.rule == "SupervisorSignsBeforeSuperviseeConfirms POR-6.2b"
        else:
            w.sign_personal_supervision_record(confirm, record_id="R1", rules=rules(pack))
            assert w.records["R1"].signed_by == ("supervisee",)


def test_a_record_naming_a_child_is_refused_for_portsmouth_and_accepted_for_durham() -> None:
    texts = {"workload": "Worried about C1234"}
    por = rules("POR").write_rule(WriteRuleKind.NO_SERVICE_USER_INFORMATION)
    with pytest.raises(RuleViolation) as caught:
        PersonalRecordHoldsNoServiceUserInformation.check(texts, ["C1234"], [], por)
    assert caught.value.rule == "PersonalRecordHoldsNoServiceUserInformation POR-6.2b"
    dur = rules("DUR").write_rule(WriteRuleKind.NO_SERVICE_USER_INFORMATION)
    PersonalRecordHoldsNoServiceUserInformation.check(texts, ["C1234"], [], dur)


def test_a_management_decision_cites_the_authoritys_own_clause() -> None:
    for pack, cited in (("DEV", " DEV-6g"), ("POR", " POR-3.3"), ("BUR", " BUR-AH"), ("SHR", "")):
        ch = child()
        with pytest.raises(Forbidden) as caught:
            ch.record_management_decision(
                prov(actor="SW1", role="practitioner"),
                entry_id="MD1",
                decision="x",
                rationale="y",
                consulted_by="SW1",
                rules=rules(pack),
            )
        assert caught.value.rule == f"ManagementOversightIsAManagersDecision{cited}"


# -- bad packs are refused at load, naming the file, the field and the reason --------------

HEAD = '[pack]\nid = "XYZ"\nextends = "SWRB"\n\n[[recorded]]\nid = "XYZ-1"\nreason = "A chain"\n\n'
ROLES = '[roles]\nteam_manager = "Team Manager"\nservice_manager = "Service Manager"\n\n'


def _level(number: int, name: str, role: str = "team_manager", rule: str = "XYZ-1") -> str:
    return (
        f'[[chain.level]]\nlevel = {number}\nname = "{name}"\nroles = ["{role}"]\nid = "{rule}"\n\n'
    )


CHAIN = '[[chain]]\nid = "XYZ-1"\nabout = ["decision_on_child"]\n\n'


def _load(tmp_path: Path, text: str) -> PackLibrary:
    (tmp_path / "xyz.toml").write_text(text)
    return PackLibrary.load([BUILT_IN, tmp_path])


def test_a_well_formed_chain_loads(tmp_path: Path) -> None:
    text = HEAD + ROLES + CHAIN + _level(1, "supervisors_line_manager")
    text += _level(2, "service_manager", "service_manager")
    chain = (
        _load(tmp_path, text).get("XYZ").authority.chain_for(DisagreementSubject.DECISION_ON_CHILD)
    )
    assert chain is not None and [lvl.number for lvl in chain.levels] == [1, 2]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (  # a gap: levels 1 and 3
            ROLES + CHAIN + _level(1, "supervisors_line_manager") + _level(3, "head_of_service"),
            "chain[0].level[1].level",
            "the chain has a gap: its levels are [1, 3], no level 2",
        ),
        (  # a role the pack does not declare
            ROLES + CHAIN + _level(1, "head_of_service", "head_of_service"),
            "chain[0].level[0].roles",
            "unknown role 'head_of_service': declare it in [roles]",
        ),
        (  # a role that is none of the vocabulary's
            '[roles]\nchief_listener = "Chief Listener"\n\n',
            "roles.chief_listener",
            "unknown role 'chief_listener'",
        ),
        (  # a clause the pack does not account for
            ROLES + CHAIN.replace("XYZ-1", "SHR-APP1d") + _level(1, "service_manager"),
            "chain[0].id",
            "cites SHR-APP1d, a rule ID this pack does not account for",
        ),
        (
            ROLES + CHAIN + _level(1, "regional_director"),
            "chain[0].level[0].name",
            "unknown level name 'regional_director'",
        ),
        (
            ROLES + CHAIN + _level(1, "service_manager") + CHAIN + _level(1, "service_manager"),
            "chain[1].about",
            "two chains are about decision_on_child",
        ),
        (
            ROLES + '[[write_rule]]\nid = "XYZ-1"\nkind = "veto"\ntitle = "t"\n',
            "write_rule[0].kind",
            "unknown write rule kind 'veto'",
        ),
        (
            ROLES
            + '[[write_rule]]\nid = "XYZ-1"\nkind = "approved_by"\n'
            + 'approves = "frequency_exception"\n'
            + 'roles = ["head_of_service"]\ntitle = "t"\n',
            "write_rule[0].roles",
            "unknown role 'head_of_service'",
        ),
        (
            ROLES + '[[write_rule]]\nid = "XYZ-1"\nkind = "supervisor_signs_first"\n'
            'roles = ["team_manager"]\ntitle = "t"\n',
            "write_rule[0].roles",
            "supervisor_signs_first takes no roles",
        ),
    ],
)
def test_a_bad_chain_role_or_write_rule_is_refused_at_load_and_nothing_is_adopted(
    tmp_path: Path, body: str, field: str, words: str
) -> None:
    with pytest.raises(PackError) as caught:
        _load(tmp_path, HEAD + body)
    assert caught.value.field == field
    assert str(caught.value).startswith("xyz.toml")
    assert words in str(caught.value)


def test_a_pack_inherits_its_parents_chains_and_write_rules_and_replaces_by_subject(
    tmp_path: Path,
) -> None:
    """An authority extends Durham's pack and refers decisions on a child to the Head of
    Service after the line manager: its other chains and its write rules stay Durham's."""
    text = (
        '[pack]\nid = "DUR-LOCAL"\nextends = "DUR"\n\n[roles]\nhead_of_service = "Head"\n\n'
        '[[chain]]\nid = "DUR-4.10"\nabout = ["decision_on_child"]\n\n'
        + _level(1, "supervisors_line_manager", "team_manager", "DUR-4.10")
        + _level(2, "head_of_service", "head_of_service", "DUR-4.10")
    )
    (tmp_path / "dur-local.toml").write_text(text)
    local = PackLibrary.load([BUILT_IN, tmp_path]).get("DUR-LOCAL").authority
    decisions = local.chain_for(DisagreementSubject.DECISION_ON_CHILD)
    assert decisions is not None and len(decisions.levels) == 2
    practice = local.chain_for(DisagreementSubject.SUPERVISION_PRACTICE)
    durham = rules("DUR").chain_for(DisagreementSubject.SUPERVISION_PRACTICE)
    assert practice is not None and durham is not None
    assert practice.levels == durham.levels
    assert DisagreementSubject.DECISION_ON_CHILD not in practice.about
    assert local.write_rules == rules("DUR").write_rules
