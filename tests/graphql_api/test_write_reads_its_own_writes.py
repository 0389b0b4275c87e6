"""Authorisation reads its own writes (issue 20): a write is decided on the aggregates,
not on the read models, which settle later. With no projection running (the ``api``
fixture catches up once, on its own story, and never again), an authority, its team
and line-management chain, a worker and a child are set up and a supervision recorded
in consecutive requests: none of them waits for, or is refused by, the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from domain.vocabulary import Role
from projections.compliance import view
from tests.graphql_api.conftest import Api
from tests.graphql_api.test_every_mutation import PROBLEMS

NEW = "FRESH-LA"
DAY = "2026-03-02"


def _send(api: Api, token: str, mutation: str, key: str, values: dict[str, Any]) -> None:
    kind = mutation[0].upper() + mutation[1:]
    document = (
        f"mutation($input: {kind}Input!, $key: String!, $at: DateTime) "
        f"{{ {mutation}(input: $input, idempotencyKey: $key, occurredAt: $at) {{ {PROBLEMS} }} }}"
    )
    answer = api.query(document, token, {"input": values, "key": key, "at": f"{DAY}T10:00:00Z"})
    assert answer[mutation]["__typename"] == "CommandSuccess", (mutation, answer)


def test_consecutive_requests_set_up_a_chain_and_record_supervision_unsettled(api: Api) -> None:
    admin = api.token("ADMIN", Role.ADMINISTRATOR, authority=NEW)
    hr = api.token("HR1", Role.HR, authority=NEW)
    tm = api.token("TMX", Role.TEAM_MANAGER, authority=NEW)
    sw = api.token("SWX", Role.PRACTITIONER, authority=NEW)
    _send(api, admin, "registerAuthority", "a",
          {"authorityCode": NEW, "name": "Fresh", "policyPack": "DUR"})  # fmt: skip
    worker = {
        "displayName": "x", "role": "social_worker", "team": "Team N",
        "employmentPattern": "full_time", "fte": "1", "engagement": "permanent",
        "startDate": "2026-01-05", "caseHolding": True,
    }  # fmt: skip
    _send(api, hr, "registerWorker", "w1", {**worker, "staffId": "TMX", "role": "team_manager",
                                            "lineManagerId": None})  # fmt: skip
    _send(api, hr, "registerWorker", "w2", {**worker, "staffId": "SWX", "lineManagerId": None})
    _send(api, hr, "changeLineManager", "lm", {"staffId": "SWX", "lineManagerId": "TMX"})
    _send(api, tm, "registerChild", "c1", {"childId": "CX", "dateOfBirth": "2016-04-01",
                                           "caseType": "cin", "riskLevel": "low"})  # fmt: skip
    _send(api, tm, "allocateWorker", "al",
          {"childId": "CX", "workerId": "SWX", "reason": "NEW", "team": "Team N"})  # fmt: skip
    terms = {"staffId": "SWX", "agreementId": "SA", "supervisorId": "TMX", "frequency": "P4W",
             "supervisionFormat": "individual", "reviewDueOn": "2027-01-05",
             "escalationManagerId": "TMX"}  # fmt: skip
    _send(api, tm, "signSupervisionAgreement", "sa-tm", terms)
    _send(api, sw, "signSupervisionAgreement", "sa-sw", terms)
    discussion = {
        "childId": "CX", "entryId": "CS1", "currentSituation": "Settled",
        "childLastSeenOn": "2026-03-01", "childsViews": "Happy", "reflection": "x",
        "analysis": "x", "decision": "x", "rationale": "x", "actions": [],
    }  # fmt: skip
    _send(api, tm, "holdSupervisionSession", "s1", {
        "staffId": "SWX", "sessionId": "S1", "supervisorId": "TMX", "durationMinutes": 60,
        "functionsCovered": ["management"], "wellbeingDiscussed": True,
        "equalityAndDiversityDiscussed": True, "caseDiscussions": [discussion],
    })  # fmt: skip
    trigger = {"childId": "CX", "triggerId": "T1", "kind": "court_direction", "detail": "ICO"}
    _send(api, sw, "triggerOversight", "t1", trigger)
    # Nothing of this authority has reached the read models: every decision above was
    # made on the aggregates.
    subject = view("compliance_subject")
    with api.engine.connect() as conn:
        settled = conn.execute(
            select(func.count()).select_from(subject).where(subject.c.authority_code == NEW)
        ).scalar_one()
    assert settled == 0
    # And what the aggregates say is still decided per person: the supervisee may not
    # record their own case supervision.
    answer = api.query(
        "mutation($input: RecordCaseSupervisionInput!) { recordCaseSupervision(input: $input, "
        f"idempotencyKey: \"cs-sw\") {{ {PROBLEMS} }} }}",
        sw,
        {"input": {**discussion, "entryId": "CS2", "workerId": "SWX", "supervisorId": "TMX",
                   "previousActionsReviewed": "x"}},
    )["recordCaseSupervision"]  # fmt: skip
    assert answer["__typename"] == "ForbiddenProblem", answer
    assert answer["rule"] == "CaseSupervisionIsAManagersRecord DUR-4.7b"  # Durham's own clause
