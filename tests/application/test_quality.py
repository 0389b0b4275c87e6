"""Quality-assurance audits through the application (ADR 0023): graded against the
subject's own authority's tool, by the auditor its pack names, disputed by the audited,
moderated by the auditor's line manager; every bad input refused, typed, nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application.app import OversightApplication
from domain import commands as c
from domain.errors import DomainError, Forbidden, NotFound, RuleViolation, ValidationError
from domain.events import QualityAuditDisputed, QualityAuditModerated, SupervisionFileAudited
from domain.vocabulary import Role
from tests.helpers import (
    NOW,
    START,
    actor,
    common,
    kinds,
    register_child,
    register_worker,
    setup_authority,
)

SHR_FOLDER = {
    **dict.fromkeys(["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"], True),
    **dict.fromkeys(["2.1", "2.2", "2.3", "2.4", "2.5"], False),
}
WHEN = NOW - timedelta(days=1)


def _line(app: OversightApplication, pack: str = "SHR") -> None:
    """HOS1 > SM1 > TM1 > SW1, and a child C1 allocated to SW1."""
    setup_authority(app, pack=pack)
    register_worker(app, "HOS1", role="head_of_service", line_manager_id=None, case_holding=False)
    register_worker(app, "SM1", role="service_manager", line_manager_id="HOS1", case_holding=False)
    register_worker(app, "TM1", role="team_manager", line_manager_id="SM1", case_holding=False)
    register_worker(app, "SW1", role="social_worker", line_manager_id="TM1")
    register_child(app, "C1")
    app.execute(
        c.AllocateWorker(
            **common(START + timedelta(days=1)),
            child_id="C1",
            worker_id="SW1",
            reason="NEW",
            team="Team A",
        )
    )


def _as(staff_id: str, role: Role = Role.SERVICE_MANAGER) -> Any:
    return actor(staff_id, role)


def _audit(who: str = "SM1", **overrides: Any) -> c.AuditSupervisionFile:
    fields: dict[str, Any] = {
        "staff_id": "SW1",
        "audit_id": "A1",
        "period_from": (WHEN - timedelta(days=180)).date(),
        "period_to": WHEN.date(),
        "answers": dict(SHR_FOLDER),
        "judgement": "Requires Improvement",
        "comment": "Reflection thin.",
    }
    fields.update(overrides)
    return c.AuditSupervisionFile(**common(WHEN, _as(who)), **fields)


def test_the_grandparent_audits_a_file_with_the_authoritys_tool(app: OversightApplication) -> None:
    _line(app)
    app.execute(_audit())
    worker = app.get_worker("TEST-LA", "SW1")
    audit = worker.audits["A1"]
    assert audit.auditor_id == "SM1"
    assert audit.audited == {"SW1", "TM1"}
    assert audit.judgement == "Requires Improvement"
    assert kinds(app)[-1] is SupervisionFileAudited


def _refused(app: OversightApplication, command: c.Command) -> DomainError:
    before = len(kinds(app))
    with pytest.raises(DomainError) as caught:
        app.execute(command)
    assert len(kinds(app)) == before  # nothing written
    return caught.value


def test_only_the_auditor_the_pack_names_audits(app: OversightApplication) -> None:
    _line(app)
    error = _refused(app, _audit("TM1"))  # the line manager, not the grandparent
    assert isinstance(error, Forbidden)
    assert error.field == "actor.id"
    assert error.rule is not None and "SHR-5.8" in error.rule
    assert "AuditedByTheRelationshipItsPackNames" in error.rule


@pytest.mark.parametrize(
    ("overrides", "field", "kind"),
    [
        ({"answers": {**SHR_FOLDER, "9.9": True}}, "answers.9.9", RuleViolation),
        ({"answers": {**SHR_FOLDER, "1.1": None}}, "answers", RuleViolation),
        ({"answers": {k: v for k, v in SHR_FOLDER.items() if k > "1.1"}}, "answers.1.1",
         RuleViolation),
        ({"answers": {**SHR_FOLDER, "1.1": "yes"}}, "answers", RuleViolation),
        ({"judgement": "Good enough"}, "judgement", RuleViolation),
        ({"period_to": (WHEN + timedelta(days=3)).date()}, "period_to", ValidationError),
        ({"period_from": WHEN.date(), "period_to": (WHEN - timedelta(days=2)).date()},
         "period_to", ValidationError),
        ({"audit_id": ""}, "audit_id", ValidationError),
        ({"comment": "x" * 10_001}, "comment", ValidationError),
    ],
)  # fmt: skip
def test_bad_grades_are_refused_naming_the_field_and_rule(
    app: OversightApplication, overrides: dict[str, Any], field: str, kind: type[DomainError]
) -> None:
    _line(app)
    error = _refused(app, _audit(**overrides))
    assert isinstance(error, kind)
    assert error.field == field
    if kind is RuleViolation:
        assert error.rule == "AuditIsGradedWithItsAuthoritysTool SHR-5.8"


def test_a_durham_audit_cannot_use_shropshires_tool(app: OversightApplication) -> None:
    _line(app, pack="DUR")
    error = _refused(app, _audit())
    assert isinstance(error, RuleViolation)
    assert error.field == "answers.1.1"  # not an item of Durham's tool
    assert error.rule == "AuditIsGradedWithItsAuthoritysTool DUR-7"
    answers = dict.fromkeys(
        ["agreement", "frequency", "record-shared", "record-signed", "case-records"], True
    )
    error = _refused(app, _audit(answers=answers))  # Shropshire's scale
    assert error.field == "judgement"
    app.execute(_audit(answers=answers, judgement="Standards followed"))


def test_an_authority_without_a_tool_refuses_audits(app: OversightApplication) -> None:
    _line(app, pack="DEV")
    error = _refused(app, _audit())
    assert isinstance(error, RuleViolation)
    assert error.field == "answers"


def test_the_audited_dispute_and_the_auditors_manager_moderates(
    app: OversightApplication,
) -> None:
    _line(app)
    app.execute(_audit())
    dispute = c.DisputeAudit(
        **common(WHEN, _as("SW1", Role.PRACTITIONER)),
        staff_id="SW1",
        audit_id="A1",
        reasons="The contract is on file, signed.",
    )
    for who in ("SM1", "HOS1"):  # neither the auditor nor the moderator disputes
        error = _refused(app, c.DisputeAudit(**{**vars(dispute), "actor": _as(who)}))
        assert isinstance(error, Forbidden)
        assert error.rule == "AuditIsDisputedByTheAudited SHR-5.8"
    error = _refused(app, c.DisputeAudit(**{**vars(dispute), "reasons": " "}))
    assert error.field == "reasons"
    app.execute(dispute)
    error = _refused(app, c.DisputeAudit(**{**vars(dispute), "command_id": "again"}))
    assert isinstance(error, RuleViolation) and error.field == "audit_id"

    moderate = c.ModerateAudit(
        **common(WHEN, _as("HOS1", Role.HEAD_OF_SERVICE)),
        staff_id="SW1",
        audit_id="A1",
        judgement="Good",
        rationale="The contract was on file.",
    )
    for who in ("SM1", "TM1"):  # the auditor; the audited supervisor
        error = _refused(app, c.ModerateAudit(**{**vars(moderate), "actor": _as(who)}))
        assert isinstance(error, Forbidden)
        assert error.rule == "AuditIsModeratedByTheModeratorItsPackNames SHR-5.8"
    error = _refused(app, c.ModerateAudit(**{**vars(moderate), "judgement": "Excellent"}))
    assert error.field == "judgement"
    error = _refused(app, c.ModerateAudit(**{**vars(moderate), "audit_id": "nope"}))
    assert isinstance(error, NotFound) and error.field == "audit_id"
    app.execute(moderate)
    audit = app.get_worker("TEST-LA", "SW1").audits["A1"]
    assert (audit.judgement, audit.moderated_by, audit.disputed_by) == ("Good", "HOS1", "SW1")
    assert kinds(app)[-2:] == [QualityAuditDisputed, QualityAuditModerated]
    error = _refused(app, c.ModerateAudit(**{**vars(moderate), "command_id": "again"}))
    assert isinstance(error, RuleViolation) and error.field == "audit_id"


def test_a_case_file_is_dip_sampled_by_the_supervisors_manager(
    app: OversightApplication,
) -> None:
    _line(app, pack="POR")
    answers = {"story": True, "analysis": True, "reflection": False, "actions": True}
    sample = c.AuditCaseFile(
        **common(WHEN, _as("SM1")),
        child_id="C1",
        audit_id="D1",
        period_from=(WHEN - timedelta(days=90)).date(),
        period_to=WHEN.date(),
        answers=answers,
        judgement="Not at the standard required",
    )
    error = _refused(app, c.AuditCaseFile(**{**vars(sample), "actor": _as("TM1")}))
    assert isinstance(error, Forbidden) and error.rule is not None and "POR-7" in error.rule
    app.execute(sample)
    audit = app.get_child("TEST-LA", "C1").audits["D1"]
    assert audit.audited == {"SW1", "TM1"}
    app.execute(
        c.DisputeAudit(
            **common(WHEN, _as("TM1", Role.TEAM_MANAGER)),
            child_id="C1",
            audit_id="D1",
            reasons="Reflection is in the session record.",
        )
    )
    assert app.get_child("TEST-LA", "C1").audits["D1"].disputed_by == "TM1"


def test_replay_gives_the_same_audits(app: OversightApplication) -> None:
    _line(app)
    app.execute(_audit())
    kept = app.get_worker("TEST-LA", "SW1").audits
    replayed = app.repository.get(app.get_worker("TEST-LA", "SW1").id)
    assert replayed.audits == kept
