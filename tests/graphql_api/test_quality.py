"""Quality-assurance audits end to end over GraphQL (ADR 0023): the grandparent audits a
supervision file with Durham's tool, the auditor is the token's owner, a bad grade is a
typed problem naming the field and the rule with nothing written, the audited worker
disputes, a moderator the pack does not name is refused, and the audits and each
auditor's quota windows are served to those who read authority reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.vocabulary import Role
from graphql_api.relay import global_id
from tests.graphql_api.conftest import AUTHORITY, Api
from tests.graphql_api.test_every_mutation import PROBLEMS
from tests.helpers import topics

DURHAM = dict.fromkeys(
    ["agreement", "frequency", "record-shared", "record-signed", "case-records"], True
)


def _mutation(name: str) -> str:
    field = name[0].lower() + name[1:]
    return (
        f"mutation($input: {name}Input!, $key: String!, $at: DateTime) {{ "
        f"{field}(input: $input, idempotencyKey: $key, occurredAt: $at) {{ {PROBLEMS} }} }}"
    )


AUDIT = _mutation("AuditSupervisionFile")
DISPUTE = _mutation("DisputeAudit")
MODERATE = _mutation("ModerateAudit")


def _input(key: str, **fields: Any) -> dict[str, Any]:
    return {"input": fields, "key": key, "at": "2026-02-10T10:00:00+00:00"}


def _answers(by_item: dict[str, bool]) -> list[dict[str, object]]:
    """An audit tool's answers as the API takes and gives them: one object per item."""
    return [{"item": item, "yes": yes} for item, yes in by_item.items()]


def test_an_audit_over_graphql(api: Api) -> None:
    sm1 = api.token("SM1", Role.SERVICE_MANAGER)
    audit = {
        "staffId": "SW1",
        "auditId": "QA1",
        "periodFrom": "2025-08-01",
        "periodTo": "2026-01-31",
        "answers": _answers({**DURHAM, "frequency": False}),
        "judgement": "Standards not followed",
    }
    before = len(topics(api.application))
    bad = api.query(AUDIT, sm1, _input("k0", **{**audit, "answers": _answers({"1.1": True})}))
    problem = bad["auditSupervisionFile"]
    assert problem["__typename"] == "RuleViolationProblem"
    assert problem["field"] == "answers.1.1"
    assert problem["rule"] == "AuditIsGradedWithItsAuthoritysTool DUR-7"
    bad = api.query(AUDIT, sm1, _input("k1", **{**audit, "judgement": "Good"}))
    assert bad["auditSupervisionFile"]["field"] == "judgement"
    tm1 = api.token("TM1", Role.TEAM_MANAGER)  # the line manager: not the grandparent
    refused = api.query(AUDIT, tm1, _input("k2", **audit))["auditSupervisionFile"]
    assert refused["__typename"] == "ForbiddenProblem" and "DUR-7" in refused["rule"]
    assert len(topics(api.application)) == before  # nothing written

    done = api.query(AUDIT, sm1, _input("k3", **audit))["auditSupervisionFile"]
    assert done["__typename"] == "CommandSuccess"
    sw1 = api.token("SW1", Role.PRACTITIONER)
    disputed = api.query(
        DISPUTE, sw1, _input("k4", staffId="SW1", auditId="QA1", reasons="Sessions were held.")
    )
    assert disputed["disputeAudit"]["__typename"] == "CommandSuccess"
    # Durham's moderator is the auditor's line manager: SM1 has none, so no one here.
    moderated = api.query(
        MODERATE,
        sm1,
        _input("k5", staffId="SW1", auditId="QA1", judgement="Standards followed", rationale="x"),
    )["moderateAudit"]
    assert moderated["__typename"] == "ForbiddenProblem"
    assert moderated["rule"] == "AuditIsModeratedByTheModeratorItsPackNames DUR-7"

    api.catch_up()
    listed = api.query(
        """query { qualityAudits(asOf: "2026-12-31", since: "2026-01-01") {
          auditId auditorId supervisorId judgement concern ruleId disputedBy
          answers { item yes } } }""",
        sm1,
    )["qualityAudits"]
    assert listed == [
        {
            "auditId": "QA1",
            "auditorId": "SM1",
            "supervisorId": "TM1",
            "judgement": "Standards not followed",
            "concern": True,
            "ruleId": "DUR-7",
            "disputedBy": "SW1",
            "answers": sorted(
                _answers({**DURHAM, "frequency": False}), key=lambda a: str(a["item"])
            ),
        }
    ]
    quotas = api.query(
        """query { auditQuotas(asOf: "2027-01-31", since: "2026-01-01", auditorId: "SM1") {
          ruleKey startsOn endsOn due done status files sentence } }""",
        sm1,
    )["auditQuotas"]
    [year] = [q for q in quotas if q["startsOn"] == "2026-01-01"]
    # Each of the files SM1 is grandparent to (SW1, SW2, SW3), annually: one done.
    assert (year["due"], year["done"], year["status"]) == (3, 1, "BREACHED")
    assert year["files"] == ["SW1", "SW2", "SW3"]
    assert "[DUR-7]" in year["sentence"]
    # A practitioner reads no authority report.
    error = api.error("""query { auditQuotas(asOf: "2026-12-31") { due } }""", sw1)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert date(2026, 1, 1).isoformat() == year["startsOn"]

    # The audit is a Node: its id reads it again as qualityAudits does (an authority
    # report), and to no one who may not read that report.
    (with_id,) = api.query(
        """query { qualityAudits(asOf: "2026-12-31", since: "2026-01-01") { id auditId } }""",
        sm1,
    )["qualityAudits"]
    node = """query($id: ID!) { node(id: $id) { id ... on QualityAudit { auditId judgement } } }"""
    again = api.query(node, sm1, {"id": with_id["id"]})["node"]
    assert again == {"id": with_id["id"], "auditId": "QA1", "judgement": "Standards not followed"}
    assert api.error(node, sw1, {"id": with_id["id"]})["extensions"]["code"] == "FORBIDDEN"
    for forged in ("worker/SW1/QA404", "child/SW1/QA1", "nonsense"):
        missing = global_id("QualityAudit", AUTHORITY, forged)
        assert api.error(node, sm1, {"id": missing})["extensions"]["code"] == "NOT_FOUND"
